"""Spec path audit, per run kind: every (method, path) the hooks can send for a run is in the official spec.

Derived, not listed: the kinds and their routes come from ``airflow_civis.runs.RUN_ROUTES`` (a new kind
is audited the moment it is added), and the hooks are driven through every run call for every kind at
a recording HTTP boundary, so a hook that builds a path of its own is caught too. Operator-level calls
(files, imports, queries, ML, tables, credentials...) are recorded from real requests against the
emulator in ``tests/integration/operators/test_spec_path_audit_operators.py``.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import requests

from airflow_civis.hooks._connection import CivisSettings
from airflow_civis.hooks._retry import RetryPolicy
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.hooks.civis_async import CivisAsyncHook
from airflow_civis.runs import RUN_ROUTES, RunRef
from civis_emulator.spec_index import get_index
from tests.transports import Transport

BASE = "https://api.example.test"
JOB, RUN = 7, 12
#: Every kind with run routes (job kinds, and any kind an operator of its own uses, such as workflows).
KINDS = tuple(RUN_ROUTES)


def in_spec(method: str, path: str) -> bool:
    return get_index().match(method, path) is not None


def fill(template: str) -> str:
    return template.format(job_id=JOB, run_id=RUN)


@pytest.mark.parametrize("kind", KINDS)
def test_every_run_route_of_every_kind_is_in_the_spec(kind):
    missing = [f"{m} {t}" for m, t in RUN_ROUTES[kind].calls() if not in_spec(m, fill(t))]
    assert not missing, f"{kind}: the spec has no {missing}"


def test_the_audit_itself_rejects_paths_the_spec_lacks():
    assert not in_spec("GET", "/imports/7/runs/12")  # what the hook used to poll generic imports with
    assert not in_spec("GET", "/imports/files/csv/7/runs/12/outputs")
    assert not in_spec("GET", "/queries/7/runs/12/outputs")
    assert in_spec("GET", "/jobs/7/runs/12/outputs")


def plausible_answer(kind: str):
    """An answer to every request with a plausible body for its route."""

    def answer(request: requests.PreparedRequest) -> tuple[int, object]:
        path = request.path_url.split("?")[0]
        if request.method == "POST":
            body: object = {RUN_ROUTES[kind].run_id_field: RUN, "state": "queued"}
        elif path == f"/jobs/{JOB}":
            body = {"id": JOB, "lastRun": None}
        elif path.endswith(("/logs", "/outputs")):
            body = []
        else:
            body = {"id": RUN, "state": "running"}
        return (202 if request.method in ("POST", "DELETE") else 200), body

    return answer


@pytest.fixture(autouse=True)
def connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CIVIS_DEFAULT", json.dumps({"conn_type": "civis", "password": "k", "host": BASE}))


@pytest.mark.parametrize("kind", KINDS)
def test_the_sync_hook_sends_every_run_call_where_runs_py_says(kind):
    recorder = Transport(plausible_answer(kind))
    hook = CivisHook(retry={"max_attempts": 1}, transport=recorder)
    ref = hook.start_run(kind, JOB)
    assert ref == RunRef(kind, JOB, RUN)
    hook.get_run(ref)
    hook.cancel_run(ref)
    if RUN_ROUTES[kind].logs is not None:  # a kind without logs or outputs of its own is never asked for them
        hook.get_run_logs(ref)
    if RUN_ROUTES[kind].outputs is not None:
        hook.list_run_outputs(ref)
    expected = {(m, fill(t)) for m, t in RUN_ROUTES[kind].calls()} | {("GET", f"/jobs/{JOB}")}
    sent = {(method, path.split("?")[0]) for method, path in recorder.sent}
    assert sent == expected
    assert all(in_spec(m, p) for m, p in sent)


@pytest.mark.parametrize("kind", KINDS)
def test_the_async_hook_polls_and_cancels_where_runs_py_says(kind):
    sent: list[tuple[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append((request.method, request.url.path))
        return httpx.Response(202 if request.method != "GET" else 200, json={"id": RUN, "state": "running"})

    hook = CivisAsyncHook(retry={"max_attempts": 1})
    hook._settings = CivisSettings(conn_id="civis_default", base_url=BASE, api_key="k-unit",
                                   retry=RetryPolicy.from_value({"max_attempts": 1}))
    hook._client = httpx.AsyncClient(base_url=BASE, transport=httpx.MockTransport(answer))
    ref = RunRef(kind, JOB, RUN)

    async def drive() -> None:
        await hook.get_run(ref)
        await hook.cancel_run(ref)
        await hook.aclose()

    asyncio.run(drive())
    routes = RUN_ROUTES[kind]
    assert sent == [("GET", fill(routes.run)), (routes.cancel_call[0], fill(routes.cancel_call[1]))]
    assert all(in_spec(m, p) for m, p in sent)
