"""Parse-time arguments of the run-waiting sensors: what they share (connection, deferral, poke interval) is
accepted, mapped and defaulted the same way by both, and each error names the field the DAG author wrote."""

from __future__ import annotations

import datetime

import pytest
from airflow.sdk import DAG

from airflow_civis.sensors import CivisRunSensor, CivisWorkflowExecutionSensor

SENSORS = [
    (CivisRunSensor, {"job_id": 3}, ("job_id", "run_id")),
    (CivisWorkflowExecutionSensor, {"workflow_id": 3}, ("workflow_id", "execution_id")),
]


@pytest.mark.parametrize(("cls", "ids", "fields"), SENSORS)
def test_shared_arguments_and_template_fields(cls, ids, fields):
    sensor = cls(task_id="s", civis_conn_id="other", deferrable=False, poke_interval=2.5, **ids)
    assert (sensor.civis_conn_id, sensor.deferrable, sensor.poke_interval) == ("other", False, 2.5)
    assert tuple(sensor.template_fields) == ("civis_conn_id", *fields)
    assert getattr(sensor, fields[0]) == 3 and getattr(sensor, fields[1]) is None


@pytest.mark.parametrize(("cls", "ids", "fields"), SENSORS)
def test_bad_ids_are_named_as_written(cls, ids, fields):
    job_field, run_field = fields
    with pytest.raises(ValueError, match=rf"'s': {job_field} must be an integer id"):
        cls(task_id="s", **{job_field: "twelve"})
    with pytest.raises(ValueError, match=rf"'s': {run_field} must be an integer id"):
        cls(task_id="s", **ids, **{run_field: "latest"})


@pytest.mark.parametrize(("cls", "ids", "fields"), SENSORS)
def test_poke_interval_is_checked_for_every_sensor(cls, ids, fields):
    with pytest.raises(ValueError, match=r"'s': poke_interval must be > 0"):
        cls(task_id="s", poke_interval=0, **ids)


@pytest.mark.parametrize(("cls", "ids", "fields"), SENSORS)
def test_default_args_reach_the_shared_arguments(cls, ids, fields):
    with DAG("d", schedule=None, start_date=datetime.datetime(2024, 1, 1),
             default_args={"civis_conn_id": "from_defaults", "poke_interval": 4}):
        sensor = cls(task_id="s", **ids)
    assert (sensor.civis_conn_id, sensor.poke_interval) == ("from_defaults", 4)


@pytest.mark.parametrize(("cls", "ids", "fields"), SENSORS)
def test_partial_accepts_the_shared_arguments(cls, ids, fields):
    """``partial``/``expand`` check each keyword against the signatures in the class's MRO: the shared ones
    must be found on the base, not reported as unknown."""
    with DAG("d", schedule=None, start_date=datetime.datetime(2024, 1, 1)):
        mapped = cls.partial(task_id="s", civis_conn_id="other", poke_interval=2, deferrable=False, **ids).expand(
            **{fields[1]: [1, 2]})
    assert mapped.partial_kwargs["civis_conn_id"] == "other"
    with pytest.raises(TypeError, match="unexpected keyword"):
        cls.partial(task_id="t", poll_every=2, **ids)


def test_run_sensor_kind_is_checked():
    with pytest.raises(ValueError, match=r"'s': kind: .*python3"):
        CivisRunSensor(task_id="s", job_id=3, kind="spark")
    assert CivisRunSensor(task_id="s", job_id=3, kind="python3").kind == "python3"
