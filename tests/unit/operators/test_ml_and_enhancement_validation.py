"""Parse-time checks of the CivisML and enhancement operators: every model type builds, bad input names
the task and the field."""

from __future__ import annotations

import json

import pytest

from airflow_civis.ml_models import CLASSIFIERS, MODEL_TYPES, REGRESSORS, alias_for
from airflow_civis.operators.enhancements import CivisCassNcoaOperator, CivisGeocodeOperator
from airflow_civis.operators.ml import (
    CivisMLPredictOperator,
    CivisMLTrainOperator,
    metrics_summary,
    parse_alias,
)


def train(**kwargs):
    kwargs.setdefault("model_type", "sparse_logistic")
    kwargs.setdefault("dependent_variable", "y")
    kwargs.setdefault("table_name", "public.training")
    return CivisMLTrainOperator(task_id=kwargs.pop("task_id", "train"), **kwargs)


def test_the_catalogue_has_every_workflow_the_seeds_list():
    assert len(CLASSIFIERS) == 6 and len(REGRESSORS) == 7
    assert {"sparse_logistic", "sparse_linear_regressor", "sparse_ridge_regressor", "stacking_classifier",
            "stacking_regressor", "multilayer_perceptron_classifier", "multilayer_perceptron_regressor",
            "gradient_boosting_classifier", "gradient_boosting_regressor", "random_forest_classifier",
            "random_forest_regressor", "extra_trees_classifier", "extra_trees_regressor"} == set(MODEL_TYPES)


@pytest.mark.parametrize("model_type", list(MODEL_TYPES))
def test_every_model_type_constructs_with_the_official_argument_names(model_type):
    calibration = "isotonic" if model_type in CLASSIFIERS else None
    op = train(model_type=model_type, dependent_variable=["a", "b"], primary_key="id", excluded_columns=["x"],
               parameters={"p": 1}, cross_validation_parameters={"q": [1, 2]}, calibration=calibration,
               cpu_requested=2048, memory_requested=4096, disk_requested=3, oos_scores_table="s.oos")
    args = op.arguments(11219)
    assert args["MODEL"] == model_type and args["TARGET_COLUMN"] == "a b" and args["PRIMARY_KEY"] == "id"
    assert args["EXCLUDE_COLS"] == "x" and json.loads(args["PARAMS"]) == {"p": 1}
    assert json.loads(args["CVPARAMS"]) == {"q": [1, 2]} and args["CALIBRATION"] == calibration
    assert (args["REQUIRED_CPU"], args["REQUIRED_MEMORY"], args["REQUIRED_DISK_SPACE"]) == (2048, 4096, 3)
    assert args["OOSTABLE"] == "s.oos" and args["IF_EXISTS"] == "fail"


@pytest.mark.parametrize("kwargs, field", [
    ({"model_type": "sparse_logit"}, "model_type"),
    ({"dependent_variable": None}, "dependent_variable"),
    ({"dependent_variable": ""}, "dependent_variable"),
    ({"dependent_variable": [1]}, "dependent_variable"),
    ({"table_name": None}, "table_name"),
    ({"file_id": 7}, "table_name"),
    ({"table_name": None, "file_id": "x"}, "file_id"),
    ({"model_type": "random_forest_regressor", "calibration": "sigmoid"}, "calibration"),
    ({"calibration": "platt"}, "calibration"),
    ({"cross_validation_parameters": "hyperband"}, "hyperband"),
    ({"cross_validation_parameters": {"C": 1}}, "cross_validation_parameters"),
    ({"excluded_columns": ["y"]}, "excluded_columns"),
    ({"oos_scores_if_exists": "replace"}, "oos_scores_if_exists"),
    ({"cpu_requested": 0}, "cpu_requested"),
    ({"parameters": [1]}, "parameters"),
    ({"validation_data": "test"}, "validation_data"),
])
def test_train_errors_name_the_task_and_field(kwargs, field):
    with pytest.raises(ValueError, match=field) as info:
        train(task_id="fit_model", **kwargs)
    assert "'fit_model'" in str(info.value)


def test_unknown_model_type_lists_the_ones_there_are():
    with pytest.raises(ValueError, match="use one of: sparse_logistic, gradient_boosting_classifier"):
        train(model_type="xgboost")


def test_hyperband_allowed_where_civisml_supports_it_and_templates_pass_through():
    assert train(model_type="random_forest_classifier", cross_validation_parameters="hyperband").arguments(11219)[
        "CVPARAMS"] == '"hyperband"'
    op = train(dependent_variable="{{ params.dv }}", file_id="{{ ti.xcom_pull('up') }}", table_name=None)
    assert op.dependent_variable == "{{ params.dv }}"


@pytest.mark.parametrize("kwargs, field", [
    ({"train_job_id": None}, "train_job_id"),
    ({"train_job_id": -3}, "train_job_id"),
    ({"table_name": None}, "table_name"),
    ({"if_output_exists": "overwrite"}, "if_output_exists"),
    ({"disk_space": -1}, "disk_space"),
])
def test_predict_errors_name_the_task_and_field(kwargs, field):
    base = {"train_job_id": "{{ ti.xcom_pull(task_ids='train')['job_id'] }}", "table_name": "public.new"}
    with pytest.raises(ValueError, match=field) as info:
        CivisMLPredictOperator(task_id="score", **{**base, **kwargs})
    assert "'score'" in str(info.value)


def test_aliases_parse_like_the_official_client():
    assert parse_alias("civis-civisml-training") == ("training", None)
    assert parse_alias("civis-civisml-prediction-v2-3") == ("prediction", "v2.3")
    assert parse_alias("civis-civisml-training-dev") == ("training", "dev")
    assert alias_for("training", "v2.3") == "civis-civisml-training-v2-3"


def test_metrics_summary_is_readable():
    lines = metrics_summary("sparse_logistic", {"accuracy": 0.9, "roc_auc": 0.95, "class_names": ["a", "b"],
                                                "confusion_matrix": [[9, 1], [1, 9]]})
    assert lines[0] == "CivisML sparse_logistic validation metrics: accuracy 0.9000, roc_auc 0.9500"
    assert "confusion matrix" in lines[1] and lines[3].split() == ["a", "9", "1"]
    assert "no validation metrics" in metrics_summary("sparse_logistic", None)[0]


@pytest.mark.parametrize("cls, kwargs, field", [
    (CivisGeocodeOperator, {"source_table": "addresses"}, "source_table"),
    (CivisGeocodeOperator, {"source_table": "s.t", "country": "uk"}, "country"),
    (CivisGeocodeOperator, {"source_table": "s.t", "existing_table_rows": "replace"}, "existing_table_rows"),
    (CivisGeocodeOperator, {"source_table": "s.t", "multipart_key": "id"}, "multipart_key"),
    (CivisCassNcoaOperator, {"source_table": "s.t", "destination_table": "t"}, "destination_table"),
    (CivisCassNcoaOperator, {"source_table": "s.t", "perform_ncoa": True}, "ncoa_credential_id"),
    (CivisCassNcoaOperator, {"source_table": "s.t", "column_mapping": {"street": "a"}}, "column_mapping"),
    (CivisCassNcoaOperator, {"source_table": "s.t", "output_level": "ncoa"}, "output_level"),
])
def test_enhancement_errors_name_the_task_and_field(cls, kwargs, field):
    with pytest.raises(ValueError, match=field) as info:
        cls(task_id="enhance", **kwargs)
    assert "'enhance'" in str(info.value)


def test_cass_body_uses_the_api_fields():
    op = CivisCassNcoaOperator(task_id="cass", source_table="s.addresses", destination_table="s.clean",
                               column_mapping={"address1": "street", "zip": "zip"}, multipart_key=["id"],
                               perform_ncoa=True, ncoa_credential_id=5, output_level="coalesced")
    body = op.body(1, 2)
    assert body["source"] == {"databaseTable": {"schema": "s", "table": "addresses", "remoteHostId": 1,
                                                "credentialId": 2, "multipartKey": ["id"]}}
    assert body["destination"] == {"databaseTable": {"schema": "s", "table": "clean"}}
    assert body["useDefaultColumnMapping"] is False and body["ncoaCredentialId"] == 5


def test_enhancement_database_arguments():
    from airflow.exceptions import AirflowProviderDeprecationWarning

    with pytest.raises(ValueError, match="'g'.*database.*not also the deprecated remote_host_id"):
        CivisGeocodeOperator(task_id="g", source_table="s.t", database="Warehouse", remote_host_id=3)
    with pytest.warns(AirflowProviderDeprecationWarning, match="'g'.*remote_host_id is deprecated"):
        op = CivisGeocodeOperator(task_id="g", source_table="s.t", remote_host_id="3")
    assert op.database == 3
    with pytest.raises(ValueError, match="'c'.*credential_id must be an integer id"):
        CivisCassNcoaOperator(task_id="c", source_table="s.t", credential_id="abc")
    op = CivisCassNcoaOperator(task_id="c", source_table="s.t", database="{{ var.value.db }}")
    assert {"database", "credential_id"} <= set(op.template_fields)


def test_no_database_means_the_only_one_never_a_guess_among_several(mocker):
    from airflow_civis.exceptions import CivisError
    from airflow_civis.resolve import resolve_target

    hook = mocker.Mock()
    hook.paginate.return_value = [{"id": 4, "name": "Only"}]
    hook.call.return_value = [{"id": 9, "type": "Database"}]
    target = resolve_target(hook, None)
    assert (target.database_id, target.credential_id) == (4, 9)
    hook.call.assert_called_once_with("GET", "/credentials", params={"default": "true", "type": "Database"})
    hook.paginate.return_value = [{"id": 4, "name": "A"}, {"id": 5, "name": "B"}]
    with pytest.raises(CivisError, match="sees 2 databases \\('A', 'B'\\): pass database="):
        resolve_target(hook, None)
