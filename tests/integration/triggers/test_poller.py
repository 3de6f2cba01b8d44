"""The shared poller's bookkeeping, against a real emulator: many triggers, one client, one poller.

Every test drives the poller through what a triggerer does (``CivisRunTrigger.run()``, or the public
``RunPoller`` / ``register`` / ``Watch.wait`` with a hook built on ``transport=``) and checks what a user
can see: the trigger events, the requests the emulator answered (its request log) and the poller's public
state (``watched``, ``closed``, ``mode``). No test reads or patches the poller's or the hook's privates.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import weakref

import httpx
import pytest

from airflow_civis.hooks.civis import CivisHook
from airflow_civis.hooks.civis_async import CivisAsyncHook
from airflow_civis.runs import RunRef
from airflow_civis.triggers._poller_model import PollMode
from airflow_civis.triggers.poller import NO_RETRY, RunPoller, shared_poller, watching
from airflow_civis.triggers.run import CivisRunTrigger
from tests.helpers import injected_faults, request_log_end, requests_since

CONTAINER = {"dockerImageName": "x", "requiredResources": {"cpu": 100, "memory": 100, "diskSpace": 1}}
LIST = ("GET", "/jobs")


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


def calls(log: list[dict]) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in log]


def run_gets(log: list[dict], refs: list[RunRef]) -> list[RunRef]:
    """The watched runs fetched one by one (``GET .../runs/{id}``), once per request, in order."""
    by_path = {r.path: r for r in refs}
    return [by_path[r["path"]] for r in log if r["method"] == "GET" and r["path"] in by_path]


def test_many_triggers_share_one_poller_and_each_gets_its_own_event(civis_conn):
    refs = [start(sleeper(d)) for d in (0.2, 0.6, 1.0)] + [start(sleeper(0.4, "fail"))]
    mark = request_log_end(CivisHook())

    async def main():
        tasks = [asyncio.create_task(first(CivisRunTrigger(run=r.to_dict(), poll_interval=0.2))) for r in refs]
        poller = shared_poller("civis_default")
        await until(lambda: poller.watched == len(refs))  # every trigger is watched by this one poller
        assert shared_poller("civis_default") is poller
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)  # its client has answered by now
        client = await poller.hook.client()
        events = await asyncio.gather(*tasks)
        assert poller.closed  # last watcher gone: the poller stopped...
        await until(lambda: client.is_closed)  # ...and closed its client...
        await until(lambda: asyncio.all_tasks() == {asyncio.current_task()})  # ...and left nothing running
        return events

    events = asyncio.run(main())
    assert [e["status"] for e in events] == ["succeeded", "succeeded", "succeeded", "failed"]
    assert [e["run"] for e in events] == [r.to_dict() for r in refs]
    assert events[3]["error"] == "Simulated failure"
    assert all(e["finished_at"] for e in events)
    log = requests_since(CivisHook(), mark)
    assert LIST in calls(log)
    assert run_gets(log, refs) == []  # all seen in list calls, none fetched alone


def test_cancelled_trigger_unregisters_and_others_keep_waiting(civis_conn):
    long_ref, short_ref = start(sleeper(30)), start(sleeper(0.3))

    async def main():
        cancelled = asyncio.create_task(first(CivisRunTrigger(run=long_ref.to_dict(), poll_interval=0.2)))
        other = asyncio.create_task(first(CivisRunTrigger(run=short_ref.to_dict(), poll_interval=0.2)))
        poller = shared_poller("civis_default")
        await until(lambda: poller.watched == 2)
        cancelled.cancel()  # what the triggerer does when the trigger moves away or the task is cleared
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        assert poller.watched == 1  # the cancelled trigger's run is no longer watched
        event = await other
        await until(lambda: poller.closed)  # and nothing of it keeps the poller alive
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


class ListCallRefused(httpx.AsyncBaseTransport):
    """The network to the emulator, except that ``GET /jobs`` answers ``status`` (as a deployment without
    the list call would); records every request the hook sent, in order."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.network = httpx.AsyncHTTPTransport()
        self.sent: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path))
        if (request.method, request.url.path) == LIST:
            return httpx.Response(self.status, json={
                "error": "not_implemented", "errorDescription": "GET /jobs is not implemented.", "code": self.status})
        return await self.network.handle_async_request(request)

    async def aclose(self) -> None:
        await self.network.aclose()


def test_unusable_list_call_falls_back_to_per_run_polling_and_says_so(civis_conn, caplog):
    """A non-retryable answer to the list call (501): every run is then checked on its own, and the
    triggerer log says so once. The emulator cannot refuse ``GET /jobs`` that way, so the hook's
    ``transport=`` does (the rest goes to the emulator over the network)."""
    refs = [start(sleeper(d)) for d in (0.2, 0.5)]
    transport = ListCallRefused(501)
    mark = request_log_end(CivisHook())

    async def main():
        poller = RunPoller(CivisAsyncHook(retry=NO_RETRY, transport=transport))
        watches = [poller.register(r, 0.2) for r in refs]
        try:
            return await asyncio.wait_for(asyncio.gather(*(w.wait(None) for w in watches)), 20), poller.mode
        finally:
            for w in watches:
                poller.unregister(w)

    with caplog.at_level(logging.WARNING, logger="airflow_civis.triggers.poller"):
        outcomes, mode = asyncio.run(main())
    assert [o["status"] for o in outcomes] == ["succeeded", "succeeded"]
    assert mode is PollMode.PER_RUN
    refused = [i for i, call in enumerate(transport.sent) if call == LIST]
    fetched = [i for i, (_, path) in enumerate(transport.sent) if path in {r.path for r in refs}]
    assert refused and fetched and max(refused) < min(fetched)  # no list call once it was refused
    assert set(run_gets(requests_since(CivisHook(), mark), refs)) == set(refs)  # the emulator answered each
    assert caplog.text.count("falling back to per-run polling") == 1


def test_no_task_waits_forever_when_the_list_call_keeps_failing(civis_conn):
    """GET /jobs answers 503 every time (retryable): the poller keeps trying lists, checks runs on their
    own meanwhile, and a trigger's deadline still ends its wait."""
    hook = CivisHook()
    ref = start(sleeper(0.3))
    stuck = start(sleeper(30))
    mark = request_log_end(hook)

    async def main():
        done = first(CivisRunTrigger(run=ref.to_dict(), poll_interval=0.1))
        timed = first(CivisRunTrigger(run=stuck.to_dict(), poll_interval=0.1, deadline=time.time() + 1.5))
        return await asyncio.wait_for(asyncio.gather(done, timed), 20)

    with injected_faults(hook, {"route": "/jobs", "methods": ["GET"], "status": 503}):
        finished, timed_out = asyncio.run(main())
    hook.cancel_run(stuck)
    assert finished["status"] == "succeeded" and timed_out["status"] == "timeout"
    log = requests_since(hook, mark)
    lists = [i for i, r in enumerate(log) if (r["method"], r["path"]) == LIST]
    assert lists and all(log[i]["status"] == 503 for i in lists)
    fetched = [i for i, r in enumerate(log) if r["method"] == "GET" and r["path"] == ref.path]
    assert fetched and log[fetched[-1]]["status"] == 200  # the run was checked on its own...
    assert max(lists) > fetched[-1]  # ...and list calls were still tried after it ended


def test_unknown_run_errors_instead_of_hanging(civis_conn):
    event = asyncio.run(first(CivisRunTrigger(run=RunRef("job", 987654, 1).to_dict(), poll_interval=0.1)))
    assert event["status"] == "error" and "404" in event["message"]


def test_one_poller_per_event_loop_and_none_kept_after_its_loop(civis_conn):
    ref = start(sleeper(0.2))

    async def watched_by():
        async with watching("civis_default", ref, 0.2) as watch:
            await watch.wait(None)
            return watch.poller

    pollers = [asyncio.run(watched_by()) for _ in range(2)]
    assert pollers[0] is not pollers[1]
    assert all(p.closed for p in pollers)
    left = [weakref.ref(p) for p in pollers]
    del pollers
    gc.collect()
    assert [r() for r in left] == [None, None]  # nothing (no registry) keeps a finished loop's poller
