"""CivisRunWorkflowOperator and CivisWorkflowExecutionSensor, in-process against a real emulator: defer and
complete, reattach without a second execution, cancel on kill and timeout, retry of a failed execution."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from airflow.exceptions import TaskDeferred

from airflow_civis.exceptions import CivisRunError, CivisRunTimeoutError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.operators.base import STATE_STORE_KEY
from airflow_civis.operators.workflows import CivisRunWorkflowOperator
from airflow_civis.runs import RunRef
from airflow_civis.sensors.workflows import CivisWorkflowExecutionSensor
from airflow_civis.triggers.run import CivisRunTrigger
from tests.helpers import DictStateStore, first_event, make_context, wait_for_state

RESOURCES = {"cpu": 256, "memory": 512}


def job(hook: CivisHook, command: str) -> int:
    return hook.call("POST", "/scripts/containers", json={
        "name": "wf-job", "dockerCommand": command, "requiredResources": RESOURCES})["id"]


def workflow(hook: CivisHook, *commands: str, name: str = "wf") -> int:
    """A chain of tasks t0 -> t1 -> ..., one container job each."""
    lines = ["version: '2.0'", "chain:", "  tasks:"]
    for index, command in enumerate(commands):
        lines += [f"    t{index}:", "      action: civis.run_job", f"      input: {{job_id: {job(hook, command)}}}"]
        if index + 1 < len(commands):
            lines.append(f"      on-success: [t{index + 1}]")
    return hook.call("POST", "/workflows", json={"name": name, "definition": "\n".join(lines) + "\n"})["id"]


def executions(hook: CivisHook, workflow_id: int) -> list[dict]:
    return hook.call("GET", f"/workflows/{workflow_id}/executions")


def op(workflow_id: int, **kwargs) -> CivisRunWorkflowOperator:
    return CivisRunWorkflowOperator(task_id=kwargs.pop("task_id", "wf"), workflow_id=workflow_id,
                                    poll_interval=0.1, **kwargs)


def test_defers_to_the_run_trigger_and_returns_each_tasks_runs(civis_conn):
    hook = CivisHook()
    wf = workflow(hook, "sleep 0.5; echo one", "echo two")
    operator = op(wf, deferrable=True)
    ctx = make_context()
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(ctx)
    trigger = deferred.value.trigger
    assert isinstance(trigger, CivisRunTrigger) and trigger.run_ref.kind == "workflow"
    xcom = ctx["ti"].xcom
    assert xcom["workflow_id"] == wf
    assert xcom["run_url"] == f"{civis_conn.base_url}/_emulator/ui/workflows/{wf}/executions/{xcom['execution_id']}"
    event = first_event(trigger)
    assert event.payload["status"] == "succeeded"
    result = operator.execute_complete(ctx, event.payload)
    assert result["workflow_id"] == wf and result["execution_id"] == xcom["execution_id"]
    assert result["state"] == "succeeded"
    assert [r["state"] for r in result["tasks"]["t1"]["runs"]] == ["succeeded"]
    assert STATE_STORE_KEY not in ctx["task_state_store"].data


def test_a_lost_worker_reattaches_instead_of_starting_a_second_execution(civis_conn):
    hook = CivisHook()
    wf = workflow(hook, "sleep 1; echo done")
    store = DictStateStore()
    with pytest.raises(TaskDeferred):
        op(wf, deferrable=True).execute(make_context(store))
    # the worker died after deferring; the next try of the same task runs with the same state store
    result = op(wf, deferrable=False).execute(make_context(store))
    assert result["state"] == "succeeded"
    assert len(executions(hook, wf)) == 1


def test_a_start_lost_before_its_id_was_saved_is_found_by_the_next_try(civis_conn):
    hook = CivisHook()
    wf = workflow(hook, "echo once")
    started = hook.call("POST", f"/workflows/{wf}/executions", json={})  # the POST that landed
    store = DictStateStore()
    store.set(STATE_STORE_KEY, {"kind": "workflow", "job_id": wf, "baseline_run_id": None, "started_at": 0})
    result = op(wf, deferrable=False).execute(make_context(store))
    assert result["execution_id"] == started["id"]
    assert len(executions(hook, wf)) == 1


def test_timeout_cancels_the_execution_and_its_running_run(civis_conn):
    hook = CivisHook()
    wf = workflow(hook, "sleep 60")
    with pytest.raises(CivisRunTimeoutError, match="workflow .* execution"):
        op(wf, deferrable=False, timeout=1.5).execute(make_context())
    execution = hook.call("GET", f"/workflows/{wf}/executions/{executions(hook, wf)[0]['id']}")
    assert execution["state"] == "cancelled"
    task_run = execution["tasks"][0]["runs"][0]
    assert wait_for_state(hook, RunRef("job", task_run["jobId"], task_run["id"]), "cancelled")["state"] == "cancelled"


def test_on_kill_and_the_triggers_on_kill_cancel_through_post_cancel(civis_conn):
    hook = CivisHook()
    wf = workflow(hook, "sleep 60")
    operator = op(wf, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(make_context())
    asyncio.run(deferred.value.trigger.on_kill())
    ref = deferred.value.trigger.run_ref
    assert hook.get_run(ref)["state"] == "cancelled"
    operator.on_kill()  # a second cancel of a finished execution is not an error (409)


def test_an_airflow_retry_retries_the_failed_execution(civis_conn, tmp_path):
    hook = CivisHook()
    marker = tmp_path / "failed-once"
    wf = workflow(hook, "echo first", f"if [ -e {marker} ]; then echo fixed; else touch {marker}; "
                                      "echo 'broken pipe' >&2; exit 4; fi")
    store = DictStateStore()
    with pytest.raises(CivisRunError) as info:
        op(wf, deferrable=False, retries=1, log_tail_lines=3).execute(make_context(store))
    assert "task 't1'" in str(info.value) and "broken pipe" in str(info.value)
    assert store.data[STATE_STORE_KEY]["failed_execution"] is True
    result = op(wf, deferrable=False, retries=1).execute(make_context(store))
    assert result["state"] == "succeeded"
    assert [e["id"] for e in executions(hook, wf)] == [result["execution_id"]]
    assert [r["state"] for r in result["tasks"]["t1"]["runs"]] == ["succeeded", "failed"]
    assert len(result["tasks"]["t0"]["runs"]) == 1  # the task that had succeeded did not run again


def test_new_execution_strategy_starts_a_fresh_execution(civis_conn, tmp_path):
    hook = CivisHook()
    marker = tmp_path / "failed-once"
    wf = workflow(hook, f"if [ -e {marker} ]; then echo fixed; else touch {marker}; exit 4; fi")
    store = DictStateStore()
    with pytest.raises(CivisRunError):
        op(wf, deferrable=False, retries=1, retry_strategy="new_execution").execute(make_context(store))
    result = op(wf, deferrable=False, retries=1, retry_strategy="new_execution").execute(make_context(store))
    assert result["state"] == "succeeded" and len(executions(hook, wf)) == 2


def test_input_and_included_tasks_reach_the_execution(civis_conn):
    hook = CivisHook()
    a, b = job(hook, "echo a"), job(hook, "echo b")
    definition = (f"version: '2.0'\nwf:\n  input: [second]\n  tasks:\n"
                  f"    one: {{action: civis.run_job, input: {{job_id: {a}}}, on-success: [two]}}\n"
                  f"    two: {{action: civis.run_job, input: {{job_id: <% $.second %>}}}}\n")
    wf = hook.call("POST", "/workflows", json={"name": "inputs", "definition": definition})["id"]
    result = op(wf, deferrable=False, input={"second": b}, included_tasks=["two"]).execute(make_context())
    assert set(result["tasks"]) == {"two"} and result["tasks"]["two"]["runs"][0]["job_id"] == b


def test_sensor_waits_for_the_latest_execution(civis_conn):
    hook = CivisHook()
    wf = workflow(hook, "sleep 0.3; echo ok")
    sensor = CivisWorkflowExecutionSensor(task_id="s", workflow_id=wf, poke_interval=0.1, deferrable=True)
    with pytest.raises(CivisRunError, match="no executions"):
        sensor.execute(make_context())
    started = hook.call("POST", f"/workflows/{wf}/executions", json={})
    ctx = make_context()
    ctx["ti"].start_date = datetime.now(timezone.utc)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(ctx)
    assert deferred.value.trigger.run_ref == RunRef("workflow", wf, started["id"])
    event = first_event(deferred.value.trigger)
    assert sensor.execute_complete(make_context(), event.payload) == RunRef("workflow", wf, started["id"]).to_dict()


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"input": ["a"]}, "input must be a mapping"),
    ({"included_tasks": "t0"}, "included_tasks must be a non-empty list"),
    ({"retry_strategy": "again"}, "retry_strategy must be one of"),
    ({"workflow_id": 0}, "workflow_id must be a positive id"),
])
def test_bad_arguments_fail_at_parse_time_naming_the_field(kwargs, words):
    with pytest.raises(ValueError, match=words) as info:
        CivisRunWorkflowOperator(task_id="bad", **{"workflow_id": 3, **kwargs})
    assert "'bad'" in str(info.value)
