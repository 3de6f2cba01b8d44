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


def job(job_id: int, run_id: int, state: str, stamp: str = "2030-01-01T00:00:00.000Z") -> dict:
    return {"id": job_id, "state": state, "lastRunUpdatedAt": stamp,
            "lastRun": {"id": run_id, "state": state, "error": None, "finishedAt": None}}


def test_429_pauses_every_request_for_retry_after_and_slows_the_cycle():
    replies = iter([httpx.Response(429, headers={"Retry-After": "0.4"}, json={"error": "slow down"})])

    def handler(request):
        reply = next(replies, None)
        if reply is not None:
            return reply
        return httpx.Response(200, json=[job(7, 70, "succeeded")], headers={"X-Pagination-Total-Entries": "1"})

    async def main():
        poller, seen = poller_answering(handler, min_interval=0.05)
        watch = poller.register(REF, 0.05)
        started = time.monotonic()
        outcome = await asyncio.wait_for(watch.wait(None), 10)
        poller.unregister(watch)
        return outcome, seen, time.monotonic() - started, poller

    outcome, seen, waited, poller = asyncio.run(main())
    assert outcome["status"] == "succeeded"
    assert waited >= 0.4  # nothing was sent during the Retry-After pause
    assert seen[0].url.path == "/jobs" and len(seen) >= 2
    assert poller._slowdown > 1.0 or poller.closed


def test_first_look_at_many_new_runs_is_one_list_call_not_one_request_each():
    jobs = [job(i, i * 10, "running") for i in range(1, 41)]

    def handler(request):
        assert request.url.path == "/jobs", "no single-run request for runs the list shows"
        return httpx.Response(200, json=jobs, headers={"X-Pagination-Total-Entries": str(len(jobs))})

    async def main():
        poller, seen = poller_answering(handler, min_interval=0.01)
        watches = [poller.register(RunRef("job", i, i * 10), 10) for i in range(1, 41)]
        deadline = time.monotonic() + 5
        while any(t.status != "listed" for t in poller._runs.values()):  # bounded wait on a condition
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        statuses = {t.status for t in poller._runs.values()}
        for w in watches:
            poller.unregister(w)
        return seen, statuses

    seen, statuses = asyncio.run(main())
    assert statuses == {"listed"}
    # the change list already shows every job with the watched run active: no sweep, no single-run GET
    assert seen[0].url.params["order"] == "last_run_updated_at" and len(seen) == 1


def test_list_item_of_a_finished_run_completes_without_fetching_it():
    def handler(request):
        assert request.url.path == "/jobs"
        item = job(7, 70, "failed", "2030-01-01T00:00:05.000Z")
        item["lastRun"].update(error="boom", finishedAt="2030-01-01T00:00:05Z")
        return httpx.Response(200, json=[item], headers={"X-Pagination-Total-Entries": "1"})

    async def main():
        poller, seen = poller_answering(handler, min_interval=0.01)
        watch = poller.register(REF, 10)
        poller._runs[REF].status = "listed"  # as if a sweep had seen it; the first cycle reads changes
        outcome = await asyncio.wait_for(watch.wait(None), 5)
        poller.unregister(watch)
        return outcome, seen

    outcome, seen = asyncio.run(main())
    assert outcome == {"status": "failed", "error": "boom", "finished_at": "2030-01-01T00:00:05Z"}
    assert len(seen) == 1


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
        "bad = ['airflow_civis.emulator', 'fastapi', 'duckdb', 'sklearn', 'airflow_civis.hooks.civis_async',"
        " 'airflow_civis.triggers.poller']\n"
        "print([m for m in bad if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
