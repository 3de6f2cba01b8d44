"""The full example pipeline in real Airflow (`airflow dags test`) against an emulator process: upload,
import, SQL, CivisML train and score, geocode, CASS, summary, in one DAG run (this session's, ``dag_run``)."""

from __future__ import annotations

import pytest

from tests.integration.conftest import SECRET

pytestmark = pytest.mark.slow


def test_civis_pipeline_end_to_end(dag_run, examples_emulator):
    result = dag_run("civis_pipeline").result
    assert result.succeeded, result.output[-4000:]
    assert SECRET not in result.output
    counts = {t: examples_emulator.call("GET", f"/databases/1/schemas/scratch/tables/pipeline_{t}")["rowCount"]
              for t in ("customers", "training", "new", "scores", "geocoded", "cass", "oos_scores")}
    assert counts == {"customers": 300, "training": 240, "new": 60, "scores": 60, "geocoded": 300, "cass": 300,
                      "oos_scores": 240}
    assert "CivisML random_forest_classifier validation metrics: accuracy" in result.output  # operator's log
    assert "Row counts:" in result.output and "scratch.pipeline_scores" in result.output  # summary task
    assert "ZIP-code centroid" in result.output and "Publication 28" in result.output  # precision stated
    models = examples_emulator.call("GET", "/models")
    assert [m["modelName"] for m in models] == ["renewal Train"]
