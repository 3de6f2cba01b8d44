"""CivisHook against a scripted HTTP boundary (a requests adapter): retries, errors, paging, secrets."""

from __future__ import annotations

import json

import pytest
import requests

from airflow_civis.exceptions import CivisAPIError, CivisConnectionError, CivisTransportError
from airflow_civis.hooks._retry import RetryPolicy
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.runs import RunRef
from tests.transports import Transport, scripted

API_KEY = "unit-test-secret-key-1234"


@pytest.fixture(autouse=True)
def civis_connection(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_CIVIS_DEFAULT",
        json.dumps({"conn_type": "civis", "password": API_KEY, "host": "https://api.example.test"}),
    )


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr("tenacity.nap.time.sleep", waited.append)
    return waited


def hook_with(replies: list) -> tuple[CivisHook, Transport]:
    adapter = scripted(replies)
    return CivisHook(transport=adapter), adapter


def ok(body, headers=None):
    return (200, body, headers or {})


def test_bearer_auth_user_agent_and_url():
    hook, adapter = hook_with([ok({"id": 1, "username": "me"})])
    assert hook.call("GET", "/users/me") == {"id": 1, "username": "me"}
    sent = adapter.requests[0]
    assert sent.url == "https://api.example.test/users/me"
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"
    assert sent.headers["User-Agent"].startswith("airflow-civis/")


def test_429_honours_retry_after_then_succeeds(sleeps):
    hook, adapter = hook_with([(429, {"error": "rate"}, {"Retry-After": "4"}), ok({"id": 3})])
    assert hook.call("GET", "/jobs/3") == {"id": 3}
    assert len(adapter.requests) == 2
    assert sleeps == [4.0]


def test_get_retries_5xx_until_attempts_run_out(sleeps):
    attempts = RetryPolicy().max_attempts
    hook, adapter = hook_with([(502, None, {})] * attempts)
    with pytest.raises(CivisAPIError) as info:
        hook.call("GET", "/jobs/3")
    assert info.value.status == 502
    assert len(adapter.requests) == attempts
    assert len(sleeps) == attempts - 1


@pytest.mark.parametrize("status", [500, 502, 504])
def test_post_that_may_have_started_a_run_is_not_repeated(status, sleeps):
    hook, adapter = hook_with([(status, {"errorDescription": "gateway"}, {}), ok({"id": 9})])
    with pytest.raises(CivisAPIError) as info:  # (start_run reconciles instead: tests/unit/reliability)
        hook.call("POST", "/scripts/python3/5/runs")
    assert info.value.status == status
    assert len(adapter.requests) == 1
    assert sleeps == []


def test_post_503_and_refused_connection_are_repeated(sleeps):
    refused = requests.ConnectionError("NewConnectionError: Connection refused")
    hook, adapter = hook_with([ok({"id": 5, "lastRun": None}), (503, None, {}), refused, ok({"id": 9})])
    assert hook.start_run("python3", 5) == RunRef("python3", 5, 9)
    assert len(adapter.requests) == 4


def test_post_dropped_after_sending_is_not_repeated(sleeps):
    dropped = requests.ConnectionError("('Connection aborted.', RemoteDisconnected('closed'))")
    hook, adapter = hook_with([dropped, ok({"id": 9})])
    with pytest.raises(CivisTransportError) as info:
        hook.call("POST", "/scripts/containers/5/runs")
    assert info.value.request_sent is True
    assert len(adapter.requests) == 1


def test_error_names_method_path_status_and_api_message_never_the_key(sleeps):
    hook, _ = hook_with([(404, {"error": "not_found", "errorDescription": "Script 77 not found", "code": 404}, {})])
    with pytest.raises(CivisAPIError) as info:
        hook.call("GET", "/scripts/python3/77")
    text = str(info.value)
    assert "GET /scripts/python3/77" in text and "404" in text and "Script 77 not found" in text
    assert API_KEY not in text and API_KEY not in repr(info.value.__dict__)


def test_pagination_follows_total_pages_header():
    pages = [
        ok([{"id": 1}, {"id": 2}], {"X-Pagination-Total-Pages": "2"}),
        ok([{"id": 3}], {"X-Pagination-Total-Pages": "2"}),
    ]
    hook, adapter = hook_with(pages)
    assert [item["id"] for item in hook.paginate("/jobs", {"state": "running"}, page_size=2)] == [1, 2, 3]
    assert "page_num=2" in adapter.requests[1].url and "state=running" in adapter.requests[1].url


def test_pagination_without_headers_stops_on_short_page():
    hook, adapter = hook_with([ok([{"id": 1}, {"id": 2}]), ok([])])
    assert len(list(hook.paginate("/scripts", page_size=2))) == 2
    assert len(adapter.requests) == 2


def test_run_logs_come_back_oldest_first():
    hook, _ = hook_with([ok([{"id": 3, "message": "c"}, {"id": 1, "message": "a"}, {"id": 2, "message": "b"}])])
    lines = hook.get_run_logs(RunRef("python3", 1, 2))
    assert [line["message"] for line in lines] == ["a", "b", "c"]


def test_cancel_of_finished_run_is_quiet():
    hook, _ = hook_with([(404, {"errorDescription": "run finished"}, {}), ok({"id": 2, "state": "succeeded"})])
    hook.cancel_run(RunRef("python3", 1, 2))  # the GET after the refusal confirms it finished


def test_test_connection_reports_user_and_failure(sleeps):
    hook, _ = hook_with([ok({"id": 1, "username": "ada"})])
    assert hook.test_connection() == (True, "Connected to https://api.example.test as ada")
    hook, _ = hook_with([(401, {"errorDescription": "Invalid API key"}, {})])
    good, message = hook.test_connection()
    assert not good and "Invalid API key" in message and API_KEY not in message


def test_missing_connection_names_it_and_the_fix(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_CIVIS_DEFAULT")
    with pytest.raises(CivisConnectionError, match="civis_default.*AIRFLOW_CONN_CIVIS_DEFAULT"):
        CivisHook().settings


def test_connection_without_key_says_where_to_put_it(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CIVIS_DEFAULT", json.dumps({"conn_type": "civis", "host": "x"}))
    with pytest.raises(CivisConnectionError, match="password field"):
        CivisHook().settings


@pytest.mark.parametrize(
    ("host", "port", "emulator", "expected"),
    [
        (None, None, False, "https://api.civisanalytics.com"),
        ("127.0.0.1", 8123, True, "http://127.0.0.1:8123"),
        ("localhost:9", None, True, "http://localhost:9"),
        ("127.0.0.1", 8123, False, "https://127.0.0.1:8123"),  # a tunnel to real Civis, not the emulator
        ("https://api.example.test/", None, False, "https://api.example.test"),
        ("api.example.test", None, False, "https://api.example.test"),
    ],
)
def test_base_url_rules(monkeypatch, host, port, emulator, expected):
    conn: dict = {"conn_type": "civis", "password": "k", "extra": {"emulator": emulator}}
    if host:
        conn["host"] = host
    if port:
        conn["port"] = port
    monkeypatch.setenv("AIRFLOW_CONN_CIVIS_DEFAULT", json.dumps(conn))
    assert CivisHook().settings.base_url == expected


def test_settings_repr_hides_key():
    hook, _ = hook_with([])
    assert API_KEY not in repr(hook.settings)


def test_create_repeats_an_ambiguous_post_whose_duplicate_is_harmless(sleeps):
    hook, adapter = hook_with([(502, {"errorDescription": "gateway"}, {}), ok({"id": 12, "uploadUrl": "u"})])
    assert hook.create("/files", json={"name": "a.csv"})["id"] == 12
    assert [r.method for r in adapter.requests] == ["POST", "POST"]


def test_create_does_not_repeat_a_rejected_post(sleeps):
    hook, adapter = hook_with([(400, {"errorDescription": "name is missing"}, {}), ok({"id": 12})])
    with pytest.raises(CivisAPIError, match="name is missing"):
        hook.create("/files", json={})
    assert len(adapter.requests) == 1
