"""The shared run lifecycle, driven in-process against a real emulator: start, wait, complete, reattach."""

from __future__ import annotations

import pytest
from airflow.exceptions import TaskDeferred

from airflow_civis.exceptions import CivisRunError, CivisRunTimeoutError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.operators.base import STATE_STORE_KEY
from airflow_civis.operators.jobs import CivisRunJobOperator
from airflow_civis.operators.scripts import CivisRunScriptOperator
from airflow_civis.runs import RunRef
from airflow_civis.triggers.run import CivisRunTrigger
from tests.helpers import DictStateStore, first_event, make_context, wait_for_state

POST_OUTPUT = """
import json, os, urllib.request
api = os.environ["CIVIS_API_ENDPOINT"].rstrip("/")
h = {"Authorization": "Bearer " + os.environ["CIVIS_API_KEY"], "Content-Type": "application/json"}
def post(path, body):
    r = urllib.request.Request(api + path, data=json.dumps(body).encode(), headers=h)
    return json.load(urllib.request.urlopen(r))
v = post("/json_values", {"name": "answer", "valueStr": json.dumps({"n": 42})})
post(f"/scripts/python3/{os.environ['CIVIS_JOB_ID']}/runs/{os.environ['CIVIS_RUN_ID']}/outputs",
     {"objectType": "JSONValue", "objectId": v["id"]})
print("answer posted")
"""


def python_op(source: str, **kwargs) -> CivisRunScriptOperator:
    return CivisRunScriptOperator(
        task_id=kwargs.pop("task_id", "t"), script_type="python3", script={"source": source},
        poll_interval=0.1, **kwargs,
    )


def test_polling_mode_returns_outputs_and_pushes_ids_first(civis_conn):
    ctx = make_context()
    result = python_op(POST_OUTPUT, deferrable=False).execute(ctx)
    assert result["state"] == "succeeded"
    assert result["outputs"] == {"answer": {"n": 42}}
    xcom = ctx["ti"].xcom
    assert xcom["job_id"] == result["job_id"] and xcom["run_id"] == result["run_id"]
    assert xcom["run_url"] == f"{civis_conn.base_url}/_emulator/ui/jobs/{result['job_id']}/runs/{result['run_id']}"
    assert STATE_STORE_KEY not in ctx["task_state_store"].data  # forgotten once complete


def test_deferrable_mode_defers_to_the_run_trigger_then_completes(civis_conn):
    op = python_op("import time\ntime.sleep(0.5)\nprint('slept')", deferrable=True)
    ctx = make_context()
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(ctx)
    trigger = deferred.value.trigger
    assert isinstance(trigger, CivisRunTrigger)
    assert "job_id" in ctx["ti"].xcom  # pushed before waiting
    event = first_event(trigger)
    result = op.execute_complete(ctx, event.payload)
    assert result["state"] == "succeeded"


def test_failure_message_carries_error_and_log_tail(civis_conn):
    source = "import sys\nfor i in range(30):\n    print('line', i)\nprint('kaboom', file=sys.stderr)\nsys.exit(2)"
    with pytest.raises(CivisRunError) as info:
        python_op(source, deferrable=False, log_tail_lines=5).execute(make_context())
    message = str(info.value)
    assert "failed" in message and "2" in message
    assert "kaboom" in message and "line 29" in message and "line 20" not in message
    assert len(info.value.log_tail) == 5


def test_run_existing_job_by_id(civis_conn):
    hook = CivisHook()
    script = hook.call("POST", "/scripts/containers", json={
        "name": "existing", "dockerCommand": "echo from-container", "dockerImageName": "x",
        "requiredResources": {"cpu": 100, "memory": 100, "diskSpace": 1},
    })
    result = CivisRunJobOperator(task_id="j", job_id=script["id"], deferrable=False, poll_interval=0.1).execute(
        make_context()
    )
    assert result["state"] == "succeeded"
    logs = hook.get_run_logs(RunRef("job", script["id"], result["run_id"]))
    assert any("from-container" in line["message"] for line in logs)


def test_retry_reattaches_to_the_run_an_earlier_try_started(civis_conn):
    hook = CivisHook()
    op = python_op("import time\ntime.sleep(1)\nprint('once')", deferrable=False)
    store = DictStateStore()
    first = op.start_run(make_context(store))  # an earlier try started a run, then its worker died
    store.set(STATE_STORE_KEY, first.to_dict())
    result = python_op("print('never run')", deferrable=False).execute(make_context(store))
    assert (result["job_id"], result["run_id"]) == (first.job_id, first.run_id)
    assert len(hook.call("GET", f"/scripts/python3/{first.job_id}/runs")) == 1


def published_run(ctx: dict) -> RunRef:
    """The run the task started, as it told XCom before waiting."""
    return RunRef("python3", ctx["ti"].xcom["job_id"], ctx["ti"].xcom["run_id"])


def test_timeout_cancels_the_run(civis_conn):
    op = python_op("import time\ntime.sleep(30)", deferrable=False, timeout=0.5)
    ctx = make_context()
    with pytest.raises(CivisRunTimeoutError, match="timeout=0.5"):
        op.execute(ctx)
    assert wait_for_state(CivisHook(), published_run(ctx), "cancelled")["state"] == "cancelled"


def test_on_kill_cancels(civis_conn):
    op = python_op("import time\ntime.sleep(30)", deferrable=True)
    ctx = make_context()
    with pytest.raises(TaskDeferred):
        op.execute(ctx)
    op.on_kill()
    assert wait_for_state(CivisHook(), published_run(ctx), "cancelled")["state"] == "cancelled"
