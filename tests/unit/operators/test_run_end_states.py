"""How the lifecycle reads a run's final state: the official client's own sets, one function at a time."""

from __future__ import annotations

import pytest

from airflow_civis.exceptions import CivisRunError
from airflow_civis.operators.jobs import CivisRunJobOperator
from airflow_civis.runs import RunRef


def _finished(mocker, state: str):
    task = CivisRunJobOperator(task_id="t", job_id=5, deferrable=False, fetch_logs=False, late_log_wait=0)
    mocker.patch.object(CivisRunJobOperator, "_copy_logs", return_value=[])
    mocker.patch.object(CivisRunJobOperator, "_forget")
    mocker.patch.object(CivisRunJobOperator, "_log_tail", return_value=["Traceback: boom"])
    mocker.patch.object(CivisRunJobOperator, "_read_outputs", return_value={"n": 1})
    return task._complete({}, RunRef("job", 5, 9), {"state": state})


@pytest.mark.parametrize("state", ["succeeded", "success"])  # civis.base.FINISHED
def test_a_run_that_ended_in_a_success_state_completes_the_task(mocker, state):
    assert _finished(mocker, state) == {"job_id": 5, "run_id": 9, "state": state, "outputs": {"n": 1}}


@pytest.mark.parametrize("state", ["failed", "cancelled", "exploded"])
def test_any_other_final_state_fails_it_with_the_log_tail(mocker, state):
    with pytest.raises(CivisRunError, match=state) as info:
        _finished(mocker, state)
    assert info.value.log_tail == ["Traceback: boom"]
