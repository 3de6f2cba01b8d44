"""Where the hooks send each call on a run, per kind, and how they page, at a scripted HTTP boundary.

Generic imports answer a start with ``{"runId"}`` and have no per-run GET/DELETE (poll and cancel go
through ``/jobs``); outputs are read from ``/jobs/{id}/runs/{run_id}/outputs`` and paged at 50; a 404
on cancel is "already finished" only if the run really has finished.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from airflow_civis.exceptions import CivisAPIError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.hooks.civis_async import CivisAsyncHook
from airflow_civis.runs import RunRef
from tests.transports import Transport, scripted

BASE = "https://api.example.test"
NO_RETRY = {"max_attempts": 1}
NOT_FOUND = (404, {"error": "not_found", "errorDescription": "The requested endpoint could not be found.",
                   "code": 404}, {})


@pytest.fixture(autouse=True)
def setup(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CIVIS_DEFAULT", json.dumps({"conn_type": "civis", "password": "k", "host": BASE}))
    monkeypatch.setattr("tenacity.nap.time.sleep", lambda s: None)


def hook_with(replies: list) -> tuple[CivisHook, Transport]:
    adapter = scripted(replies)
    return CivisHook(retry=NO_RETRY, transport=adapter), adapter


def ok(body, headers=None, status=200):
    return (status, body, headers or {})


def paths(adapter: Transport) -> list[str]:
    return [f"{method} {url.split('?')[0]}" for method, url in adapter.sent]


# -- generic imports -------------------------------------------------------------------------------
def test_generic_import_start_reads_run_id_from_the_202_answer():
    hook, adapter = hook_with([ok({"id": 5, "lastRun": None}), ok({"runId": 31}, status=202)])
    assert hook.start_run("import", 5) == RunRef("import", 5, 31)
    assert paths(adapter) == ["GET /jobs/5", "POST /imports/5/runs"]


def test_generic_import_is_polled_cancelled_and_logged_through_jobs():
    ref = RunRef("import", 5, 31)
    hook, adapter = hook_with([ok({"id": 31, "state": "running"}), ok(None, status=202), ok([])])
    hook.get_run(ref)
    hook.cancel_run(ref)
    hook.get_run_logs(ref)
    assert paths(adapter) == ["GET /jobs/5/runs/31", "DELETE /jobs/5/runs/31", "GET /jobs/5/runs/31/logs"]


def test_a_start_answer_without_the_run_id_is_a_clear_error():
    hook, _ = hook_with([ok({"id": 5, "lastRun": None}), ok({"id": 31}, status=202)])
    with pytest.raises(ValueError, match="runId"):
        hook.start_run("import", 5)


# -- cancel ----------------------------------------------------------------------------------------
def test_cancel_404_on_a_finished_run_is_quiet():
    hook, adapter = hook_with([NOT_FOUND, ok({"id": 2, "state": "succeeded"})])
    hook.cancel_run(RunRef("python3", 1, 2))
    assert paths(adapter) == ["DELETE /scripts/python3/1/runs/2", "GET /scripts/python3/1/runs/2"]


def test_cancel_404_on_a_run_still_running_is_an_error():
    hook, _ = hook_with([NOT_FOUND, ok({"id": 2, "state": "running"})])
    with pytest.raises(CivisAPIError) as info:
        hook.cancel_run(RunRef("python3", 1, 2))
    assert info.value.status == 404 and "still running" in str(info.value)


def test_cancel_404_where_the_run_cannot_be_read_either_is_an_error():
    hook, _ = hook_with([NOT_FOUND, NOT_FOUND])
    with pytest.raises(CivisAPIError) as info:
        hook.cancel_run(RunRef("python3", 1, 2))
    assert info.value.method == "DELETE"


# -- outputs and paging ----------------------------------------------------------------------------
def outputs(first: int, count: int) -> list[dict]:
    return [{"objectType": "File", "objectId": i, "name": f"part{i}"} for i in range(first, first + count)]


@pytest.mark.parametrize("kind", ["import_csv", "query", "python3", "export_csv", "import"])
def test_outputs_come_from_the_jobs_view_every_page(kind):
    pages = {"X-Pagination-Total-Pages": "2"}
    hook, adapter = hook_with([ok(outputs(1, 50), pages), ok(outputs(51, 10), pages)])
    got = hook.list_run_outputs(RunRef(kind, 4, 9))
    assert [o["objectId"] for o in got] == list(range(1, 61))
    assert paths(adapter) == ["GET /jobs/4/runs/9/outputs"] * 2
    assert "page_num=2" in adapter.sent[1][1] and "limit=50" in adapter.sent[1][1]


def test_paginate_without_headers_stops_when_the_endpoint_ignores_page_num():
    full = [{"id": i} for i in range(1, 51)]  # exactly one page's worth, no X-Pagination-* headers
    hook, adapter = hook_with([ok(full), ok(full)])
    assert [d["id"] for d in hook.paginate("/databases")] == list(range(1, 51))
    assert len(adapter.sent) == 2


def test_paginate_without_headers_stops_when_the_endpoint_ignores_limit():
    hook, adapter = hook_with([ok([{"id": i} for i in range(1, 61)])])
    assert len(list(hook.paginate("/databases"))) == 60
    assert len(adapter.sent) == 1


def test_paginate_without_headers_still_follows_real_pages():
    hook, adapter = hook_with([ok([{"id": 1}, {"id": 2}]), ok([{"id": 3}, {"id": 4}]), ok([{"id": 5}])])
    assert [d["id"] for d in hook.paginate("/things", page_size=2)] == [1, 2, 3, 4, 5]
    assert len(adapter.sent) == 3


# -- the async hook (the trigger's cancel on kill, the poller's run GETs) ---------------------------
def async_hook_with(handler) -> tuple[CivisAsyncHook, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return CivisAsyncHook(retry=NO_RETRY, transport=httpx.MockTransport(record)), seen


def test_async_cancel_of_an_import_goes_through_jobs():
    hook, seen = async_hook_with(lambda r: httpx.Response(202))
    asyncio.run(hook.cancel_run(RunRef("import", 5, 31)))
    assert [(r.method, r.url.path) for r in seen] == [("DELETE", "/jobs/5/runs/31")]


@pytest.mark.parametrize(("state", "raises"), [("succeeded", False), ("running", True)])
def test_async_cancel_404_is_quiet_only_for_a_finished_run(state, raises):
    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return httpx.Response(404, json={"error": "not_found", "errorDescription": "gone", "code": 404})
        return httpx.Response(200, json={"id": 2, "state": state})

    hook, seen = async_hook_with(answer)
    if raises:
        with pytest.raises(CivisAPIError, match="still running"):
            asyncio.run(hook.cancel_run(RunRef("python3", 1, 2)))
    else:
        asyncio.run(hook.cancel_run(RunRef("python3", 1, 2)))
    assert [(r.method, r.url.path) for r in seen] == [("DELETE", "/scripts/python3/1/runs/2"),
                                                      ("GET", "/scripts/python3/1/runs/2")]
