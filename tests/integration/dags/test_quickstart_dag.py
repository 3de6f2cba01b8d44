"""The example DAGs in real Airflow (`airflow dags test`) against an emulator process."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from airflow_civis.testing import run_dag_test
from tests.conftest import API_KEY

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def api(base_url: str, path: str):
    response = requests.get(base_url + path, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10)
    response.raise_for_status()
    return response.json()


def test_civis_quickstart_end_to_end(emulator_process, tmp_path):
    result = run_dag_test(
        "civis_quickstart", dags_folder=ROOT / "example_dags", home=tmp_path, base_url=emulator_process,
        api_key=API_KEY,
    )
    assert result.succeeded, result.output[-3000:]
    jobs = {job["name"]: job for job in api(emulator_process, "/jobs?hidden=true")}  # created hidden
    make, shout = jobs["civis_quickstart.make_greeting"], jobs["civis_quickstart.shout_greeting"]
    for job in (make, shout):
        runs = api(emulator_process, f"/jobs/{job['id']}/runs")
        assert [run["state"] for run in runs] == ["succeeded"]  # exactly one run each
    shout_run = api(emulator_process, f"/jobs/{shout['id']}/runs")[0]
    logs = api(emulator_process, f"/jobs/{shout['id']}/runs/{shout_run['id']}/logs")
    assert any("HELLO, CIVIS_QUICKSTART" in line["message"] for line in logs)  # XCom crossed two runs
    assert "[civis " in result.output  # Civis log lines reached the Airflow task log
    assert API_KEY not in result.output


def test_failing_script_shows_error_and_log_tail(emulator_process, tmp_path):
    result = run_dag_test(
        "civis_failing", dags_folder=ROOT / "tests" / "dags", home=tmp_path, base_url=emulator_process,
        api_key=API_KEY,
    )
    assert not result.succeeded
    assert "CivisRunError" in result.output
    assert "failed" in result.output and "7" in result.output
    assert "could not reach the warehouse: connection reset" in result.output
    assert "step 5 of 5 ok" in result.output
    assert API_KEY not in result.output
