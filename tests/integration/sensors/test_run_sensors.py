"""The run-waiting sensors against a real emulator: the latest run or a given one, in the worker and deferred,
and the error when there is nothing to wait for, which names the field to give."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from airflow.exceptions import TaskDeferred

from airflow_civis.exceptions import CivisRunError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.runs import RunRef
from airflow_civis.sensors import CivisRunSensor, CivisWorkflowExecutionSensor
from tests.helpers import first_event, make_context, wait_for_state


def script(hook: CivisHook, source: str) -> int:
    return hook.call("POST", "/scripts/python3", json={"name": "sensed", "source": source})["id"]


def test_run_sensor_without_runs_says_what_to_give(civis_conn):
    job_id = script(CivisHook(), "print('never run')")
    with pytest.raises(CivisRunError, match=rf"^Job {job_id} has no runs to wait for; start it first or give run_id"):
        CivisRunSensor(task_id="s", job_id=job_id, deferrable=False).poke(make_context())


def test_run_sensor_watches_the_latest_run_in_the_worker(civis_conn):
    hook = CivisHook()
    job_id = script(hook, "print('ok')")
    ref = hook.start_run("python3", job_id)
    wait_for_state(hook, ref, "succeeded")
    sensor = CivisRunSensor(task_id="s", job_id=str(job_id), kind="python3", deferrable=False)
    assert sensor.poke(make_context()) is True
    failing = hook.start_run("python3", script(hook, "raise SystemExit(3)"))
    wait_for_state(hook, failing, "failed")
    with pytest.raises(CivisRunError, match=rf"Civis .*{failing.run_id}.* failed") as failure:
        CivisRunSensor(task_id="s", job_id=failing.job_id, deferrable=False).poke(make_context())
    assert (failure.value.job_id, failure.value.run_id, failure.value.state) == (failing.job_id, failing.run_id,
                                                                                  "failed")


def test_run_sensor_defers_for_a_given_run(civis_conn):
    hook = CivisHook()
    job_id = script(hook, "import time; time.sleep(0.3)")
    ref = hook.start_run("python3", job_id)
    sensor = CivisRunSensor(task_id="s", job_id=job_id, run_id=ref.run_id, kind="python3", poke_interval=0.1)
    ctx = make_context()
    ctx["ti"].start_date = datetime.now(timezone.utc)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(ctx)
    assert deferred.value.trigger.run_ref == RunRef("python3", job_id, ref.run_id)
    event = first_event(deferred.value.trigger)
    assert sensor.execute_complete(make_context(), event.payload) == RunRef("python3", job_id, ref.run_id).to_dict()


def test_workflow_sensor_without_executions_says_what_to_give(civis_conn):
    hook = CivisHook()
    definition = "version: '2.0'\nwf:\n  tasks:\n    one: {action: std.noop}\n"
    wf = hook.call("POST", "/workflows", json={"name": "idle", "definition": definition})["id"]
    with pytest.raises(CivisRunError, match=rf"^Workflow {wf} has no executions to wait for; start it first or give "
                                            "execution_id"):
        CivisWorkflowExecutionSensor(task_id="w", workflow_id=wf, deferrable=False).poke(make_context())
