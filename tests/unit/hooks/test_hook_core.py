"""One HTTP core for both hooks: shared base, ``transport=`` injection instead of private attributes,
the run-state enum the lifecycle compares with."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from airflow_civis.exceptions import CivisAPIError, CivisTransportError
from airflow_civis.hooks._core import CivisHookBase
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.hooks.civis_async import CivisAsyncHook
from airflow_civis.runs import ACTIVE_STATES, TERMINAL_STATES, CivisRunState, RunRef, refused_cancel
from tests.transports import Transport

API_KEY = "unit-core-key-5d1a0c"
BASE = "https://api.example.test"
FAST = {"max_attempts": 3, "backoff_initial": 0.0}


@pytest.fixture(autouse=True)
def connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CIVIS_DEFAULT", json.dumps(
        {"conn_type": "civis", "password": API_KEY, "host": BASE, "extra": {"verify": "/etc/ssl/company-ca.pem"}}))


def test_both_hooks_share_one_base_and_its_connection_attributes():
    for hook in (CivisHook, CivisAsyncHook):
        assert issubclass(hook, CivisHookBase)
        assert (hook.conn_type, hook.conn_name_attr, hook.default_conn_name) == ("civis", "civis_conn_id",
                                                                                "civis_default")
    assert CivisHook.get_ui_field_behaviour() == CivisAsyncHook.get_ui_field_behaviour()


def test_sync_transport_sees_auth_user_agent_and_the_connections_verify():
    adapter = Transport(lambda request: (200, {"id": 7}))
    assert CivisHook(transport=adapter).call("GET", "/jobs/7") == {"id": 7}
    ((request, kwargs),) = adapter.calls
    assert request.url == f"{BASE}/jobs/7" and request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["User-Agent"].startswith("airflow-civis/")
    assert kwargs["verify"] == "/etc/ssl/company-ca.pem"


def test_async_transport_replaces_the_network_with_the_same_retries_and_errors():
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(502, json={"errorDescription": "gateway"})
        return httpx.Response(200, json={"id": 3, "state": "running"})

    async def main() -> dict:
        async with CivisAsyncHook(retry=FAST, transport=httpx.MockTransport(answer)) as hook:
            return await hook.call("GET", "/jobs/3/runs/4")

    assert asyncio.run(main()) == {"id": 3, "state": "running"}
    assert [r.url.path for r in seen] == ["/jobs/3/runs/4"] * 2  # a GET 502 is retried, as in the sync hook
    assert seen[0].headers["Authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize(("hook_kind", "expected"), [("sync", CivisAPIError), ("async", CivisTransportError)])
def test_error_mapping_is_shared(hook_kind, expected):
    """A POST answered 502 (sync) or dropped after sending (async): not repeated, mapped to our errors."""
    if hook_kind == "sync":
        adapter = Transport(lambda request: (502, {"errorDescription": "gateway"}))
        with pytest.raises(expected) as info:
            CivisHook(retry=FAST, transport=adapter).call("POST", "/scripts/python3/5/runs")
        assert len(adapter.sent) == 1 and info.value.status == 502 and "gateway" in str(info.value)
        return
    calls: list[httpx.Request] = []

    def drop(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.RemoteProtocolError("Server disconnected", request=request)

    async def main() -> None:
        async with CivisAsyncHook(retry=FAST, transport=httpx.MockTransport(drop)) as hook:
            await hook.call("POST", "/scripts/python3/5/runs")

    with pytest.raises(expected) as info:
        asyncio.run(main())
    assert len(calls) == 1 and info.value.request_sent is True and API_KEY not in str(info.value)


def test_run_states_are_an_enum_that_compares_with_the_apis_strings():
    assert CivisRunState("succeeded") is CivisRunState.SUCCEEDED and CivisRunState.SUCCEEDED == "succeeded"
    assert ACTIVE_STATES == {"queued", "running", "paused"} and TERMINAL_STATES == {"succeeded", "failed",
                                                                                    "cancelled"}
    assert ACTIVE_STATES | TERMINAL_STATES == {state.value for state in CivisRunState}
    assert all(type(state) is str for state in ACTIVE_STATES | TERMINAL_STATES)  # serialise as the API's
    assert CivisRunState.FAILED in TERMINAL_STATES and f"{CivisRunState.PAUSED}" == "paused"
    err = CivisAPIError("DELETE", "/scripts/python3/1/runs/2", 404, "gone")
    assert refused_cancel(RunRef("python3", 1, 2), err, CivisRunState.CANCELLED) is None


@pytest.mark.parametrize(("state", "explained"), [
    ("succeeded", True), ("success", True), ("failed", True), ("running", False), ("queued", False), (None, False),
])
def test_a_refused_cancel_is_explained_by_any_ended_state_even_an_unknown_one(state, explained):
    err = CivisAPIError("DELETE", "/scripts/python3/1/runs/2", 404, "gone")
    answer = refused_cancel(RunRef("python3", 1, 2), err, state)
    assert (answer is None) is explained
    if not explained:
        assert answer is not None and answer.status == 404 and "still" in answer.api_message
