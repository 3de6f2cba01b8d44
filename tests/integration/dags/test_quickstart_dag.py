"""The quickstart example DAG, and a failing one, in real Airflow (`airflow dags test`) against an emulator
process; each DAG ran once this session (``dag_run`` in tests/integration/conftest.py, with API faults on)."""

from __future__ import annotations

import pytest

from tests.integration.conftest import SECRET

pytestmark = pytest.mark.slow


def test_civis_quickstart_end_to_end(dag_run, examples_emulator):
    result = dag_run("civis_quickstart").result
    assert result.succeeded, result.output[-3000:]
    jobs = {job["name"]: job for job in examples_emulator.call("GET", "/jobs?hidden=true")}  # created hidden
    make, shout = jobs["civis_quickstart.make_greeting"], jobs["civis_quickstart.shout_greeting"]
    for job in (make, shout):
        runs = examples_emulator.call("GET", f"/jobs/{job['id']}/runs")
        assert [run["state"] for run in runs] == ["succeeded"]  # exactly one run each, faults or not
    shout_run = examples_emulator.call("GET", f"/jobs/{shout['id']}/runs")[0]
    logs = examples_emulator.call("GET", f"/jobs/{shout['id']}/runs/{shout_run['id']}/logs")
    assert any("HELLO, CIVIS_QUICKSTART" in line["message"] for line in logs)  # XCom crossed two runs
    assert "[civis " in result.output  # Civis log lines reached the Airflow task log
    assert SECRET not in result.output


def test_failing_script_shows_error_and_log_tail(dag_run):
    result = dag_run("civis_failing").result
    assert not result.succeeded
    assert "CivisRunError" in result.output
    assert "failed" in result.output and "7" in result.output
    assert "could not reach the warehouse: connection reset" in result.output
    assert "step 5 of 5 ok" in result.output
    assert SECRET not in result.output
