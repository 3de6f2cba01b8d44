"""The run lifecycle under injected faults, in-process against a real emulator: no duplicate runs, ever."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from airflow.exceptions import TaskDeferred

from airflow_civis.exceptions import CivisRunTimeoutError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.operators.base import STATE_STORE_KEY, RunJournal
from airflow_civis.operators.jobs import CivisRunJobOperator
from airflow_civis.operators.scripts import CivisRunScriptOperator
from airflow_civis.runs import RunRef
from airflow_civis.triggers.run import CivisRunTrigger
from tests.helpers import DictStateStore, first_event, make_context, wait_for_state

RUN_POST = "/scripts/{kind}/{id}/runs"


def op(source: str = "print('hi')", **kwargs) -> CivisRunScriptOperator:
    return CivisRunScriptOperator(task_id=kwargs.pop("task_id", "t"), script_type="python3",
                                  script={"source": source}, poll_interval=0.1, **kwargs)


@pytest.mark.parametrize("fault", [{"drop": "after"}, {"drop": "before"}, {"status": 502}, {"status": 504}])
def test_ambiguous_run_start_is_reconciled_without_a_duplicate(conn, fault):
    conn.faults({"route": RUN_POST, "methods": ["POST"], "rate": 1.0, **fault})
    hook = CivisHook()
    script = hook.call("POST", "/scripts/python3", json={"name": "amb", "source": "print(1)"})
    if fault.get("drop") == "after":
        ref = hook.start_run("python3", script["id"])  # took effect: adopted, never repeated
    else:
        conn.faults({"route": RUN_POST, "methods": ["POST"], "rate": 0.5, **fault}, seed=3)
        ref = hook.start_run("python3", script["id"])  # did not take effect: started again
    assert conn.runs_started()[str(script["id"])] == 1
    assert len(hook.call("GET", f"/jobs/{script['id']}/runs")) == 1
    assert ref.run_id == hook.last_run_id(script["id"])


def test_ambiguous_script_create_is_done_over_and_the_task_succeeds(conn):
    conn.faults({"route": "/scripts/python3", "methods": ["POST"], "drop": "after", "rate": 0.5}, seed=1)
    result = op("print('made it')", deferrable=False).execute(make_context())
    assert result["state"] == "succeeded"
    assert conn.runs_started()[str(result["job_id"])] == 1


@pytest.mark.parametrize("deferrable", [False, True])
def test_operator_under_twenty_percent_faults(conn, deferrable):
    from civis_emulator.faults import standard_profile

    conn.call("POST", "/_emulator/faults", json=standard_profile(0.2, 0.02, seed=11, retry_after=0.1,
                                                                  user_agent=None))
    results = []
    for i in range(4):
        task = op(f"print({i})", task_id=f"t{i}", deferrable=deferrable, retry={"backoff_initial": 0.05})
        ctx = make_context()
        try:
            results.append(task.execute(ctx))
        except TaskDeferred as deferred:
            results.append(task.execute_complete(ctx, first_event(deferred.trigger).payload))
    assert [r["state"] for r in results] == ["succeeded"] * 4
    assert all(conn.runs_started()[str(r["job_id"])] == 1 for r in results)
    assert conn.call("GET", "/_emulator/faults")["total_injected"] > 0


def test_crash_between_post_and_saving_the_run_id_is_reconciled(conn):
    """The pre-POST journal entry lets the next try find the run the dead try started."""
    hook = CivisHook()
    script = hook.call("POST", "/scripts/python3", json={"name": "gap", "source": "print('once')"})
    store = DictStateStore()
    baseline = hook.last_run_id(script["id"])
    store.set(STATE_STORE_KEY, {"kind": "python3", "job_id": script["id"], "baseline_run_id": baseline,
                                "started_at": 0})
    lost = hook.start_run("python3", script["id"])  # the POST landed; the worker died before saving it
    task = CivisRunJobOperator(task_id="gap", job_id=script["id"], kind="python3", deferrable=False,
                               poll_interval=0.1)
    result = task.execute(make_context(store))
    assert result["run_id"] == lost.run_id
    assert conn.runs_started()[str(script["id"])] == 1


def test_journal_without_a_landed_post_starts_fresh(conn):
    hook = CivisHook()
    script = hook.call("POST", "/scripts/python3", json={"name": "nogap", "source": "print('x')"})
    store = DictStateStore()
    store.set(STATE_STORE_KEY, {"kind": "python3", "job_id": script["id"], "baseline_run_id": None,
                                "started_at": 0})
    task = CivisRunJobOperator(task_id="nogap", job_id=script["id"], kind="python3", deferrable=False,
                               poll_interval=0.1)
    assert task.execute(make_context(store))["state"] == "succeeded"
    assert conn.runs_started()[str(script["id"])] == 1


def test_variable_journal_fallback_without_task_state_store(conn, monkeypatch):
    """Airflow < 3.3: no task_state_store; the journal lives in a Variable named after the task's scope."""
    saved: dict[str, str] = {}
    monkeypatch.setattr("airflow.sdk.Variable.get", lambda key, default=None: saved.get(key, default))
    monkeypatch.setattr("airflow.sdk.Variable.set", lambda key, value, description=None: saved.__setitem__(key, value))
    monkeypatch.setattr("airflow.sdk.Variable.delete", lambda key: saved.pop(key, None))

    class TI:
        dag_id, run_id, task_id, map_index = "d", "manual__1", "t", -1

        def xcom_push(self, key, value):
            pass

    journal = RunJournal({"ti": TI()})
    journal.set({"kind": "python3", "job_id": 1, "run_id": 2})
    assert list(saved) == ["civis_run.d.manual__1.t.-1"] and journal.get()["run_id"] == 2
    journal.delete()
    assert saved == {}


def test_hanging_run_and_deferrable_timeout_cancel_the_run(conn):
    conn.faults({"route": RUN_POST, "methods": ["POST"], "hang_runs": True})
    task = op("print('never finishes')", deferrable=True, timeout=0.5)
    ctx = make_context()
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(ctx)
    event = first_event(deferred.value.trigger)
    assert event.payload["status"] == "timeout"
    with pytest.raises(CivisRunTimeoutError, match="it was cancelled"):
        task.execute_complete(ctx, event.payload)
    assert wait_for_state(CivisHook(), task._active_run, "cancelled")["state"] == "cancelled"


def test_execution_timeout_of_a_deferred_task_is_the_triggers_deadline(conn):
    """Airflow does not time out a deferred task by execution_timeout: our trigger deadline does, then cancels."""
    conn.faults({"route": RUN_POST, "methods": ["POST"], "hang_runs": True})
    task = op("print('hang')", deferrable=True, execution_timeout=timedelta(seconds=1))
    ctx = make_context()
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(ctx)
    assert deferred.value.trigger.deadline is not None and deferred.value.timeout is not None
    with pytest.raises(CivisRunTimeoutError, match="execution_timeout"):
        task.execute_complete(ctx, first_event(deferred.value.trigger).payload)
    assert wait_for_state(CivisHook(), task._active_run, "cancelled")["state"] == "cancelled"


def test_airflow_deferral_timeout_cancels_the_run(conn):
    from airflow.sdk.exceptions import TaskDeferralTimeout

    conn.faults({"route": RUN_POST, "methods": ["POST"], "hang_runs": True})
    task = op("print('hang')", deferrable=True)
    ctx = make_context()
    with pytest.raises(TaskDeferred):
        task.execute(ctx)
    with pytest.raises(TaskDeferralTimeout):
        task.resume_execution("__fail__", {"error": "Trigger timeout"}, ctx)
    assert wait_for_state(CivisHook(), task._active_run, "cancelled")["state"] == "cancelled"


def test_trigger_on_kill_cancels_but_a_triggerer_restart_does_not(conn):
    conn.faults({"route": RUN_POST, "methods": ["POST"], "hang_runs": True})
    hook = CivisHook()
    script = hook.call("POST", "/scripts/python3", json={"name": "hang", "source": "print(1)"})
    ref = hook.start_run("python3", script["id"])
    trigger = CivisRunTrigger(run=ref.to_dict(), poll_interval=0.1)

    async def restart_then_kill() -> None:
        waiting = asyncio.ensure_future(trigger.run().__anext__())
        await asyncio.sleep(0.3)  # let the trigger start watching (not synchronisation of a result)
        waiting.cancel()  # what a triggerer restart does to a trigger: cancel, no on_kill
        with pytest.raises(asyncio.CancelledError):
            await waiting

    asyncio.run(restart_then_kill())
    assert hook.get_run(ref)["state"] == "running"
    asyncio.run(trigger.on_kill())  # a user marked the task failed / cleared it
    assert wait_for_state(hook, ref, "cancelled")["state"] == "cancelled"


def test_cancel_on_kill_false_leaves_the_run(conn):
    conn.faults({"route": RUN_POST, "methods": ["POST"], "hang_runs": True})
    task = op("print('hang')", deferrable=False, cancel_on_kill=False, timeout=0.3)
    with pytest.raises(CivisRunTimeoutError, match="left running"):
        task.execute(make_context())
    run = CivisHook().get_run(task._active_run)
    assert run["state"] == "running"
    CivisHook().cancel_run(task._active_run)
    assert RunRef.from_dict(task._active_run.to_dict()) == task._active_run
