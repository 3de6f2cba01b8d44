"""The retry rules, one function at a time: which calls repeat, how long they wait."""

from __future__ import annotations

import email.utils
import time

import pytest

from airflow_civis.exceptions import CivisAPIError, CivisTransportError
from airflow_civis.hooks._retry import RetryPolicy, backoff_seconds, is_retryable, parse_retry_after


@pytest.mark.parametrize(
    ("method", "status", "expected"),
    [
        ("GET", 429, True),
        ("GET", 500, True),
        ("GET", 502, True),
        ("GET", 503, True),
        ("GET", 504, True),
        ("GET", 400, False),
        ("GET", 401, False),
        ("GET", 404, False),
        ("DELETE", 503, True),
        ("PATCH", 502, True),
        ("POST", 429, True),
        ("POST", 503, True),
        ("POST", 500, False),
        ("POST", 502, False),
        ("POST", 504, False),
        ("POST", 400, False),
    ],
)
def test_status_rules(method, status, expected):
    assert is_retryable(CivisAPIError(method, "/x", status, "boom")) is expected


@pytest.mark.parametrize(
    ("method", "sent", "expected"),
    [("GET", True, True), ("GET", False, True), ("POST", False, True), ("POST", True, False)],
)
def test_transport_rules(method, sent, expected):
    assert is_retryable(CivisTransportError(method, "/x", "dropped", request_sent=sent)) is expected


def test_other_exceptions_are_not_retried():
    assert is_retryable(ValueError("x")) is False


def test_retry_after_seconds_and_date():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= parse_retry_after(date, now=now) <= 31


def test_backoff_honours_retry_after_and_total_budget():
    policy = RetryPolicy(max_total_seconds=10, backoff_initial=1, backoff_max=4)
    assert backoff_seconds(policy, 1, 3.0, elapsed=0) == 3.0
    assert backoff_seconds(policy, 1, 30.0, elapsed=4) == 6.0  # capped by what is left
    for attempt in range(1, 8):
        assert 0 <= backoff_seconds(policy, attempt, None, elapsed=0) <= 4


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": "3"}, "max_attempts"),
        ({"backoff_max": -1}, "backoff_max"),
        ({"retries": 3}, "Unknown retry option"),
        ("3", "mapping"),
    ],
)
def test_bad_policies_name_the_field(value, message):
    with pytest.raises(ValueError, match=message):
        RetryPolicy.from_value(value)


def test_policy_round_trips_as_plain_data():
    policy = RetryPolicy(max_attempts=3)
    assert RetryPolicy.from_value(policy.to_dict()) == policy


def test_default_policy_is_at_least_as_patient_as_the_official_client():
    """civis-python retries a safe call 10 times within 600 s; a call it survives must not fail a task."""
    import tenacity
    from civis._retries import get_default_retrying

    official = get_default_retrying()
    stops = {type(s).__name__: s for s in official.stop.stops}
    assert isinstance(stops["stop_after_attempt"], tenacity.stop.stop_after_attempt)
    ours = RetryPolicy()
    assert ours.max_attempts >= stops["stop_after_attempt"].max_attempt_number == 10
    assert ours.max_total_seconds >= stops["stop_after_delay"].max_delay == 600
