"""The shared poller's bookkeeping, against a real emulator: many triggers, one client, one poller."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from airflow_civis.exceptions import CivisAPIError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.runs import RunRef
from airflow_civis.triggers import poller as poller_module
from airflow_civis.triggers.poller import shared_poller, watching
from airflow_civis.triggers.run import CivisRunTrigger

CONTAINER = {"dockerImageName": "x", "requiredResources": {"cpu": 100, "memory": 100, "diskSpace": 1}}


def sleeper(seconds: float, action: str = "sleep") -> int:
    """A container job whose runs the emulator simulates (no process): ends after ``seconds``."""
    job = CivisHook().call("POST", "/scripts/containers", json={
        "name": f"poller-{action}-{seconds}", "dockerCommand": f"civis-emulator:{action} {seconds}", **CONTAINER,
    })
    return job["id"]


def start(job_id: int) -> RunRef:
    run = CivisHook().call("POST", f"/jobs/{job_id}/runs")
    return RunRef("job", job_id, run["id"])


async def first(trigger: CivisRunTrigger) -> dict:
    async for event in trigger.run():
        return event.payload
    raise AssertionError("no event")


async def until(condition, timeout: float = 10.0) -> None:
    """Bounded wait on a condition (not a sleep used as synchronisation)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def test_many_triggers_share_one_poller_and_each_gets_its_own_event(civis_conn):
    refs = [start(sleeper(d)) for d in (0.2, 0.6, 1.0)] + [start(sleeper(0.4, "fail"))]

    async def main():
        tasks = [asyncio.create_task(first(CivisRunTrigger(run=r.to_dict(), poll_interval=0.2))) for r in refs]
        await until(lambda: len(poller_module._POLLERS) == 1)
        poller = shared_poller("civis_default")
        assert poller.watched == len(refs)
        events = await asyncio.gather(*tasks)
        assert poller.closed and not poller_module._POLLERS  # last watcher gone: poller stopped
        await until(lambda: poller._task.done())
        assert poller.hook._client is None  # ...and its client closed
        return events, poller.requests

    events, requests = asyncio.run(main())
    assert [e["status"] for e in events] == ["succeeded", "succeeded", "succeeded", "failed"]
    assert [e["run"] for e in events] == [r.to_dict() for r in refs]
    assert events[3]["error"] == "Simulated failure"
    assert all(e["finished_at"] for e in events)
    assert requests["sweep"] >= 1 and requests["run"] == 0  # all seen in list calls, none fetched alone


def test_cancelled_trigger_unregisters_and_others_keep_waiting(civis_conn):
    long_ref, short_ref = start(sleeper(30)), start(sleeper(0.3))

    async def main():
        cancelled = asyncio.create_task(first(CivisRunTrigger(run=long_ref.to_dict(), poll_interval=0.2)))
        other = asyncio.create_task(first(CivisRunTrigger(run=short_ref.to_dict(), poll_interval=0.2)))
        await until(lambda: shared_poller("civis_default").watched == 2)
        cancelled.cancel()  # what the triggerer does when the trigger moves away or the task is cleared
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        poller = shared_poller("civis_default")
        assert long_ref not in poller._runs and poller.watched == 1
        event = await other
        await until(lambda: not poller_module._POLLERS)
        return event

    assert asyncio.run(main())["status"] == "succeeded"
    CivisHook().cancel_run(long_ref)


def test_deadline_fires_on_time_while_the_same_run_keeps_another_watcher(civis_conn):
    ref = start(sleeper(1.0))

    async def main():
        started = time.monotonic()
        late = asyncio.create_task(first(CivisRunTrigger(run=ref.to_dict(), poll_interval=0.2)))
        early = await first(CivisRunTrigger(run=ref.to_dict(), poll_interval=0.2, deadline=time.time() + 0.3))
        waited = time.monotonic() - started
        return early, waited, await late

    early, waited, late = asyncio.run(main())
    assert early["status"] == "timeout" and 0.25 <= waited < 0.6
    assert late["status"] == "succeeded"


def test_a_deadline_already_passed_still_reports_a_finished_run(civis_conn):
    ref = start(sleeper(0.1))
    CivisHook().get_run(ref)

    async def main():
        await until(lambda: CivisHook().get_run(ref)["state"] == "succeeded")
        return await first(CivisRunTrigger(run=ref.to_dict(), deadline=time.time() - 5))

    assert asyncio.run(main())["status"] == "succeeded"


def test_watched_run_replaced_by_a_newer_run_of_its_job(civis_conn):
    job_id = sleeper(0.1)
    old = start(job_id)

    async def main():
        hook = CivisHook()
        # min_interval 1 s: the poller's first look comes after the old run ended and a new one started.
        task = asyncio.create_task(first(CivisRunTrigger(run=old.to_dict(), poll_interval=1.0)))
        await until(lambda: hook.get_run(old)["state"] == "succeeded")
        hook.call("PUT", f"/scripts/containers/{job_id}", json={
            "name": "replaced", "dockerCommand": "civis-emulator:sleep 30", **CONTAINER})
        newer = start(job_id)
        assert newer.run_id > old.run_id
        event = await task
        hook.cancel_run(newer)
        return event

    event = asyncio.run(main())
    assert event["status"] == "succeeded" and event["run"] == old.to_dict()


def _break_list_call(monkeypatch, status: int) -> None:
    real = poller_module.RunPoller._list_page

    async def failing(self, kind, view, params, page):
        await self.bucket.take()
        self.requests[kind] += 1
        raise CivisAPIError("GET", "/jobs", status, "injected failure")

    monkeypatch.setattr(poller_module.RunPoller, "_list_page", failing)
    return real


def test_unusable_list_call_falls_back_to_per_run_polling_and_says_so(civis_conn, monkeypatch, caplog):
    _break_list_call(monkeypatch, 501)
    refs = [start(sleeper(d)) for d in (0.2, 0.5)]

    async def main():
        triggers = [first(CivisRunTrigger(run=r.to_dict(), poll_interval=0.2)) for r in refs]
        poller_task = asyncio.gather(*triggers)
        await until(lambda: bool(poller_module._POLLERS))
        poller = shared_poller("civis_default")
        events = await poller_task
        return events, poller

    with caplog.at_level(logging.WARNING, logger="airflow_civis.triggers.poller"):
        events, poller = asyncio.run(main())
    assert [e["status"] for e in events] == ["succeeded", "succeeded"]
    assert poller.mode == "per-run" and poller.requests["run"] >= 2
    assert "falling back to per-run polling" in caplog.text


def test_no_task_waits_forever_when_the_list_call_keeps_failing(civis_conn, monkeypatch):
    _break_list_call(monkeypatch, 503)  # retryable: the poller keeps trying lists, and checks runs meanwhile
    ref = start(sleeper(0.3))
    stuck = start(sleeper(30))

    async def main():
        done = first(CivisRunTrigger(run=ref.to_dict(), poll_interval=0.1))
        timed = first(CivisRunTrigger(run=stuck.to_dict(), poll_interval=0.1, deadline=time.time() + 1.5))
        return await asyncio.wait_for(asyncio.gather(done, timed), 20)

    finished, timed_out = asyncio.run(main())
    assert finished["status"] == "succeeded" and timed_out["status"] == "timeout"
    CivisHook().cancel_run(stuck)


def test_unknown_run_errors_instead_of_hanging(civis_conn):
    event = asyncio.run(first(CivisRunTrigger(run=RunRef("job", 987654, 1).to_dict(), poll_interval=0.1)))
    assert event["status"] == "error" and "404" in event["message"]


def test_one_poller_per_event_loop(civis_conn):
    ref = start(sleeper(0.2))

    async def poller_id():
        async with watching("civis_default", ref, 0.2) as watch:
            await watch.wait(None)
            return id(watch.poller)

    assert asyncio.run(poller_id()) != asyncio.run(poller_id())
    assert not poller_module._POLLERS
