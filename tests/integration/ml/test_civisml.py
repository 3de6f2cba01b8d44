"""CivisML through the operators against the emulator: real scikit-learn fits, scores for every row."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest
from airflow.exceptions import TaskDeferred

from airflow_civis.exceptions import CivisRunError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.hooks.files import CivisFileTransfer
from airflow_civis.operators.ml import CivisMLPredictOperator, CivisMLTrainOperator
from tests.helpers import first_event, make_context

pytestmark = pytest.mark.slow


def train(**kwargs):
    kwargs.setdefault("deferrable", False)
    return CivisMLTrainOperator(task_id=kwargs.pop("task_id", "train"), poll_interval=0.1, **kwargs)


def predict(**kwargs):
    kwargs.setdefault("deferrable", False)
    return CivisMLPredictOperator(task_id="predict", poll_interval=0.1, **kwargs)


def upload(tmp_path, data: bytes, name: str) -> int:
    """A Civis file holding ``data``, uploaded through the Files API as a user would."""
    path = tmp_path / name
    path.write_bytes(data)
    return CivisFileTransfer(CivisHook()).upload(str(path), name)


def test_classification_round_trip(civis_conn, load_table, read_table, iris_frame):
    table = load_table(iris_frame, "iris")
    result = train(model_type="sparse_logistic", dependent_variable="species", table_name=table,
                   primary_key="row_id", oos_scores_table=f"{table}_oos", oos_scores_if_exists="drop",
                   model_name="iris").execute(make_context())
    metrics = result["metrics"]
    assert result["state"] == "succeeded" and result["model_type"] == "sparse_logistic"
    assert 0.85 <= metrics["accuracy"] <= 1.0 and 0.9 <= metrics["roc_auc"] <= 1.0
    assert metrics["class_names"] == ["setosa", "versicolor", "virginica"]
    matrix = metrics["confusion_matrix"]
    assert sum(map(sum, matrix)) == 150 and [sum(row) for row in matrix] == [50, 50, 50]
    assert {"estimator.pkl", "model_info.json", "metrics.json", "predictions.csv.gz"} <= set(result["output_file_ids"])
    oos = read_table(f"{table}_oos", order_by="row_id")
    assert len(oos) == 150 and list(oos.columns) == ["row_id", "species_setosa", "species_versicolor",
                                                     "species_virginica"]

    new_rows = iris_frame.drop(columns=["species"]).iloc[::10].reset_index(drop=True)
    new_table = load_table(new_rows, "iris_new")
    scored = predict(train_job_id=str(result["job_id"]), table_name=new_table, output_table=f"{new_table}_scores",
                     if_output_exists="drop").execute(make_context())
    assert scored["row_count"] == len(new_rows) and scored["train_run_id"] == result["run_id"]
    scores = read_table(f"{new_table}_scores", order_by="row_id")
    assert scores["row_id"].astype(int).tolist() == new_rows["row_id"].tolist()  # the training primary key
    probabilities = scores[["species_setosa", "species_versicolor", "species_virginica"]].astype(float)
    assert ((probabilities.sum(axis=1) - 1).abs() < 1e-6).all()
    assert (probabilities.idxmax(axis=1).str.removeprefix("species_")
            == iris_frame.iloc[::10]["species"].reset_index(drop=True)).mean() >= 0.9

    hook = CivisHook()
    training, scoring = (hook.call("GET", f"/scripts/custom/{r['job_id']}") for r in (result, scored))
    assert (training["name"], scoring["name"]) == ("iris Train", "iris Predict")  # as ModelPipeline names them
    database = hook.call("GET", "/databases")[0]["id"]
    assert training["arguments"]["DB"] == scoring["arguments"]["DB"] == {"database": database}
    assert scoring["arguments"]["TABLE_NAME"] == new_table and scoring["arguments"].get("CIVIS_FILE_ID") is None
    model = hook.call("GET", f"/models/{result['job_id']}")
    assert model["dependentVariable"] == "species" and model["builds"][0]["rocAuc"] == metrics["roc_auc"]
    assert [p["outputTable"] for p in model["predictions"]] == [f"{new_table}_scores"]
    predictions = hook.call("GET", "/predictions", params={"model_id": result["job_id"]})
    assert [p["id"] for p in predictions] == [scored["job_id"]]


def test_regression_with_grid_is_deterministic(civis_conn, load_table):
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame.head(200)
    table = load_table(frame, "diabetes")
    kwargs = dict(model_type="sparse_ridge_regressor", dependent_variable="target", table_name=table,
                  cross_validation_parameters={"alpha": [0.01, 1.0, 100.0]}, excluded_columns=["s6"])
    first = train(**kwargs).execute(make_context())
    second = train(**kwargs).execute(make_context())
    assert 0.2 < first["metrics"]["r_squared"] < 1.0 and first["metrics"]["rmse"] > 0
    assert first["metrics"] == second["metrics"]  # fixed folds and random_state: same numbers every run


def test_binary_from_a_civis_file_with_calibration_deferred(civis_conn, tmp_path):
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame.iloc[:, [0, 1, 2, 3, 20, 21, 22, 30]].head(240)
    file_id = upload(tmp_path, gzip.compress(frame.to_csv(index=False).encode()), "cancer.csv.gz")
    op = train(model_type="gradient_boosting_classifier", dependent_variable="target", file_id=file_id,
               parameters={"n_estimators": 40}, calibration="sigmoid", deferrable=True)
    ctx = make_context()
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(ctx)
    result = op.execute_complete(ctx, first_event(deferred.value.trigger).payload)
    metrics = result["metrics"]
    assert metrics["n_classes"] == 2 and metrics["pos_class"] == "1"
    assert metrics["roc_auc"] > 0.9 and 0 <= metrics["brier_score"] < 0.15 and metrics["accuracy"] > 0.85
    arguments = CivisHook().call("GET", f"/scripts/custom/{result['job_id']}")["arguments"]
    assert arguments["CIVIS_FILE_ID"] == file_id and "DB" not in arguments and arguments.get("TABLE_NAME") is None


def test_missing_dependent_variable_fails_with_the_column_named(civis_conn, load_table, iris_frame):
    table = load_table(iris_frame, "iris_bad")
    with pytest.raises(CivisRunError, match=r"Column\(s\) \['kind'\] not found"):
        train(model_type="random_forest_classifier", dependent_variable="kind", table_name=table).execute(
            make_context())


def test_regression_model_on_text_target_fails_clearly(civis_conn, load_table, iris_frame):
    table = load_table(pd.DataFrame(iris_frame), "iris_reg")
    with pytest.raises(CivisRunError, match="regression model but species is not numeric"):
        train(model_type="extra_trees_regressor", dependent_variable="species", table_name=table,
              parameters={"n_estimators": 5}).execute(make_context())


def test_training_whose_estimator_raises_fails_the_task_with_the_model_error(civis_conn, iris_frame, tmp_path):
    """CivisML reports a model exception in model_info.json of a *succeeded* run: the task must still fail."""
    bad = iris_frame.copy()
    bad.loc[7, "sepal_length"] = float("inf")  # scikit-learn refuses infinite inputs
    file_id = upload(tmp_path, bad.to_csv(index=False).encode(), "iris_inf.csv")
    with pytest.raises(CivisRunError) as failure:
        train(model_type="sparse_logistic", dependent_variable="species", file_id=file_id).execute(make_context())
    err = failure.value
    assert "infinity" in str(err) and f"job {err.job_id}" in str(err) and f"run {err.run_id}" in str(err)
    hook = CivisHook()
    assert hook.call("GET", f"/jobs/{err.job_id}/runs/{err.run_id}")["state"] == "succeeded"  # as CivisML does
    outputs = {o["name"]: o["objectId"] for o in hook.call("GET", f"/jobs/{err.job_id}/runs/{err.run_id}/outputs")}
    assert "model_info.json" in outputs and "estimator.pkl" not in outputs


def test_prediction_whose_estimator_raises_fails_the_task(civis_conn, load_table, iris_frame, tmp_path):
    trained = train(model_type="sparse_logistic", dependent_variable="species", table_name=load_table(iris_frame, "ir"),
                    primary_key="row_id").execute(make_context())
    bad = iris_frame.drop(columns=["species"]).head(10).copy()
    bad.loc[3, "petal_width"] = float("inf")
    with pytest.raises(CivisRunError, match=r"(?s)CivisML prediction job \d+ run \d+ .*infinity") as failure:
        predict(train_job_id=trained["job_id"], file_id=upload(tmp_path, bad.to_csv(index=False).encode(),
                                                               "score_inf.csv")).execute(make_context())
    assert CivisHook().call("GET", f"/jobs/{failure.value.job_id}")["lastRun"]["state"] == "succeeded"


def test_custom_script_refuses_arguments_its_template_does_not_declare(civis_conn):
    hook = CivisHook()
    old = {a["alias"]: a["objectId"] for a in hook.paginate("/aliases", {"object_type": "template_script"})}
    template_id = old["civis-civisml-training-v1-1"]
    assert template_id < 9968  # a pre-v2.0 template: no VALIDATION_DATA, no N_JOBS
    response = hook.session.post(f"{civis_conn.base_url}/scripts/custom", timeout=10, json={
        "fromTemplateId": template_id, "arguments": {"MODEL": "sparse_logistic", "VALIDATION_DATA": "train"}})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 400 and body["error"] and "VALIDATION_DATA" in body["errorDescription"]


def test_old_template_versions_get_only_the_arguments_they_accept(civis_conn, load_table, read_table, iris_frame):
    """civis-python's thresholds: VALIDATION_DATA/N_JOBS from training template 9968, CPU/MEMORY/DISK_SPACE
    from prediction template 9969, TARGET_COLUMN (dvs_to_predict) above prediction template 10583."""
    table = load_table(iris_frame, "iris_versions")
    v1 = train(model_type="sparse_logistic", dependent_variable="species", table_name=table, primary_key="row_id",
               civisml_version="v1.1", n_jobs=2, validation_data="train").execute(make_context())
    assert v1["state"] == "succeeded" and v1["metrics"]["accuracy"] > 0.85
    scored = predict(train_job_id=v1["job_id"], table_name=table, cpu=2048, memory=4000, disk_space=3.0,
                     output_table=f"{table}_v1", if_output_exists="drop").execute(make_context())
    assert scored["row_count"] == 150

    multi = train(model_type="sparse_linear_regressor", dependent_variable=["sepal_length", "sepal_width"],
                  table_name=table, primary_key="row_id", excluded_columns=["species"], civisml_version="v2.1",
                  n_jobs=2).execute(make_context())
    hook = CivisHook()
    assert hook.call("GET", f"/scripts/custom/{multi['job_id']}")["arguments"]["N_JOBS"] == 2  # 10582 >= 9968
    scored = predict(train_job_id=multi["job_id"], table_name=table, cpu=2048, dvs_to_predict=["sepal_width"],
                     output_table=f"{table}_v21", if_output_exists="drop").execute(make_context())
    arguments = hook.call("GET", f"/scripts/custom/{scored['job_id']}")["arguments"]
    assert arguments["CPU"] == 2048 and "TARGET_COLUMN" not in arguments  # 10583 is not above 10583
    assert set(read_table(f"{table}_v21").columns) == {"row_id", "sepal_length", "sepal_width"}  # every target

    current = predict(train_job_id=train(
        model_type="sparse_linear_regressor", dependent_variable=["sepal_length", "sepal_width"], table_name=table,
        primary_key="row_id", excluded_columns=["species"]).execute(make_context())["job_id"],
        table_name=table, dvs_to_predict=["sepal_width"], output_table=f"{table}_now",
        if_output_exists="drop").execute(make_context())
    assert hook.call("GET", f"/scripts/custom/{current['job_id']}")["arguments"]["TARGET_COLUMN"] == "sepal_width"
    assert set(read_table(f"{table}_now").columns) == {"row_id", "sepal_width"}


def test_container_backed_custom_scripts_answer_under_containers_and_others_do_not(civis_conn, load_table, iris_frame):
    result = train(model_type="sparse_logistic", dependent_variable="species",
                   table_name=load_table(iris_frame, "iris_c")).execute(make_context())
    hook, job, run = CivisHook(), result["job_id"], result["run_id"]
    container = hook.call("GET", f"/scripts/containers/{job}")
    assert container["id"] == job and container["type"] == "Container" and container["fromTemplateId"]
    assert container["dockerImageName"] == "civisanalytics/civis-ml" and container["arguments"]["MODEL"]
    assert container["hidden"] is False  # as civis.ml.ModelPipeline creates it: the model is for people to find
    assert hook.call("GET", f"/scripts/containers/{job}/runs/{run}")["containerId"] == job
    assert {o["name"] for o in hook.call("GET", f"/scripts/containers/{job}/runs/{run}/outputs")} >= {
        "model_info.json", "metrics.json"}
    assert any("sparse_logistic" in line["message"]
               for line in hook.call("GET", f"/scripts/containers/{job}/runs/{run}/logs"))

    python = hook.call("POST", "/scripts/python3", json={"name": "p", "source": "print(1)"})
    template = hook.call("POST", "/templates/scripts", json={"scriptId": python["id"], "name": "py template"})
    custom = hook.call("POST", "/scripts/custom", json={"fromTemplateId": template["id"]})
    response = hook.session.get(f"{civis_conn.base_url}/scripts/containers/{custom['id']}", timeout=10)
    assert response.status_code == 404 and response.json()["code"] == 404
