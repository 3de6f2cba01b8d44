"""CivisHook.start_run against a scripted HTTP boundary: an ambiguous POST is reconciled, never repeated blindly."""

from __future__ import annotations

import json

import pytest
import requests

from airflow_civis.exceptions import CivisAPIError, CivisTransportError
from airflow_civis.hooks.civis import START_ATTEMPTS, CivisHook
from airflow_civis.runs import RunRef
from tests.transports import Transport, scripted

API_KEY = "unit-reliability-key-9c2e"
DROPPED = requests.ConnectionError("('Connection aborted.', RemoteDisconnected('closed'))")


@pytest.fixture(autouse=True)
def setup(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CIVIS_DEFAULT", json.dumps(
        {"conn_type": "civis", "password": API_KEY, "host": "https://api.example.test"}))
    monkeypatch.setattr("tenacity.nap.time.sleep", lambda s: None)  # every wait, reconciliation's too


def hook_with(replies: list) -> tuple[CivisHook, Transport]:
    adapter = scripted(replies)
    return CivisHook(transport=adapter), adapter


def job(last_run_id: int | None) -> tuple[int, dict]:
    return 200, {"id": 5, "lastRun": {"id": last_run_id, "state": "queued"} if last_run_id else None}


def posts(adapter: Transport) -> int:
    return sum(1 for method, _ in adapter.sent if method == "POST")


@pytest.mark.parametrize("failure", [(500, None), (502, None), (504, None), DROPPED])
def test_ambiguous_failure_that_started_a_run_adopts_it(failure):
    hook, adapter = hook_with([job(3), failure, job(4)])
    assert hook.start_run("python3", 5) == RunRef("python3", 5, 4)
    assert posts(adapter) == 1


@pytest.mark.parametrize("failure", [(502, None), DROPPED])
def test_ambiguous_failure_that_started_nothing_starts_again(failure):
    hook, adapter = hook_with([job(3), failure, job(3), (201, {"id": 4})])
    assert hook.start_run("python3", 5) == RunRef("python3", 5, 4)
    assert posts(adapter) == 2


def test_first_run_of_a_job_with_no_runs_is_adopted():
    hook, adapter = hook_with([job(None), (504, None), job(1)])
    assert hook.start_run("containers", 5) == RunRef("containers", 5, 1)


def test_late_landing_attempt_shows_as_409_and_is_adopted():
    # 1st POST: 502 but the run lands only after the check; 2nd POST: 409 already running -> ours.
    hook, adapter = hook_with([job(3), (502, None), job(3), (409, {"error": "conflict"}), job(4)])
    assert hook.start_run("python3", 5) == RunRef("python3", 5, 4)
    assert posts(adapter) == 2


def test_409_without_an_earlier_ambiguous_attempt_is_an_error():
    hook, adapter = hook_with([job(3), (409, {"errorDescription": "already running"})])
    with pytest.raises(CivisAPIError, match="already running"):
        hook.start_run("python3", 5)


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_definite_errors_are_raised_without_reconciling(status):
    hook, adapter = hook_with([job(3), (status, {"errorDescription": "nope"})])
    with pytest.raises(CivisAPIError) as info:
        hook.start_run("python3", 5)
    assert info.value.status == status and len(adapter.sent) == 2


def test_gives_up_after_start_attempts_with_the_last_error():
    replies: list = [job(3)]
    for _ in range(START_ATTEMPTS):
        replies += [DROPPED, job(3)]
    hook, adapter = hook_with(replies)
    with pytest.raises(CivisTransportError):
        hook.start_run("python3", 5)
    assert posts(adapter) == START_ATTEMPTS


def test_without_a_readable_job_an_ambiguous_failure_is_not_reconciled():
    hook, adapter = hook_with([(404, {"errorDescription": "no such job"}), (502, None)])
    with pytest.raises(CivisAPIError) as info:
        hook.start_run("import", 5)
    assert info.value.status == 502 and posts(adapter) == 1


def test_journal_gets_the_baseline_before_the_post():
    hook, adapter = hook_with([job(7), (201, {"id": 8})])
    seen = []
    hook.start_journal = lambda kind, job_id, baseline: seen.append((kind, job_id, baseline, len(adapter.sent)))
    hook.start_run("python3", 5)
    assert seen == [("python3", 5, 7, 1)]  # after the GET, before the POST


def test_find_run_since():
    hook, _ = hook_with([job(9), job(9), job(None)])
    assert hook.find_run_since("job", 5, 8) == RunRef("job", 5, 9)
    assert hook.find_run_since("job", 5, 9) is None
    assert hook.find_run_since("job", 5, None) is None
