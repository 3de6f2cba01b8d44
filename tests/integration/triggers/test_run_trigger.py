"""CivisRunTrigger's run() iterated under asyncio against a real emulator."""

from __future__ import annotations

import time

import pytest

from airflow_civis.exceptions import CivisError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.runs import RunRef
from airflow_civis.triggers.run import CivisRunTrigger, validate_run_event
from tests.helpers import first_event, wait_for_state


def start_python(source: str) -> RunRef:
    hook = CivisHook()
    script = hook.call("POST", "/scripts/python3", json={"name": "trigger-test", "source": source})
    return hook.start_run("python3", script["id"])


def test_fires_succeeded_once_the_run_ends(civis_conn):
    ref = start_python("print('done')")
    event = first_event(CivisRunTrigger(run=ref.to_dict(), poll_interval=0.1))
    assert event.payload["status"] == "succeeded"
    assert event.payload["run"] == ref.to_dict()
    assert validate_run_event(event.payload)[1] == "succeeded"


def test_fires_failed_with_the_run_error(civis_conn):
    ref = start_python("import sys\nprint('bad', file=sys.stderr)\nsys.exit(3)")
    event = first_event(CivisRunTrigger(run=ref.to_dict(), poll_interval=0.1))
    assert event.payload["status"] == "failed"
    assert "3" in event.payload["error"]


def test_deadline_is_respected(civis_conn):
    ref = start_python("import time\ntime.sleep(30)")
    started = time.monotonic()
    event = first_event(CivisRunTrigger(run=ref.to_dict(), poll_interval=5, deadline=time.time() + 0.5))
    assert event.payload["status"] == "timeout"
    assert time.monotonic() - started < 3
    CivisHook().cancel_run(ref)


def test_unknown_run_ends_with_error_event_not_a_hang(civis_conn):
    event = first_event(CivisRunTrigger(run=RunRef("python3", 999999, 1).to_dict(), poll_interval=0.1))
    assert event.payload["status"] == "error"
    assert "404" in event.payload["message"]
    with pytest.raises(CivisError, match="999999"):
        validate_run_event(event.payload)


def test_on_kill_cancels_the_run(civis_conn):
    import asyncio

    ref = start_python("import time\ntime.sleep(60)")
    asyncio.run(CivisRunTrigger(run=ref.to_dict()).on_kill())
    assert wait_for_state(CivisHook(), ref, "cancelled")["state"] == "cancelled"


def test_serialize_round_trips_plain_data():
    trigger = CivisRunTrigger(run={"kind": "job", "job_id": 4, "run_id": 5}, poll_interval=2, deadline=10.0)
    path, kwargs = trigger.serialize()
    assert path == "airflow_civis.triggers.run.CivisRunTrigger"
    assert CivisRunTrigger(**kwargs).serialize() == (path, kwargs)


RUN = {"kind": "job", "job_id": 4, "run_id": 5}


@pytest.mark.parametrize("event", [
    None, {}, {"status": "weird", "run": {}}, {"status": "succeeded"}, {"status": "running", "run": RUN},
    {"status": "", "run": RUN}, {"status": None, "run": RUN},
])
def test_malformed_events_are_rejected(event):
    with pytest.raises(CivisError, match="Malformed"):
        validate_run_event(event)


@pytest.mark.parametrize("status", ["succeeded", "failed", "cancelled", "success", "timeout"])
def test_any_state_but_queued_or_running_ends_the_wait_as_in_the_worker(status):
    # civis-python counts "success" as finished (civis/base.py FINISHED); the worker stops on any
    # state that is not active, so the triggerer's event must be accepted for it too.
    ref, got, _ = validate_run_event({"status": status, "run": RUN})
    assert (ref.run_id, got) == (5, status)
