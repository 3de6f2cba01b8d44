"""RunPoller at the HTTP boundary (an httpx MockTransport): 429 handling, budget, settings, import cost."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import httpx
import pytest

from airflow_civis.hooks._connection import CivisSettings
from airflow_civis.hooks._retry import RetryPolicy
from airflow_civis.hooks.civis_async import CivisAsyncHook
from airflow_civis.runs import RunRef
from airflow_civis.triggers._poller_model import (
    ENDED_STATES,
    RUN_STATES,
    PollMode,
    StampSemantics,
    TrackStatus,
    View,
    is_active,
    stamp_evidence,
)
from airflow_civis.triggers.poller import NO_RETRY, PollerConfig, RunPoller, TokenBucket

BASE = "https://api.example.test"
REF = RunRef("job", 7, 70)


@pytest.fixture(autouse=True)
def civis_connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CIVIS_DEFAULT", json.dumps({"conn_type": "civis", "password": "k", "host": BASE}))


def poller_answering(handler, **config) -> tuple[RunPoller, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    hook = CivisAsyncHook(retry=NO_RETRY)
    hook._settings = CivisSettings(conn_id="civis_default", base_url=BASE, api_key="k-unit-test",
                                   retry=RetryPolicy.from_value(NO_RETRY))
    hook._client = httpx.AsyncClient(base_url=BASE, transport=httpx.MockTransport(record))
    return RunPoller(hook, PollerConfig(**config)), seen


def job(job_id: int, run_id: int, state: str, stamp: str | None = "2030-01-01T00:00:00.000Z", **run) -> dict:
    return {"id": job_id, "state": state, "lastRunUpdatedAt": stamp,
            "lastRun": {"id": run_id, "state": state, "error": None, "finishedAt": None,
                        "createdAt": "2030-01-01T00:00:00.000Z", **run}}


def listing(items: list[dict]) -> httpx.Response:
    return httpx.Response(200, json=items, headers={"X-Pagination-Total-Entries": str(len(items))})


def kind_of(request: httpx.Request) -> str:
    """Which call the poller made: probe/ended, sweep, changes (by the state filter) or run."""
    if request.url.path != "/jobs":
        return "run"
    return {ENDED_STATES: "ended", "queued,running": "sweep", RUN_STATES: "changes"}[request.url.params["state"]]


def test_429_pauses_every_request_for_retry_after_and_slows_the_cycle():
    replies = iter([httpx.Response(429, headers={"Retry-After": "0.4"}, json={"error": "slow down"})])
    slowdowns: list[float] = []

    def handler(request):
        slowdowns.append(holder[0]._slowdown)
        reply = next(replies, None)
        if reply is not None:
            return reply
        if kind_of(request) == "run":
            return httpx.Response(200, json={"id": 70, "state": "succeeded", "error": None, "finishedAt": None})
        return listing([job(7, 70, "succeeded")] if kind_of(request) == "ended" else [])

    holder: list[RunPoller] = []

    async def main():
        poller, seen = poller_answering(handler, min_interval=0.05)
        holder.append(poller)
        watch = poller.register(REF, 0.05)
        started = time.monotonic()
        outcome = await asyncio.wait_for(watch.wait(None), 10)
        poller.unregister(watch)
        return outcome, seen, time.monotonic() - started

    outcome, seen, waited = asyncio.run(main())
    assert outcome["status"] == "succeeded"
    assert waited >= 0.4  # nothing was sent during the Retry-After pause
    assert seen[0].url.path == "/jobs" and len(seen) >= 2
    assert slowdowns[0] == 1.0 and slowdowns[1] == 2.0  # the request after the 429 came in a slowed cycle


def test_first_look_at_many_new_runs_is_one_list_call_not_one_request_each():
    jobs = [job(i, i * 10, "running") for i in range(1, 41)]

    def handler(request):
        assert kind_of(request) != "run", "no single-run request for runs the list shows"
        hidden = request.url.params["hidden"] == "true"
        return listing(jobs if kind_of(request) == "sweep" and hidden else [])

    async def main():
        poller, seen = poller_answering(handler, min_interval=0.01)
        watches = [poller.register(RunRef("job", i, i * 10), 10) for i in range(1, 41)]
        deadline = time.monotonic() + 5
        while any(t.status is not TrackStatus.LISTED for t in poller._runs.values()):  # bounded wait
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        views = {t.view for t in poller._runs.values()}
        for w in watches:
            poller.unregister(w)
        return seen, views

    seen, views = asyncio.run(main())
    assert views == {View.HIDDEN}
    # probe both views (nothing to learn from), a first change list (no earlier read: a gap), then the
    # hidden active list shows every job: no per-run GET, and the visible view is not read once no
    # watched job can be in it (a next cycle may have begun before the wait above saw them all listed)
    calls = [(kind_of(r), r.url.params["hidden"]) for r in seen]
    assert calls[:2] == [("ended", "true"), ("ended", "false")]
    assert sorted(calls[2:4]) == [("changes", "true"), ("sweep", "true")]  # read at once: either first
    assert all(hidden == "true" for _, hidden in calls[2:])
    assert all(r.url.params["limit"] == "50" for r in seen)


def test_a_run_that_left_the_active_list_completes_from_the_ended_list_without_fetching_it():
    def handler(request):
        assert kind_of(request) != "run"
        if kind_of(request) == "ended" and request.url.params["page_num"] == "1":
            item = job(7, 70, "failed", "2030-01-01T00:00:05.000Z", error="boom", finishedAt="2030-01-01T00:00:05Z")
            return listing([item])
        return listing([])

    async def main():
        poller, seen = poller_answering(handler, min_interval=0.01)
        poller._probed = True
        watch = poller.register(REF, 10)
        tracked = poller._runs[REF]
        tracked.status, tracked.view, tracked.stamp = TrackStatus.LISTED, View.HIDDEN, 1_893_456_000.0
        outcome = await asyncio.wait_for(watch.wait(None), 5)
        poller.unregister(watch)
        return outcome, seen

    outcome, seen = asyncio.run(main())
    assert outcome == {"status": "failed", "error": "boom", "finished_at": "2030-01-01T00:00:05Z"}
    assert [kind_of(r) for r in seen] == ["changes", "sweep", "ended"]


def test_change_list_skips_never_run_jobs_instead_of_stopping_at_them():
    never_run = {"id": 5, "state": "idle", "lastRunUpdatedAt": None, "lastRun": None}
    ended = job(7, 70, "succeeded", "2030-01-01T00:00:09.000Z", finishedAt="2030-01-01T00:00:09Z")

    def handler(request):
        assert kind_of(request) == "changes", "the change list alone answers"
        return listing([never_run, ended])  # NULLs first under DESC, as PostgreSQL sorts them

    async def main():
        poller, seen = poller_answering(handler, min_interval=0.01)
        poller.semantics = StampSemantics.EVERY_CHANGE
        watch = poller.register(REF, 10)
        poller._runs[REF].view = View.HIDDEN
        outcome = await asyncio.wait_for(watch.wait(None), 5)
        poller.unregister(watch)
        return outcome, seen

    outcome, seen = asyncio.run(main())
    assert outcome["status"] == "succeeded"
    assert seen[0].url.params["state"] == RUN_STATES  # never-run jobs filtered out as well


@pytest.mark.parametrize("where", ["list item", "per-run GET"])
def test_a_state_the_provider_does_not_know_ends_the_wait(where):
    # civis-python counts "success" as finished (civis/base.py FINISHED): anything not queued/running ends.
    def handler(request):
        if kind_of(request) == "run":
            return httpx.Response(200, json={"id": 70, "state": "success", "error": None, "finishedAt": None})
        return listing([job(7, 70, "success")] if kind_of(request) == "sweep" else [])

    async def main():
        poller, seen = poller_answering(handler, min_interval=0.01)
        poller._probed = True
        if where == "per-run GET":
            poller.mode = PollMode.PER_RUN
        watch = poller.register(REF, 10)
        outcome = await asyncio.wait_for(watch.wait(None), 5)
        poller.unregister(watch)
        return outcome, seen

    outcome, seen = asyncio.run(main())
    assert outcome["status"] == "success"
    assert kind_of(seen[-1]) == ("run" if where == "per-run GET" else "sweep")


def test_ended_look_up_stops_when_a_page_costs_more_than_fetching_the_rest():
    others = [job(100 + i, 1000 + i, "succeeded", "2030-01-01T00:01:00.000Z") for i in range(50)]

    def handler(request):
        if kind_of(request) == "run":
            return httpx.Response(200, json={"id": 70, "state": "succeeded", "error": None, "finishedAt": None})
        return listing(others if kind_of(request) == "ended" else [])

    async def main():
        poller, seen = poller_answering(handler, min_interval=0.01)
        poller._probed = True
        watch = poller.register(REF, 10)
        tracked = poller._runs[REF]
        tracked.status, tracked.view, tracked.stamp = TrackStatus.LISTED, View.HIDDEN, 1_893_456_000.0
        outcome = await asyncio.wait_for(watch.wait(None), 5)
        poller.unregister(watch)
        return outcome, seen

    outcome, seen = asyncio.run(main())
    assert outcome["status"] == "succeeded"
    assert [kind_of(r) for r in seen] == ["changes", "sweep", "ended", "run"]  # one page for one run, then its GET


def T(seconds: float) -> str:
    return f"2030-01-01T00:00:{seconds:06.3f}Z"


@pytest.mark.parametrize("stamp, created, finished, state, expected", [
    (T(5), T(0), T(5), "succeeded", StampSemantics.EVERY_CHANGE),  # stamped at the end
    (T(0), T(0), T(5), "failed", StampSemantics.CREATION_ONLY),  # stamped at creation only
    (T(0), T(0), T(0.5), "succeeded", None),  # too short to tell
    (T(0), T(0), None, "running", None),  # not ended
    (None, T(0), T(5), "succeeded", None),  # no stamp
])
def test_what_a_list_item_proves_about_last_run_updated_at(stamp, created, finished, state, expected):
    item = {"id": 1, "lastRunUpdatedAt": stamp, "lastRun": {"id": 2, "state": state, "createdAt": created,
                                                            "finishedAt": finished}}
    assert stamp_evidence(item) is expected


def test_creation_only_evidence_wins_and_sticks():
    poller, _ = poller_answering(lambda request: listing([]))
    poller._learn({"id": 1, "lastRunUpdatedAt": T(5), "lastRun": {"state": "succeeded", "createdAt": T(0),
                                                                   "finishedAt": T(5)}})
    assert poller.semantics is StampSemantics.EVERY_CHANGE
    poller._learn({"id": 2, "lastRunUpdatedAt": T(0), "lastRun": {"state": "succeeded", "createdAt": T(0),
                                                                   "finishedAt": T(5)}})
    poller._learn({"id": 3, "lastRunUpdatedAt": T(5), "lastRun": {"state": "succeeded", "createdAt": T(0),
                                                                   "finishedAt": T(5)}})
    assert poller.semantics is StampSemantics.CREATION_ONLY


def test_pages_never_ask_for_more_than_the_api_maximum():
    with pytest.raises(ValueError, match="maximum of 50"):
        PollerConfig.from_extra({"page_size": 100})
    seen: list[httpx.Request] = []

    async def main():
        poller, requests = poller_answering(lambda request: listing([]), page_size=80)
        await poller._list_page("sweep", View.HIDDEN, {"state": "queued,running"}, 1)
        seen.extend(requests)

    asyncio.run(main())
    assert seen[0].url.params["limit"] == "50"


@pytest.mark.parametrize("state, active", [("queued", True), ("running", True), ("succeeded", False),
                                           ("success", False), ("cancelled", False), ("weird", False)])
def test_only_queued_and_running_are_active(state, active):
    assert is_active(state) is active


def test_token_bucket_spends_its_burst_then_keeps_the_rate():
    async def main():
        bucket = TokenBucket(rate=50, burst=5)
        started = time.monotonic()
        for _ in range(15):
            await bucket.take()
        return time.monotonic() - started

    assert 0.18 <= asyncio.run(main()) < 1.0  # 5 at once, 10 more at 50/s


@pytest.mark.parametrize("extra, message", [
    ({"rate": 3}, "unknown poller option"), ({"burst": 0}, "> 0"), ([1], "mapping"),
])
def test_poller_settings_from_the_connection_are_checked(extra, message):
    with pytest.raises(ValueError, match=message):
        PollerConfig.from_extra(extra)


def test_poller_settings_from_the_connection_are_read():
    assert PollerConfig.from_extra({"requests_per_second": "2", "burst": 3}).burst == 3


def test_public_modules_do_not_import_the_async_client_or_the_emulator():
    code = (
        "import sys, airflow_civis.operators, airflow_civis.sensors, airflow_civis.hooks.civis,"
        " airflow_civis.operators.base, airflow_civis.triggers.run\n"
        "bad = ['civis_emulator', 'fastapi', 'duckdb', 'sklearn', 'airflow_civis.hooks.civis_async',"
        " 'airflow_civis.triggers.poller']\n"
        "print([m for m in bad if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_long_active_list_is_replaced_by_the_shorter_ended_window():
    ended = job(7, 70, "succeeded", "2030-01-01T00:00:01.000Z", finishedAt="2030-01-01T00:00:09Z")
    older = job(8, 80, "succeeded", "2029-12-31T23:00:00.000Z")  # below every watched stamp: the window ends

    def handler(request):
        assert kind_of(request) not in ("sweep", "run"), "the window answers without the active list"
        return listing([ended, older] if kind_of(request) == "ended" else [])

    async def main():
        poller, seen = poller_answering(handler, min_interval=0.01)
        poller._probed = True
        poller._watermark[View.HIDDEN] = 1_893_456_000.0  # a change list was read before
        poller._sweep_pages[View.HIDDEN] = 20  # the last active list took 20 pages
        poller._last_sweep[View.HIDDEN] = time.monotonic()
        watch = poller.register(REF, 10)
        tracked = poller._runs[REF]
        tracked.status, tracked.view, tracked.stamp = TrackStatus.LISTED, View.HIDDEN, 1_893_456_000.0
        outcome = await asyncio.wait_for(watch.wait(None), 5)
        poller.unregister(watch)
        return outcome, seen, poller.requests

    outcome, seen, requests = asyncio.run(main())
    assert outcome["status"] == "succeeded"
    assert [kind_of(r) for r in seen] == ["changes", "ended"] and requests["window"] == 1


def test_change_list_and_ended_window_are_read_at_once_not_one_after_the_other():
    """Creation-only stamps: the change list and the ended window do not depend on each other, so one
    cycle asks for both before either answers (each answer here waits until the other was asked for:
    read one after the other, the cycle would never finish)."""
    ended = job(7, 70, "succeeded", "2030-01-01T00:00:01.000Z", finishedAt="2030-01-01T00:00:09Z")
    asked: dict[str, asyncio.Event] = {"changes": asyncio.Event(), "ended": asyncio.Event()}

    async def handler(request):
        kind = kind_of(request)
        assert kind in asked, "the window answers: no active list, no single-run GET"
        asked[kind].set()
        other = asked["ended" if kind == "changes" else "changes"]
        await asyncio.wait_for(other.wait(), 2)  # raises (and the test fails) if read one after the other
        return listing([ended] if kind == "ended" else [])

    async def main():
        poller, seen = poller_answering(handler, min_interval=0.01)
        poller._probed = True
        poller.semantics = StampSemantics.CREATION_ONLY
        poller._watermark[View.HIDDEN] = 1_893_456_000.0
        poller._sweep_pages[View.HIDDEN] = 20
        poller._last_sweep[View.HIDDEN] = time.monotonic()
        watch = poller.register(REF, 10)
        tracked = poller._runs[REF]
        tracked.status, tracked.view, tracked.stamp = TrackStatus.LISTED, View.HIDDEN, 1_893_456_000.0
        outcome = await asyncio.wait_for(watch.wait(None), 5)
        poller.unregister(watch)
        return outcome, seen

    outcome, seen = asyncio.run(main())
    assert outcome["status"] == "succeeded"
    assert sorted(kind_of(r) for r in seen[:2]) == ["changes", "ended"]
