"""Shared helpers of the emulator unit tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import time

KEY = "unit-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.02):
    """Poll ``predicate`` until it returns something truthy, within a bounded deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def wait_run(client, path: str, states=("succeeded", "failed", "cancelled"), timeout: float = 20.0) -> dict:
    def done():
        run = client.get(path).json()
        return run if run["state"] in states else None
    return wait_for(done, timeout)


def assert_no_contract_violations(app) -> None:
    report = getattr(app.state, "contract_report", None)
    if report is not None:
        assert report.violation_count == 0, getattr(report, "violations", None)
