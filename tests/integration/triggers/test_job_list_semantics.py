"""The job list the shared poller reads, as the spec and PostgreSQL have it: null order, hidden, limit, stamps."""

from __future__ import annotations

import secrets
import time

import pytest

from airflow_civis.exceptions import CivisAPIError
from airflow_civis.hooks.civis import CivisHook

CONTAINER = {"dockerImageName": "x", "requiredResources": {"cpu": 100, "memory": 100, "diskSpace": 1}}
ORDER = {"order": "last_run_updated_at"}


def container(name: str, seconds: float = 0.1, **extra) -> int:
    return CivisHook().call("POST", "/scripts/containers", json={
        "name": name, "dockerCommand": f"civis-emulator:sleep {seconds}", **CONTAINER, **extra})["id"]


def run_to_end_of(job_id: int, run_id: int) -> dict:
    """The job once the run ended (polled with a deadline)."""
    hook = CivisHook()
    deadline = time.monotonic() + 10
    while hook.call("GET", f"/jobs/{job_id}/runs/{run_id}")["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.02)
    return hook.call("GET", f"/jobs/{job_id}")


def run_to_end(job_id: int) -> dict:
    return run_to_end_of(job_id, CivisHook().call("POST", f"/jobs/{job_id}/runs")["id"])


def listed(tag: str, **params) -> list[int]:
    return [j["id"] for j in CivisHook().call("GET", "/jobs", params={"q": tag, **params})]


def test_never_run_jobs_sort_first_descending_and_last_ascending_as_postgresql_does(civis_conn):
    tag = "nulls-" + secrets.token_hex(4)
    ran, never = container(tag), container(tag)
    run_to_end(ran)
    assert listed(tag, **ORDER, order_dir="desc") == [never, ran]
    assert listed(tag, **ORDER, order_dir="asc") == [ran, never]


def test_hidden_jobs_are_listed_only_when_asked_for(civis_conn):
    tag = "hidden-" + secrets.token_hex(4)
    shown, hidden = container(tag), container(tag, hidden=True)
    assert listed(tag) == [shown]
    assert listed(tag, hidden="true") == [hidden]
    assert listed(tag, hidden="false") == [shown]


def test_a_list_never_answers_more_than_fifty_items(civis_conn):
    tag = "limit-" + secrets.token_hex(4)
    for _ in range(52):
        container(tag)
    assert len(listed(tag)) == 50  # "Defaults to its maximum of 50"
    try:
        assert len(listed(tag, limit=500)) <= 50  # clamped...
    except CivisAPIError as err:  # ...or refused, naming the parameter
        assert err.status == 400 and "limit" in str(err)


def test_default_semantics_move_last_run_updated_at_when_the_run_ends(civis_conn):
    job_id = container("stamp-default", 0.3)
    queued = CivisHook().call("POST", f"/jobs/{job_id}/runs")
    stamp_at_start = CivisHook().call("GET", f"/jobs/{job_id}")["lastRunUpdatedAt"]
    assert queued["id"]
    ended = run_to_end_of(job_id, queued["id"])
    assert ended["lastRunUpdatedAt"] > stamp_at_start
    assert ended["lastRunUpdatedAt"] >= ended["lastRun"]["finishedAt"]


@pytest.mark.pessimistic
def test_pessimistic_semantics_set_last_run_updated_at_only_when_a_run_is_created(civis_conn):
    job_id = container("stamp-pessimistic", 0.3)
    assert CivisHook().call("GET", f"/jobs/{job_id}")["lastRunUpdatedAt"] is None
    first = CivisHook().call("POST", f"/jobs/{job_id}/runs")
    created = CivisHook().call("GET", f"/jobs/{job_id}")["lastRunUpdatedAt"]
    ended = run_to_end_of(job_id, first["id"])
    assert ended["lastRun"]["state"] == "succeeded" and ended["lastRunUpdatedAt"] == created
    again = run_to_end(job_id)  # a new run moves it
    assert again["lastRunUpdatedAt"] > created

