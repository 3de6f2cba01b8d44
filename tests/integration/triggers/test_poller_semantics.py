"""The shared poller batches under both readings of ``lastRunUpdatedAt`` (real emulator, real triggers).

Default emulator: the stamp moves on every state change of a job's last run, so the change list shows
every end. ``@pytest.mark.pessimistic``: it moves only when a run is created, so ends are found through
the ended window, the active list and the ended look-up. Either way: the right outcome for every run
(never another run's), no per-run GET, a quarter of the requests of one GET per trigger per interval
or fewer; half the jobs hidden, as the provider creates them. Requests are counted by the emulator (its
request log), not by the poller; the poller is reached through ``shared_poller``, as its triggers reach it.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest

from airflow_civis.hooks.civis import CivisHook
from airflow_civis.runs import RunRef
from airflow_civis.triggers._poller_model import StampSemantics
from airflow_civis.triggers.poller import RunPoller, shared_poller
from airflow_civis.triggers.run import CivisRunTrigger
from tests.helpers import request_log_end, requests_since

CONTAINER = {"dockerImageName": "x", "requiredResources": {"cpu": 100, "memory": 100, "diskSpace": 1}}
RUNS = 40


def job(seconds: float, *, hidden: bool, action: str = "sleep") -> int:
    return CivisHook().call("POST", "/scripts/containers", json={
        "name": f"semantics-{action}-{seconds}", "dockerCommand": f"civis-emulator:{action} {seconds}",
        "hidden": hidden, **CONTAINER})["id"]


def start(job_id: int) -> RunRef:
    return RunRef("job", job_id, CivisHook().call("POST", f"/jobs/{job_id}/runs")["id"])


def finished_long_run() -> None:
    """One run of 1.2 s that ended: enough for the poller to tell the two readings apart at once."""
    ref = start(job(1.2, hidden=True))
    deadline = time.monotonic() + 15
    while CivisHook().get_run(ref)["state"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.05)


class Watched:
    """What watching some runs came to: each trigger's event, the poller they shared, and every request
    the emulator answered meanwhile."""

    def __init__(self, events: list[dict], poller: RunPoller, log: list[dict]) -> None:
        self.events, self.poller, self.log = events, poller, log

    def run_gets(self, refs: list[RunRef]) -> int:
        paths = {r.path for r in refs}
        return sum(1 for r in self.log if r["method"] == "GET" and r["path"] in paths)


def watch_all(refs: list[RunRef], interval: float = 0.5) -> Watched:
    async def first(ref: RunRef) -> dict:
        async for event in CivisRunTrigger(run=ref.to_dict(), poll_interval=interval).run():
            return event.payload
        raise AssertionError("no event")

    async def main():
        tasks = [asyncio.create_task(first(r)) for r in refs]
        poller = shared_poller("civis_default")  # the one the triggers register with, on this loop
        return await asyncio.wait_for(asyncio.gather(*tasks), 60), poller

    mark = request_log_end(CivisHook())
    events, poller = asyncio.run(main())
    assert poller.closed  # it was the triggers' poller: their last event closed it
    return Watched(events, poller, requests_since(CivisHook(), mark))


def mixed_runs() -> tuple[list[RunRef], list[str]]:
    """Jobs of 0.3..2.2 s, every fifth one failing, every other one hidden; started at once."""
    specs = [(0.3 + (i % 8) * 0.27, "fail" if i % 5 == 0 else "sleep", i % 2 == 0) for i in range(RUNS)]
    jobs = [job(seconds, hidden=hidden, action=action) for seconds, action, hidden in specs]
    refs = [start(j) for j in jobs]
    return refs, ["failed" if action == "fail" else "succeeded" for _, action, _ in specs]


def check(events: list[dict], refs: list[RunRef], expected: list[str]) -> None:
    assert [e["run"] for e in events] == [r.to_dict() for r in refs]  # each trigger its own run
    assert [e["status"] for e in events] == expected
    assert all(e["finished_at"] for e in events)


def per_trigger_requests(refs: list[RunRef], interval: float) -> int:
    """What one GET per trigger per interval would have sent for these runs (queued time included)."""
    total = 0
    for ref in refs:
        run = CivisHook().get_run(ref)
        created, finished = (datetime.fromisoformat(run[k].replace("Z", "+00:00")).timestamp()
                             for k in ("createdAt", "finishedAt"))
        total += int((finished - created) // interval) + 1
    return total


def test_every_change_semantics_follow_the_change_list(civis_conn):
    finished_long_run()
    refs, expected = mixed_runs()
    watched = watch_all(refs)
    check(watched.events, refs, expected)
    assert watched.poller.semantics is StampSemantics.EVERY_CHANGE
    assert watched.run_gets(refs) == 0 and watched.poller.requests["changes"] >= 1
    assert len(watched.log) * 4 < per_trigger_requests(refs, 0.5), watched.poller.requests


@pytest.mark.pessimistic
def test_creation_only_semantics_find_ended_runs_in_batches(civis_conn):
    finished_long_run()
    refs, expected = mixed_runs()
    watched = watch_all(refs)
    check(watched.events, refs, expected)
    assert watched.poller.semantics is StampSemantics.CREATION_ONLY
    assert watched.run_gets(refs) == 0  # ends came from list pages (change list, window or look-up)
    assert len(watched.log) * 4 < per_trigger_requests(refs, 0.5), watched.poller.requests


@pytest.mark.pessimistic
def test_creation_only_semantics_never_take_a_newer_run_for_the_watched_one(civis_conn):
    job_id = job(0.2, hidden=True)
    old = start(job_id)
    hook = CivisHook()
    deadline = time.monotonic() + 10
    while hook.get_run(old)["state"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    hook.call("PUT", f"/scripts/containers/{job_id}", json={
        "name": "replaced", "dockerCommand": "civis-emulator:fail 0.2", "hidden": True, **CONTAINER})
    newer = start(job_id)  # the job's last run is now another one, about to fail
    events = watch_all([old, newer], interval=0.3).events
    assert [(e["run"]["run_id"], e["status"]) for e in events] == [(old.run_id, "succeeded"),
                                                                   (newer.run_id, "failed")]
