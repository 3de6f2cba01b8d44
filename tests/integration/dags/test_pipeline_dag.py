"""The full example pipeline in real Airflow (`airflow dags test`) against an emulator process: upload,
import, SQL, CivisML train and score, geocode, CASS, summary, in one DAG run."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from airflow_civis.testing import run_dag_test
from tests.conftest import API_KEY

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def _rows(base_url: str, table: str) -> int:
    response = requests.get(f"{base_url}/databases/1/schemas/scratch/tables/{table}",
                            headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10)
    response.raise_for_status()
    return response.json()["rowCount"]


def test_civis_pipeline_end_to_end(emulator_process, tmp_path):
    result = run_dag_test(
        "civis_pipeline", dags_folder=ROOT / "example_dags", home=tmp_path, base_url=emulator_process,
        api_key=API_KEY, extra_env={"TMPDIR": str(tmp_path)},
    )
    assert result.succeeded, result.output[-4000:]
    assert API_KEY not in result.output
    counts = {t: _rows(emulator_process, f"pipeline_{t}") for t in
              ("customers", "training", "new", "scores", "geocoded", "cass", "oos_scores")}
    assert counts == {"customers": 300, "training": 240, "new": 60, "scores": 60, "geocoded": 300, "cass": 300,
                      "oos_scores": 240}
    assert "CivisML random_forest_classifier validation metrics: accuracy" in result.output  # operator's log
    assert "Row counts:" in result.output and "scratch.pipeline_scores" in result.output  # summary task
    assert "ZIP-code centroid" in result.output and "Publication 28" in result.output  # precision stated
    models = requests.get(f"{emulator_process}/models", headers={"Authorization": f"Bearer {API_KEY}"},
                          timeout=10).json()
    assert [m["modelName"] for m in models] == ["renewal Train"]
