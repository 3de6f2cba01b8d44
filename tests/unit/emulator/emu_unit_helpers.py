"""Shared helpers of the emulator unit tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

from tests.helpers import wait_for, wait_run

KEY = "unit-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}

__all__ = ["AUTH", "KEY", "assert_no_contract_violations", "wait_for", "wait_run"]


def assert_no_contract_violations(app) -> None:
    report = getattr(app.state, "contract_report", None)
    if report is not None:
        assert report.violation_count == 0, getattr(report, "violations", None)
