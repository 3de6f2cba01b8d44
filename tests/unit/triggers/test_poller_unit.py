"""RunPoller at the HTTP boundary: every test drives it only through what it registers and what the API
answers (the async hook's ``transport=``, an httpx MockTransport), and reads what it sent and what the
watchers got back; no test sets or reads the poller's private state.

Covered: 429 handling, the request budget, which lists answer which questions, settings, import cost.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable

import httpx
import pytest

from airflow_civis.hooks.civis_async import CivisAsyncHook
from airflow_civis.runs import RunRef
from airflow_civis.triggers._poller_model import (
    ENDED_STATES,
    RUN_STATES,
    PollMode,
    StampSemantics,
    is_active,
    stamp_evidence,
)
from airflow_civis.triggers.poller import NO_RETRY, PollerConfig, RunPoller, TokenBucket

BASE = "https://api.example.test"
REF = RunRef("job", 7, 70)
NOT_FOUND = {"error": "not_found", "errorDescription": "The requested endpoint could not be found.", "code": 404}


@pytest.fixture(autouse=True)
def civis_connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CIVIS_DEFAULT", json.dumps({"conn_type": "civis", "password": "k", "host": BASE}))


def poller_answering(handler, **config) -> tuple[RunPoller, list[httpx.Request]]:
    """A poller whose hook sends every request to ``handler`` (and records it), as the poller builds it."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request):
        seen.append(request)
        return handler(request)

    hook = CivisAsyncHook(retry=NO_RETRY, transport=httpx.MockTransport(record))
    return RunPoller(hook, PollerConfig(**config)), seen


def T(seconds: float) -> str:
    return f"2030-01-01T00:00:{seconds:06.3f}Z"


def job(job_id: int, run_id: int, state: str, stamp: str | None = T(0), **run) -> dict:
    return {"id": job_id, "state": state, "lastRunUpdatedAt": stamp,
            "lastRun": {"id": run_id, "state": state, "error": None, "finishedAt": None, "createdAt": T(0), **run}}


#: A job whose run lasted 5 s and whose stamp is at its end / at its creation: what the probe learns from.
STAMPED_AT_END = job(99, 990, "succeeded", T(5), finishedAt=T(5))
STAMPED_AT_CREATION = job(98, 980, "succeeded", T(0), finishedAt=T(5))


def listing(items: list[dict], total: int | None = None) -> httpx.Response:
    total = len(items) if total is None else total
    return httpx.Response(200, json=items, headers={"X-Pagination-Total-Entries": str(total)})


def run_answer(state: str) -> httpx.Response:
    return httpx.Response(200, json={"id": REF.run_id, "state": state, "error": None, "finishedAt": None})


def kind_of(request: httpx.Request) -> str:
    """Which call the poller made: ended (the probe, the window or the look-up), sweep, changes, or run."""
    if request.url.path != "/jobs":
        return "run"
    return {ENDED_STATES: "ended", "queued,running": "sweep", RUN_STATES: "changes"}[request.url.params["state"]]


def kinds(seen: list[httpx.Request]) -> list[str]:
    return [kind_of(r) for r in seen]


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def outcome_of(poller: RunPoller, ref: RunRef = REF, poll_interval: float = 10) -> dict:
    watch = poller.register(ref, poll_interval)
    try:
        return await asyncio.wait_for(watch.wait(None), 5)
    finally:
        poller.unregister(watch)


def followed_then(ended_list: list[dict]):
    """An API whose first active list shows REF's job running and whose later ones no longer show it;
    the ended list (read only after that) answers ``ended_list``, and the run's own GET ``succeeded``."""
    sweeps: list[httpx.Request] = []

    def handler(request):
        kind = kind_of(request)
        if kind == "sweep":
            sweeps.append(request)
            return listing([job(7, 70, "running")] if len(sweeps) == 1 else [])
        if kind == "run":
            return run_answer("succeeded")
        return listing(ended_list if kind == "ended" and len(sweeps) > 1 else [])  # else: probe, change list

    return handler


def after_a_twenty_page_active_list(window: Callable[[httpx.Request], object], probe: list[dict]):
    """An API whose active list holds 1000 jobs (20 pages; REF's job running on the first): once it was
    read, the ended list is answered by ``window`` (the probe before it by ``probe``)."""
    sweeps: list[httpx.Request] = []

    def handler(request):
        kind = kind_of(request)
        assert kind != "run", "no single-run GET: the lists answer"
        if kind == "sweep":
            assert len(sweeps) < 20, "the active list is read once: then the shorter ended window replaces it"
            sweeps.append(request)
            first = request.url.params["page_num"] == "1"
            return listing([job(7, 70, "running")] if first else [], total=1000)
        if len(sweeps) < 20:
            return listing(probe if kind == "ended" else [])
        return window(request)

    return handler


# -- 429 ------------------------------------------------------------------------------------------------
def test_429_pauses_every_request_for_retry_after():
    sent_at: list[float] = []

    def handler(request):
        sent_at.append(time.monotonic())
        if len(sent_at) == 1:  # the first list call
            return httpx.Response(429, headers={"Retry-After": "0.4"}, json={"error": "slow down"})
        return run_answer("succeeded") if kind_of(request) == "run" else listing([])

    async def main():
        poller, seen = poller_answering(handler, min_interval=0.05)
        return await outcome_of(poller, poll_interval=0.05), seen

    outcome, seen = asyncio.run(main())
    assert outcome["status"] == "succeeded"
    assert kinds(seen) == ["ended", "run"]  # the probe got the 429; the run's own GET answered
    assert sent_at[1] - sent_at[0] >= 0.4  # a different request, held for the whole Retry-After


def test_429_slows_the_cycle_down():
    """Every run on its own (GET /jobs answers 404), checked every 0.2 s: a 429 (with no wait asked)
    doubles the next interval; without the slowdown the next check would come 0.2 s later."""
    replies = iter([run_answer("running"), httpx.Response(429, headers={"Retry-After": "0"}, json={"error": "x"}),
                    run_answer("running"), run_answer("succeeded")])
    sent_at: list[float] = []

    def handler(request):
        if kind_of(request) != "run":
            return httpx.Response(404, json=NOT_FOUND)
        sent_at.append(time.monotonic())
        return next(replies)

    async def main():
        poller, _ = poller_answering(handler, min_interval=0.2)
        return await outcome_of(poller, poll_interval=0.2), poller.mode

    outcome, mode = asyncio.run(main())
    assert outcome["status"] == "succeeded" and mode is PollMode.PER_RUN
    first_gap, after_429 = sent_at[1] - sent_at[0], sent_at[2] - sent_at[1]
    assert first_gap >= 0.2
    assert after_429 >= 0.4  # twice the interval


# -- which lists answer -----------------------------------------------------------------------------
def test_first_look_at_many_new_runs_is_one_list_call_not_one_request_each():
    jobs = [job(i, i * 10, "running") for i in range(1, 41)]

    def handler(request):
        hidden = request.url.params.get("hidden") == "true"
        return listing(jobs if kind_of(request) == "sweep" and hidden else [])

    async def main():
        poller, seen = poller_answering(handler, min_interval=0.01)
        watches = [poller.register(RunRef("job", i, i * 10), 10) for i in range(1, 41)]
        try:  # a second active list: the cycle after the first one has run
            await until(lambda: kinds(seen).count("sweep") >= 2)
        finally:
            for w in watches:
                poller.unregister(w)
        return seen

    seen = asyncio.run(main())
    # probe both views (nothing to learn from), a first change list (no earlier read: a gap) and the
    # hidden active list, which shows every job: no per-run GET (a run it had not shown would be
    # fetched), and the visible view is never read again (it would be while some job might be there)
    calls = [(kind_of(r), r.url.params.get("hidden")) for r in seen]
    assert calls[:2] == [("ended", "true"), ("ended", "false")]
    assert sorted(calls[2:4]) == [("changes", "true"), ("sweep", "true")]  # read at once: either first
    assert "run" not in kinds(seen)
    assert all(hidden == "true" for _, hidden in calls[2:])
    assert all(r.url.params["limit"] == "50" for r in seen)


def test_a_run_that_left_the_active_list_completes_from_the_ended_list_without_fetching_it():
    failed = job(7, 70, "failed", T(5), error="boom", finishedAt="2030-01-01T00:00:05Z")

    async def main():
        poller, seen = poller_answering(followed_then([failed]), min_interval=0.01)
        return await outcome_of(poller), seen

    outcome, seen = asyncio.run(main())
    assert outcome == {"status": "failed", "error": "boom", "finished_at": "2030-01-01T00:00:05Z"}
    calls = kinds(seen)
    assert calls[:2] == ["ended", "ended"]  # the probe, both views
    assert sorted(calls[2:4]) == sorted(calls[4:6]) == ["changes", "sweep"]  # shown running, then gone
    assert calls[6:] == ["ended"]  # one page of the ended list answers; no GET of the run


def test_ended_look_up_stops_when_a_page_costs_more_than_fetching_the_rest():
    others = [job(100 + i, 1000 + i, "succeeded", "2030-01-01T00:01:00.000Z") for i in range(50)]

    async def main():
        poller, seen = poller_answering(followed_then(others), min_interval=0.01)
        return await outcome_of(poller), seen

    outcome, seen = asyncio.run(main())
    assert outcome["status"] == "succeeded"
    assert kinds(seen)[6:] == ["ended", "run"]  # one page for one run, then its GET


def test_change_list_skips_never_run_jobs_instead_of_stopping_at_them():
    never_run = {"id": 5, "state": "idle", "lastRunUpdatedAt": None, "lastRun": None}
    ended = job(7, 70, "succeeded", "2030-01-01T00:00:09.000Z", finishedAt="2030-01-01T00:00:09Z")

    def handler(request):
        if kind_of(request) == "ended":  # the probe: stamps move on every change
            return listing([STAMPED_AT_END])
        return listing([never_run, ended] if kind_of(request) == "changes" else [])  # NULLs first, as in PostgreSQL

    async def main():
        poller, seen = poller_answering(handler, min_interval=0.01)
        return await outcome_of(poller), seen, poller.semantics

    outcome, seen, semantics = asyncio.run(main())
    assert outcome["status"] == "succeeded" and semantics is StampSemantics.EVERY_CHANGE
    assert kinds(seen) == ["ended", "changes"]  # the change list alone answers
    assert seen[1].url.params["state"] == RUN_STATES  # never-run jobs filtered out as well


@pytest.mark.parametrize("where", ["list item", "per-run GET"])
def test_a_state_the_provider_does_not_know_ends_the_wait(where):
    # civis-python counts "success" as finished (civis/base.py FINISHED): anything not queued/running ends.
    def handler(request):
        if kind_of(request) == "run":
            return run_answer("success")
        if where == "per-run GET":
            return httpx.Response(404, json=NOT_FOUND)  # GET /jobs not usable: every run on its own
        return listing([job(7, 70, "success")] if kind_of(request) == "sweep" else [])

    async def main():
        poller, seen = poller_answering(handler, min_interval=0.01)
        return await outcome_of(poller), seen

    outcome, seen = asyncio.run(main())
    assert outcome["status"] == "success"
    assert kinds(seen)[-1] == ("run" if where == "per-run GET" else "sweep")


def test_a_long_active_list_is_replaced_by_the_shorter_ended_window():
    ended = job(7, 70, "succeeded", "2030-01-01T00:00:01.000Z", finishedAt="2030-01-01T00:00:09Z")
    older = job(8, 80, "succeeded", "2029-12-31T23:00:00.000Z")  # below every watched stamp: the window ends

    async def main():
        handler = after_a_twenty_page_active_list(lambda request: listing(
            [ended, older] if kind_of(request) == "ended" else []), probe=[])
        poller, seen = poller_answering(handler, min_interval=0.01)
        return await outcome_of(poller), seen, poller.requests

    outcome, seen, requests = asyncio.run(main())
    assert outcome["status"] == "succeeded"
    calls = kinds(seen)
    assert calls.count("sweep") == 20
    after = calls[len(calls) - calls[::-1].index("sweep"):]  # what came after the 20-page active list
    assert sorted(after) == ["changes", "ended"] and requests["window"] == 1


def test_change_list_and_ended_window_are_read_at_once_not_one_after_the_other():
    """Creation-only stamps: the change list and the ended window do not depend on each other, so one
    cycle asks for both before either answers (each answer here waits until the other was asked for:
    read one after the other, the cycle would never finish)."""
    ended = job(7, 70, "succeeded", "2030-01-01T00:00:01.000Z", finishedAt="2030-01-01T00:00:09Z")
    asked: dict[str, asyncio.Event] = {}

    async def window(request):
        kind = kind_of(request)
        asked.setdefault(kind, asyncio.Event()).set()
        other = asked.setdefault("ended" if kind == "changes" else "changes", asyncio.Event())
        await asyncio.wait_for(other.wait(), 2)  # raises (and the test fails) if read one after the other
        return listing([ended] if kind == "ended" else [])

    async def main():
        handler = after_a_twenty_page_active_list(window, probe=[STAMPED_AT_CREATION])
        poller, seen = poller_answering(handler, min_interval=0.01)
        return await outcome_of(poller), seen, poller.semantics

    outcome, seen, semantics = asyncio.run(main())
    assert outcome["status"] == "succeeded" and semantics is StampSemantics.CREATION_ONLY
    calls = kinds(seen)
    assert calls[0] == "ended" and calls.count("sweep") == 20  # one probe page was enough to learn
    assert sorted(calls[-2:]) == ["changes", "ended"]


# -- what list items prove about lastRunUpdatedAt ----------------------------------------------------
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
    """The probe proves "every change"; then one change list shows a "creation only" item followed by an
    "every change" one: the poller ends on "creation only" (what each request saw is recorded)."""
    semantics_when_sent: list[tuple[str, StampSemantics]] = []
    holder: list[RunPoller] = []

    def handler(request):
        kind = kind_of(request)
        semantics_when_sent.append((kind, holder[0].semantics))
        if kind == "ended":
            return listing([STAMPED_AT_END])
        if kind == "changes":
            return listing([STAMPED_AT_CREATION, job(97, 970, "succeeded", T(5), finishedAt=T(5))])
        return listing([job(7, 70, "running")])

    async def main():
        poller, seen = poller_answering(handler, min_interval=0.01)
        holder.append(poller)
        watch = poller.register(REF, 10)
        try:
            await until(lambda: kinds(seen).count("changes") >= 2)
        finally:
            poller.unregister(watch)
        return poller.semantics

    final = asyncio.run(main())
    assert semantics_when_sent[0] == ("ended", StampSemantics.UNKNOWN)
    first_changes = next(s for kind, s in semantics_when_sent if kind == "changes")
    assert first_changes is StampSemantics.EVERY_CHANGE  # learned from the probe
    assert final is StampSemantics.CREATION_ONLY  # and the "every change" item after it did not undo it


# -- settings and budget -------------------------------------------------------------------------------
def test_pages_never_ask_for_more_than_the_api_maximum():
    with pytest.raises(ValueError, match="maximum of 50"):
        PollerConfig.from_extra({"page_size": 100})

    async def main():
        poller, seen = poller_answering(lambda request: listing([]) if kind_of(request) != "run"
                                        else run_answer("running"), page_size=80, min_interval=0.01)
        watch = poller.register(REF, 10)
        try:
            await until(lambda: "sweep" in kinds(seen))
        finally:
            poller.unregister(watch)
        return seen

    seen = asyncio.run(main())
    assert {r.url.params["limit"] for r in seen if kind_of(r) != "run"} == {"50"}


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
