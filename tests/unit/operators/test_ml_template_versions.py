"""Which CivisML arguments go to which template version: civis-python's thresholds and comparisons."""

from __future__ import annotations

import pytest

from airflow_civis.operators.ml import CivisMLPredictOperator, CivisMLTrainOperator


def _train():
    return CivisMLTrainOperator(task_id="train", model_type="sparse_logistic", dependent_variable="y",
                                table_name="public.t", n_jobs=4, validation_data="skip")


def _predict():
    return CivisMLPredictOperator(task_id="score", train_job_id=1, table_name="public.t", cpu=2048, memory=4000,
                                  disk_space=3.5, dvs_to_predict=["a", "b"], n_jobs=2)


@pytest.mark.parametrize("template_id, sent", [(9967, False), (9968, True), (11219, True)])
def test_validation_data_and_n_jobs_from_training_template_9968(template_id, sent):
    args = _train().arguments(template_id)
    assert ("VALIDATION_DATA" in args, "N_JOBS" in args) == (sent, sent)
    if sent:
        assert (args["VALIDATION_DATA"], args["N_JOBS"]) == ("skip", 4)


@pytest.mark.parametrize("template_id, resources, target", [
    (9968, False, False), (9969, True, False), (10583, True, False), (10584, True, True),
])
def test_prediction_resources_from_9969_and_target_column_above_10583(template_id, resources, target):
    args = _predict().arguments(template_id, 7, 8, "id")
    assert ({"CPU", "MEMORY", "DISK_SPACE"} & set(args)) == ({"CPU", "MEMORY", "DISK_SPACE"} if resources else set())
    assert ("TARGET_COLUMN" in args) == target
    assert args["N_JOBS"] == 2 and (args["TRAIN_JOB"], args["TRAIN_RUN"], args["PRIMARY_KEY"]) == (7, 8, "id")
    if target:
        assert args["TARGET_COLUMN"] == "a b"


def _warnings(op, mocker, *args):
    log = mocker.patch.object(type(op), "log", new_callable=mocker.PropertyMock).return_value
    result = op.arguments(*args)
    return result, [call.args[0] % call.args[1:] for call in log.warning.call_args_list]


def test_a_dropped_setting_is_warned_about_by_name(mocker):
    args, warned = _warnings(_train(), mocker, 9112)
    assert "VALIDATION_DATA" not in args and "N_JOBS" not in args
    assert any("VALIDATION_DATA='skip'" in w for w in warned) and any("N_JOBS=4" in w for w in warned)
    quiet = CivisMLTrainOperator(task_id="t", model_type="sparse_logistic", dependent_variable="y", file_id=3)
    args, warned = _warnings(quiet, mocker, 9112)
    assert "VALIDATION_DATA" not in args and warned == []  # the default is what v1 does anyway
    args, warned = _warnings(_predict(), mocker, 10583, 7, 8, None)
    assert "TARGET_COLUMN" not in args and any("TARGET_COLUMN='a b'" in w for w in warned)
