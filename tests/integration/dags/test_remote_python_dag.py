"""civis_remote_python in real Airflow (`airflow dags test`) against an emulator process: an ``@task.civis``
function reads a warehouse table with the official client on Civis, and a plain task checks its result."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from airflow_civis.testing import run_dag_test
from tests.conftest import API_KEY

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def api(base_url: str, path: str, **params):
    response = requests.get(base_url + path, headers={"Authorization": f"Bearer {API_KEY}"}, params=params,
                            timeout=10)
    response.raise_for_status()
    return response.json()


def test_civis_remote_python_end_to_end(emulator_process, tmp_path):
    result = run_dag_test(
        "civis_remote_python", dags_folder=ROOT / "example_dags", home=tmp_path, base_url=emulator_process,
        api_key=API_KEY,
    )
    assert result.succeeded, result.output[-4000:]
    scripts = [s for s in api(emulator_process, "/scripts", hidden="true")
               if s["name"] == "civis_remote_python.summarise_sales"]
    assert len(scripts) == 1 and scripts[0]["type"] == "Python"
    runs = api(emulator_process, f"/scripts/python3/{scripts[0]['id']}/runs")
    assert [run["state"] for run in runs] == ["succeeded"]
    outputs = api(emulator_process, f"/jobs/{scripts[0]['id']}/runs/{runs[0]['id']}/outputs")
    assert [(o["objectType"], o["name"]) for o in outputs] == [("JSONValue", "return_value")]
    assert outputs[0]["value"]["by_region"] == {"north": 200, "south": 50, "east": 100}
    # The function's print reached the task log through the run's log; the key never did.
    assert "read 5 rows from scratch.remote_python_sales" in result.output
    assert "summary from Civis:" in result.output  # check_summary ran on the value
    assert API_KEY not in result.output
