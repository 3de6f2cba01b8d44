"""What both CivisML operators take and send about their data is one piece (the operators' base): the same
keywords, templated fields, parse-time errors and data arguments for training and scoring."""

from __future__ import annotations

import datetime

import pytest
from airflow.sdk import DAG

from airflow_civis.operators.ml import CivisMLPredictOperator, CivisMLTrainOperator

TRAIN = {"model_type": "sparse_logistic", "dependent_variable": "y"}
PREDICT = {"train_job_id": 1}
DATA = {"table_name": "public.t", "database_name": "Warehouse", "sql_where": "a > 1", "sql_limit": 10,
        "n_jobs": 3, "model_name": "m", "verbose": True}
OPERATORS = [(CivisMLTrainOperator, TRAIN), (CivisMLPredictOperator, PREDICT)]


def _data_arguments(op) -> dict:
    args = op.arguments(11219) if isinstance(op, CivisMLTrainOperator) else op.arguments(11220, 7, 8, None)
    return {k: args.get(k) for k in ("TABLE_NAME", "CIVIS_FILE_ID", "DEBUG", "WHERESQL", "LIMITSQL", "N_JOBS")}


def test_templated_fields_are_the_documented_ones():
    shared = {"civis_conn_id", "table_name", "database_name", "file_id", "sql_where", "sql_limit", "model_name"}
    assert set(CivisMLTrainOperator.template_fields) == shared | {
        "dependent_variable", "primary_key", "excluded_columns", "parameters", "cross_validation_parameters",
        "fit_params", "oos_scores_table"}
    assert set(CivisMLPredictOperator.template_fields) == shared | {
        "train_job_id", "train_run_id", "primary_key", "output_table", "dvs_to_predict"}
    assert len(set(CivisMLTrainOperator.template_fields)) == len(CivisMLTrainOperator.template_fields)


def test_both_send_the_same_data_arguments():
    train = CivisMLTrainOperator(task_id="t", **TRAIN, **DATA)
    predict = CivisMLPredictOperator(task_id="p", **PREDICT, **DATA)
    expected = {"TABLE_NAME": "public.t", "CIVIS_FILE_ID": None, "DEBUG": True, "WHERESQL": "a > 1",
                "LIMITSQL": 10, "N_JOBS": 3}
    assert _data_arguments(train) == _data_arguments(predict) == expected
    from_file = CivisMLPredictOperator(task_id="p", **PREDICT, file_id="12")
    assert _data_arguments(from_file) == {"TABLE_NAME": None, "CIVIS_FILE_ID": 12, "DEBUG": False,
                                          "WHERESQL": None, "LIMITSQL": None, "N_JOBS": None}


@pytest.mark.parametrize(("cls", "required"), OPERATORS)
@pytest.mark.parametrize(("kwargs", "words"), [
    ({"n_jobs": 0}, "n_jobs must be a positive integer"),
    ({"verbose": "yes"}, "verbose must be true or false"),
    ({"file_id": 4}, "give exactly one data source"),
    ({"table_name": "t"}, "table_name must be 'schema.table'"),
])
def test_shared_arguments_fail_alike_at_parse_time(cls, required, kwargs, words):
    with pytest.raises(ValueError, match=rf"^Task 'ml': {words}"):
        cls(task_id="ml", **required, **{"table_name": "public.t", **kwargs})


@pytest.mark.parametrize(("cls", "required"), OPERATORS)
def test_job_names(cls, required):
    suffix = "Train" if cls is CivisMLTrainOperator else "Predict"
    with DAG("dag", schedule=None, start_date=datetime.datetime(2024, 1, 1)):
        named = cls(task_id="ml", table_name="public.t", model_name="churn", **required)
        unnamed = cls(task_id="ml2", table_name="public.t", **required)
    assert named.job_name(suffix, "ignored") == f"churn {suffix}"
    assert unnamed.job_name(suffix) == f"dag.ml2 {suffix}"
    assert unnamed.job_name(suffix, "iris") == f"iris {suffix}"


@pytest.mark.parametrize(("cls", "required"), OPERATORS)
def test_default_args_and_partial_reach_the_shared_arguments(cls, required):
    """Airflow applies ``default_args`` and checks ``partial`` keywords per class of the MRO: the shared
    keywords must be found on the base."""
    with DAG("d", schedule=None, start_date=datetime.datetime(2024, 1, 1),
             default_args={"database_name": "Warehouse", "verbose": True}):
        op = cls(task_id="ml", table_name="public.t", **required)
        partial = {k: v for k, v in DATA.items() if k != "sql_limit"}
        mapped = cls.partial(task_id="mapped", **required, **partial).expand(sql_limit=[1, 2])
    assert (op.database_name, op.verbose) == ("Warehouse", True)
    assert mapped.partial_kwargs["database_name"] == "Warehouse"
