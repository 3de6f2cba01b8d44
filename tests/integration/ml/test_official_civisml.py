"""``civis.ml.ModelPipeline``, the official client's CivisML, unmodified against the emulator: it trains
from a data frame, polls ``/scripts/containers/{id}/runs/{run_id}`` (a custom script from a container
template answers there, as on Civis), reads metrics, scores, the estimator, and reloads the model."""

from __future__ import annotations

import civis
import pytest

from civis_emulator.server import EmulatorServer

pytestmark = pytest.mark.slow

API_KEY = "official-civisml-key-5d1c"
POLL = 0.2


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with EmulatorServer(api_key=API_KEY, data_dir=str(tmp_path_factory.mktemp("official-ml"))) as server:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("CIVIS_API_KEY", API_KEY)
            mp.setenv("CIVIS_API_ENDPOINT", server.base_url + "/")
            yield civis.APIClient(force_refresh_api_spec=True)


def test_model_pipeline_trains_and_predicts(client, iris_frame):
    from civis.ml import ModelFuture, ModelPipeline

    pipeline = ModelPipeline("sparse_logistic", "species", primary_key="row_id", model_name="iris official",
                             client=client)
    training = pipeline.train(df=iris_frame, polling_interval=POLL)
    assert training.result(timeout=120).state == "succeeded"
    assert isinstance(training, ModelFuture) and training.state == "succeeded"  # model_info.json's status
    metrics = training.metrics
    assert 0.85 <= metrics["accuracy"] <= 1.0 and metrics["roc_auc"] > 0.9
    assert metrics["class_names"] == ["setosa", "versicolor", "virginica"]
    assert [sum(row) for row in metrics["confusion_matrix"]] == [50, 50, 50]
    oos = training.table  # out-of-sample scores, indexed by the primary key
    assert len(oos) == 150 and list(oos.columns) == ["species_setosa", "species_versicolor", "species_virginica"]
    container = client.scripts.get_containers(training.job_id)  # what from_existing reads
    assert container.arguments["MODEL"] == "sparse_logistic" and container.from_template_id
    assert container.name == "iris official Train"

    new_rows = iris_frame.drop(columns=["species"]).iloc[::10].reset_index(drop=True)
    scoring = pipeline.predict(df=new_rows, polling_interval=POLL)
    assert scoring.result(timeout=120).state == "succeeded" and scoring.state == "succeeded"
    scores = scoring.table
    assert scores.index.tolist() == new_rows["row_id"].tolist()
    assert ((scores.sum(axis=1) - 1).abs() < 1e-6).all()
    predicted = scores.idxmax(axis=1).str.removeprefix("species_").tolist()
    actual = iris_frame.iloc[::10]["species"].tolist()
    assert sum(p == a for p, a in zip(predicted, actual)) >= 0.9 * len(actual)
    assert list(pipeline.estimator.predict(new_rows.drop(columns=["row_id"]))) == predicted

    reloaded = ModelPipeline.from_existing(training.job_id, client=client)
    assert reloaded.train_result_.metrics == metrics and reloaded.predict_template_id == pipeline.predict_template_id


def test_model_error_reaches_the_official_client(client, iris_frame):
    from civis.ml import ModelError, ModelPipeline

    bad = iris_frame.copy()
    bad.loc[7, "sepal_length"] = float("inf")
    future = ModelPipeline("sparse_logistic", "species", client=client).train(df=bad, polling_interval=POLL)
    with pytest.raises(ModelError, match="infinity"):
        future.result(timeout=120)
    assert future.state == "exception"
