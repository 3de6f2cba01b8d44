"""The job's resources (CPU shares, memory, disk) are checked once, alike for ``@task.civis``, CivisML scoring
and CivisML training, with the types the API gives them (integer, integer, number of GB)."""

from __future__ import annotations

from datetime import datetime

import pytest
from airflow.sdk import DAG, task

from airflow_civis.operators.ml import CivisMLPredictOperator, CivisMLTrainOperator


def double(x):
    return 2 * x


def civis_task(**options):
    with DAG(dag_id="resources", schedule=None, start_date=datetime(2026, 1, 1)):
        return task.civis(**options)(double)(1).operator


def predict(**options):
    return CivisMLPredictOperator(task_id="double", train_job_id=1, table_name="public.t", **options)


def train(**options):
    names = {"cpu": "cpu_requested", "memory": "memory_requested", "disk_space": "disk_requested"}
    op = CivisMLTrainOperator(task_id="double", model_type="sparse_logistic", dependent_variable="y",
                              table_name="public.t", **{names[k]: v for k, v in options.items()})
    return type("Sized", (), {"cpu": op.cpu_requested, "memory": op.memory_requested,
                              "disk_space": op.disk_requested})


MAKERS = [civis_task, predict, train]


@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize(("field", "value", "words"), [
    ("cpu", -1, "must be a positive integer, got -1"),
    ("cpu", 1.5, "must be a positive integer, got 1.5"),
    ("memory", "4GB", "must be a positive integer, got '4GB'"),
    ("memory", True, "must be a positive integer, got True"),
    ("disk_space", 0, "must be a positive number of GB, got 0"),
])
def test_bad_resources_fail_alike_at_parse_time(make, field, value, words):
    with pytest.raises(ValueError, match=r"^Task 'double': (cpu|memory|disk)") as info:
        make(**{field: value})
    assert words in str(info.value)


@pytest.mark.parametrize("make", MAKERS)
def test_good_resources_are_kept_as_given(make):
    sized = make(cpu=500, memory=2048, disk_space=2.5)
    assert (sized.cpu, sized.memory, sized.disk_space) == (500, 2048, 2.5)
    unsized = make()
    assert (unsized.cpu, unsized.memory, unsized.disk_space) == (None, None, None)


def test_training_sends_a_fractional_disk_as_civis_python_documents_it():
    """``disk_requested : float`` in ModelPipeline; the training template's REQUIRED_DISK_SPACE is a float."""
    op = CivisMLTrainOperator(task_id="t", model_type="sparse_logistic", dependent_variable="y",
                              table_name="public.t", disk_requested=0.5)
    assert op.arguments(11219)["REQUIRED_DISK_SPACE"] == 0.5


def test_resources_take_default_args_and_mapping():
    with DAG(dag_id="mapped", schedule=None, start_date=datetime(2026, 1, 1), default_args={"memory": 4096}):
        scored = predict()
        mapped = CivisMLPredictOperator.partial(task_id="m", train_job_id=1, cpu=256).expand(
            table_name=["public.a", "public.b"])
        sized = task.civis(cpu=300)(double).expand(x=[1, 2])
    assert scored.memory == 4096 and mapped.partial_kwargs["cpu"] == 256
    assert sized.operator.partial_kwargs["cpu"] == 300
