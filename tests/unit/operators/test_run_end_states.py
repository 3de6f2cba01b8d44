"""How the lifecycle reads a run's final state: the official client's own sets.

Through the public completion step (``execute_complete`` with the trigger's event), with the hook's
HTTP boundary scripted (``CivisHook(transport=...)``): the run's state, log tail and outputs are what
the API answers, and the requests show which of them the lifecycle asked for.
"""

from __future__ import annotations

import json

import pytest

from airflow_civis.exceptions import CivisRunError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.operators.jobs import CivisRunJobOperator
from airflow_civis.runs import RunRef
from tests.transports import Transport

RUN = RunRef("job", 5, 9)
LOG = [{"id": 1, "createdAt": "2030-01-01T00:00:00Z", "message": "starting", "level": "info"},
       {"id": 2, "createdAt": "2030-01-01T00:00:01Z", "message": "Traceback: boom", "level": "error"}]
OUTPUTS = [{"objectType": "JSONValue", "objectId": 3, "name": "n", "value": 1}]


@pytest.fixture(autouse=True)
def civis_connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CIVIS_DEFAULT", json.dumps(
        {"conn_type": "civis", "password": "k", "host": "https://api.example.test"}))


def _finished(state: str) -> tuple[object, list[str]]:
    def answer(request):
        path = request.path_url.split("?")[0]
        if path == RUN.path:
            return 200, {"id": RUN.run_id, "state": state, "error": None}
        if path == RUN.logs_path:
            return 200, LOG, {"Civis-Cache-Control": "max-age=31536000"}
        if path == RUN.outputs_path:
            return 200, OUTPUTS, {"X-Pagination-Total-Pages": "1"}
        return 404, {"error": "not_found", "errorDescription": f"no {path}", "code": 404}

    adapter = Transport(answer)
    task = CivisRunJobOperator(task_id="t", job_id=5, deferrable=False, fetch_logs=False, late_log_wait=0,
                               log_tail_lines=1)
    task.__dict__["hook"] = CivisHook(transport=adapter)  # the operator's hook, with its network scripted
    event = {"status": state, "run": RUN.to_dict()}
    try:
        return task.execute_complete({}, event), [path for _, path in adapter.sent]
    except CivisRunError as err:
        return err, [path for _, path in adapter.sent]


@pytest.mark.parametrize("state", ["succeeded", "success"])  # civis.base.FINISHED
def test_a_run_that_ended_in_a_success_state_completes_the_task(state):
    result, sent = _finished(state)
    assert result == {"job_id": 5, "run_id": 9, "state": state, "outputs": {"n": 1}}
    assert not any(path.startswith(RUN.logs_path) for path in sent)  # no tail read for a success


@pytest.mark.parametrize("state", ["failed", "cancelled", "exploded"])
def test_any_other_final_state_fails_it_with_the_log_tail(state):
    error, sent = _finished(state)
    assert isinstance(error, CivisRunError) and state in str(error)
    assert error.log_tail == ["Traceback: boom"]  # the last log_tail_lines=1 line, by id
    assert "Traceback: boom" in str(error)
    assert not any(path.startswith(RUN.outputs_path) for path in sent)  # a failed run's outputs are not read
