"""``civis.ml.ModelPipeline.train`` / ``predict`` vs ``CivisMLTrainOperator`` / ``CivisMLPredictOperator``."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from airflow_civis.operators.ml import CivisMLPredictOperator, CivisMLTrainOperator
from tests.helpers import make_context
from tests.integration.differential.conftest import DB, RUN

pytestmark = pytest.mark.slow

FRAME = pd.DataFrame({"row_id": range(1, 41), "x1": [i % 7 for i in range(40)],
                      "x2": [(i * 3) % 11 for i in range(40)], "label": [i % 2 for i in range(40)]})


def _model_pipeline():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # civis.ml is deprecated since 2.10, still shipped
        from civis.ml import ModelPipeline
    return ModelPipeline


@pytest.fixture
def trained(official, differential, load_table):
    """Train through both (compared as ``ml_train``); returns both sides' handles for predict."""
    table = load_table(FRAME, "ml")
    ModelPipeline = _model_pipeline()
    # civis.ml looks the CivisML templates up once per process (GET /aliases) and caches them: build the
    # pipeline outside the recording so the official sequence does not depend on test order
    pipeline = ModelPipeline("sparse_logistic", "label", primary_key="row_id", client=official)

    def theirs():
        future = pipeline.train(table_name=table, database_name=DB)
        future.result(timeout=300)
        return pipeline

    def ours():
        return CivisMLTrainOperator(task_id="train", model_type="sparse_logistic", dependent_variable="label",
                                    table_name=table, database_name=DB, primary_key="row_id",
                                    **RUN).execute(make_context())

    pipeline, result, _ = differential("ml_train", theirs, ours)
    return table, pipeline, result


def test_train(trained):
    _, pipeline, result = trained
    assert pipeline.train_result_.state == "succeeded" and result["state"] == "succeeded"


def test_predict(trained, differential):
    table, pipeline, result = trained

    def theirs():
        future = pipeline.predict(table_name=table, database_name=DB, output_table=f"{table}_theirs",
                                  if_exists="drop")
        return future.result(timeout=300)

    def ours():
        return CivisMLPredictOperator(task_id="predict", train_job_id=result["job_id"], table_name=table,
                                      database_name=DB, output_table=f"{table}_ours", if_output_exists="drop",
                                      **RUN).execute(make_context())

    their_run, scored, _ = differential("ml_predict", theirs, ours)
    assert their_run.state == "succeeded" and scored["row_count"] == len(FRAME)
