"""pytest plugin: the Civis API response contract, suite-wide.

Every emulator app built in the test process (``create_app`` -> ``install_contract``) registers its
:class:`~civis_emulator.contract.ContractReport`; at the end of the session this plugin adds
them up, prints::

    Civis API contract: N responses checked over M distinct operations, V violations

lists each violation (method, path, field, message) and fails the session when V > 0.

Emulators in *another* process (a subprocess ``civis-emulator``) are invisible from here: the fixture
that starts one must call :func:`collect_contract_report` (``GET /_emulator/contract``) before
stopping it. :func:`collect_app_contract_report` does the same for an app object (not needed for apps
in this process, which are collected automatically; calling it anyway is harmless: reports are
merged by id, never counted twice).

Enable with ``pytest_plugins = ["tests.contract_plugin"]`` in ``tests/conftest.py`` (or
``-p tests.contract_plugin``).
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections import Counter
from typing import Any

import pytest

_LOCK = threading.Lock()
_COLLECTED: dict[str, dict[str, Any]] = {}  # reportId -> latest snapshot (remote or explicit)
_ERRORS: list[str] = []


def _remember(snapshot: dict[str, Any], origin: str) -> None:
    key = snapshot.get("reportId") or f"{origin}#{len(_COLLECTED)}"
    with _LOCK:
        _COLLECTED[key] = snapshot


def collect_contract_report(base_url: str, api_key: str, timeout: float = 10.0) -> dict[str, Any] | None:
    """Fetch a running emulator's contract report and keep it for the end-of-session summary.

    Call this from a fixture before stopping an emulator that runs in another process. Failing to
    fetch is itself reported at the end (and fails the run): an unchecked emulator is not a pass.
    """
    url = base_url.rstrip("/") + "/_emulator/contract"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {api_key}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            snapshot = json.loads(response.read())
    except Exception as exc:  # noqa: BLE001 - reported at session end
        with _LOCK:
            _ERRORS.append(f"could not collect the contract report from {url}: {exc}")
        return None
    _remember(snapshot, url)
    return snapshot


def collect_app_contract_report(app: Any) -> dict[str, Any] | None:
    """Keep an in-process app's contract report (apps in this process are also collected automatically)."""
    report = getattr(getattr(app, "state", None), "contract_report", None)
    if report is None:
        with _LOCK:
            _ERRORS.append(f"app {app!r} has no contract report (install_contract was not called)")
        return None
    snapshot = report.as_dict()
    _remember(snapshot, repr(app))
    return snapshot


def _in_process_snapshots() -> list[dict[str, Any]]:
    try:
        from civis_emulator.contract import all_reports
    except Exception:  # noqa: BLE001 - the emulator may not be importable in a partial checkout
        return []
    return [report.as_dict() for report in all_reports()]


def summarize() -> dict[str, Any]:
    """All reports of the session, merged."""
    merged: dict[str, dict[str, Any]] = {}
    with _LOCK:
        merged.update(_COLLECTED)
        errors = list(_ERRORS)
    for snapshot in _in_process_snapshots():  # live objects: the freshest numbers
        merged[snapshot["reportId"]] = snapshot
    operations: Counter[str] = Counter()
    checked = violation_count = requests_checked = requests_rejected = 0
    seconds = 0.0
    violations: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for snapshot in merged.values():
        checked += snapshot.get("responsesChecked", 0)
        operations.update(snapshot.get("operations", {}))
        violation_count += snapshot.get("violationCount", 0)
        requests_checked += snapshot.get("requestsChecked", 0)
        requests_rejected += snapshot.get("requestsRejected", 0)
        seconds += snapshot.get("validationSeconds", 0.0)
        for v in snapshot.get("violations", []):
            key = (v.get("operation", ""), v.get("field", ""), v.get("message", ""))
            if key not in seen:
                seen.add(key)
                violations.append(v)
    return {
        "emulators": len(merged),
        "responsesChecked": checked,
        "operations": operations,
        "violationCount": violation_count,
        "violations": violations,
        "requestsChecked": requests_checked,
        "requestsRejected": requests_rejected,
        "validationSeconds": seconds,
        "errors": errors,
    }


def _failed(summary: dict[str, Any]) -> bool:
    return bool(summary["violationCount"] or summary["errors"])


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    summary = summarize()
    session.config._civis_contract_summary = summary  # type: ignore[attr-defined]
    if _failed(summary) and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    summary = getattr(config, "_civis_contract_summary", None) or summarize()
    tr = terminalreporter
    n, m, v = summary["responsesChecked"], len(summary["operations"]), summary["violationCount"]
    line = f"Civis API contract: {n} responses checked over {m} distinct operations, {v} violations"
    tr.section("Civis API contract", sep="-", bold=True)
    if summary["responsesChecked"]:
        per = summary["validationSeconds"] / max(1, n + summary["requestsChecked"]) * 1e6
        detail = (
            f"  ({summary['requestsChecked']} requests checked, {summary['requestsRejected']} rejected with 400;"
            f" {summary['emulators']} emulator(s); ~{per:.0f} us validation per message)"
        )
    else:
        detail = ""
    tr.write_line(line, red=bool(v), green=not v and n > 0)
    if detail:
        tr.write_line(detail)
    for violation in summary["violations"]:
        tr.write_line(
            f"  VIOLATION {violation['method']} {violation['path']} "
            f"[{violation.get('operation', '')}] status {violation.get('status', '?')} "
            f"field {violation['field']}: {violation['message']}",
            red=True,
        )
    if len(summary["violations"]) < v:
        tr.write_line(f"  ({v - len(summary['violations'])} more occurrences of the violations above)")
    for error in summary["errors"]:
        tr.write_line(f"  ERROR {error}", red=True)
