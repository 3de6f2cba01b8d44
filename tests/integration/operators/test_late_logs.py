"""A failed run's last log lines arrive late and below ids already published, as on the platform.

The emulator publishes a failing process's last lines (its traceback) ``late_seconds`` after the run
fails, newest first (``emulator/log_shipping.py``). The operator must still put the traceback in its
failure message and copy every line to the task log exactly once, in polling and deferrable mode,
without waiting after successful runs and never longer than ``late_log_wait``.
"""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest
from airflow.exceptions import TaskDeferred

from airflow_civis.exceptions import CivisRunError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.operators.scripts import CivisRunScriptOperator
from airflow_civis.runs import RunRef
from civis_emulator.log_shipping import SHIPPING
from tests.helpers import first_event, make_context, wait_for_state

# Prints while running (so lines are copied before the failure), then dies with a three-frame traceback.
FAILING = """
import time
for i in range(5):
    print("progress", i, flush=True)
    time.sleep(0.3)
def inner():
    return 1 / 0
def outer():
    return inner()
outer()
"""
TRACEBACK_MARKERS = ("Traceback (most recent call last):", "in outer", "in inner", "ZeroDivisionError")
#: A copied line in the task log (Airflow's console renderer pads the message, then names the logger).
COPIED = re.compile(r"\[civis \d+\] (.*?)\s+\[airflow\.task\.operators\.\S+\].*$", re.MULTILINE)


def op(source: str, **kwargs) -> CivisRunScriptOperator:
    return CivisRunScriptOperator(task_id=kwargs.pop("task_id", "late"), script_type="python3",
                                  script={"source": source}, poll_interval=0.1, **kwargs)


def copied_lines(capfd) -> Counter:
    """What the task log got, line by line (the operator logs through Airflow's structlog to stdout)."""
    return Counter(COPIED.findall(capfd.readouterr().out))


def test_emulator_publishes_the_traceback_after_the_failure_and_below_the_exit_line(civis_conn):
    hook = CivisHook()
    script = hook.call("POST", "/scripts/python3", json={"name": "late", "source": FAILING})
    ref = hook.start_run("python3", script["id"])
    assert wait_for_state(hook, ref, "failed")["state"] == "failed"
    at_failure = hook.get_run_logs(ref, last_id=0)
    assert not at_failure.final  # the API says more lines may come
    exit_line = next(line for line in at_failure if line["message"].startswith("Process exited with status 1"))
    assert not any("ZeroDivisionError" in line["message"] for line in at_failure)

    deadline = time.monotonic() + 15
    logs = at_failure
    while not logs.final and time.monotonic() < deadline:
        time.sleep(0.05)
        logs = hook.get_run_logs(ref, last_id=0)
    assert logs.final
    traceback = [line for line in logs if line["level"] == "error" and line["id"] != exit_line["id"]]
    assert traceback and all(line["id"] < exit_line["id"] for line in traceback)  # published after a higher id
    assert "ZeroDivisionError: division by zero" in traceback[-1]["message"]
    assert [line["id"] for line in hook.get_run_logs(ref, last_id=exit_line["id"])] == []  # a cursor misses them


def test_failure_message_carries_the_late_traceback_and_every_line_is_copied_once(civis_conn, capfd):
    with pytest.raises(CivisRunError) as info:
        op(FAILING, deferrable=False).execute(make_context())
    message = str(info.value)
    for marker in TRACEBACK_MARKERS:
        assert marker in message, f"{marker!r} missing from the failure message:\n{message}"

    copied = copied_lines(capfd)
    logs = CivisHook().get_run_logs(RunRef("python3", info.value.job_id, info.value.run_id), last_id=0)
    assert logs.final
    assert copied == Counter(line["message"].rstrip() for line in logs), "each published line copied exactly once"


def test_deferrable_completion_also_waits_for_the_traceback(civis_conn, capfd):
    task = op(FAILING, deferrable=True)
    ctx = make_context()
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(ctx)
    event = first_event(deferred.value.trigger)
    with pytest.raises(CivisRunError) as info:
        task.execute_complete(ctx, event.payload)
    assert all(marker in str(info.value) for marker in TRACEBACK_MARKERS)
    assert max(copied_lines(capfd).values()) == 1


def test_successful_runs_do_not_wait(civis_conn):
    started = time.monotonic()
    result = op("print('fine')", deferrable=False, late_log_wait=60).execute(make_context())
    assert result["state"] == "succeeded"
    assert time.monotonic() - started < 20  # far below the 60 s a wait would take


def test_the_wait_is_bounded_by_late_log_wait(civis_conn, monkeypatch):
    monkeypatch.setattr(SHIPPING, "late_seconds", 120.0)  # the platform is very late today
    started = time.monotonic()
    with pytest.raises(CivisRunError) as info:
        op(FAILING, deferrable=False, late_log_wait=1).execute(make_context())
    assert time.monotonic() - started < 20
    assert "Process exited with status 1" in str(info.value)  # the error, without the traceback
    assert "in inner" not in str(info.value)


def test_late_log_wait_is_checked_at_parse_time():
    with pytest.raises(ValueError, match="late_log_wait"):
        op("print(1)", late_log_wait=-1)
    assert op("print(1)", late_log_wait=0).late_log_wait == 0.0
