"""The dag-factory YAML examples: loaded in-process, rendered, rejected when wrong, and run for real."""

from __future__ import annotations

import re
import runpy
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import yaml

from airflow_civis.operators.jobs import CivisRunJobOperator
from airflow_civis.operators.scripts import CivisRunScriptOperator
from airflow_civis.sensors.run import CivisRunSensor
from airflow_civis.testing import run_dag_test
from tests.conftest import API_KEY

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "example_dags"
LOADER = EXAMPLES / "civis_yaml_dags.py"
NO_TELEMETRY = {"AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY": "False", "DO_NOT_TRACK": "1"}
SCRIPT = "airflow_civis.operators.scripts.CivisRunScriptOperator"
JOB = "airflow_civis.operators.jobs.CivisRunJobOperator"
SENSOR = "airflow_civis.sensors.run.CivisRunSensor"


@pytest.fixture(scope="module")
def loader():
    """The example loader module's namespace: its DAGs and ``load_civis_yaml_dags``."""
    return runpy.run_path(str(LOADER))


@pytest.fixture(scope="module")
def quickstart(loader):
    return loader["civis_yaml_quickstart"]


def test_loader_builds_every_yaml_dag(loader):
    for path in (EXAMPLES / "yaml").glob("*.yml"):
        for dag_id in yaml.safe_load(path.read_text()):
            if dag_id != "default":
                assert dag_id in loader, f"{path.name}: DAG {dag_id} was not built"


def test_tasks_types_and_dependencies(quickstart):
    tasks = {task.task_id: task for task in quickstart.tasks}
    assert {name: type(task) for name, task in tasks.items()} == {
        "make_greeting": CivisRunScriptOperator,
        "shout_greeting": CivisRunScriptOperator,
        "rerun_shout": CivisRunJobOperator,
        "wait_for_greeting": CivisRunSensor,
    }
    assert tasks["shout_greeting"].upstream_task_ids == {"make_greeting"}
    assert tasks["rerun_shout"].upstream_task_ids == {"shout_greeting"}
    assert tasks["wait_for_greeting"].upstream_task_ids == {"make_greeting"}
    # deferrable both ways, plain YAML values typed as the operators expect
    assert tasks["make_greeting"].deferrable is False
    assert tasks["shout_greeting"].deferrable is True
    assert tasks["wait_for_greeting"].deferrable is True
    assert tasks["make_greeting"].script_type == "python3"
    assert tasks["shout_greeting"].script_type == "containers"
    assert tasks["make_greeting"].poll_interval == 1.0
    assert tasks["rerun_shout"].timeout == 300.0
    assert tasks["wait_for_greeting"].kind == "python3"
    # default_args from the YAML `default:` block reach every task
    assert all(task.civis_conn_id == "civis_default" for task in tasks.values())
    assert all(task.retry_delay == timedelta(seconds=10) for task in tasks.values())


def test_templated_fields_keep_their_jinja_until_run_time(quickstart):
    tasks = {task.task_id: task for task in quickstart.tasks}
    assert {"script", "arguments", "civis_conn_id"} <= set(tasks["make_greeting"].template_fields)
    assert "job_id" in tasks["rerun_shout"].template_fields
    assert {"job_id", "run_id"} <= set(tasks["wait_for_greeting"].template_fields)
    assert tasks["make_greeting"].arguments == {"WHO": "{{ dag.dag_id }} on {{ ds }}"}
    assert "xcom_pull(task_ids='shout_greeting', key='job_id')" in tasks["rerun_shout"].job_id
    assert "xcom_pull(task_ids='make_greeting', key='run_id')" in tasks["wait_for_greeting"].run_id


def test_templates_render_with_macros_and_xcom(quickstart):
    class TI:
        def xcom_pull(self, task_ids=None, key="return_value"):
            return {("make_greeting", "return_value"): {"outputs": {"greeting": "hi"}},
                    ("make_greeting", "job_id"): 7, ("make_greeting", "run_id"): 9,
                    ("shout_greeting", "job_id"): 8}[(task_ids, key)]

    context = {"dag": quickstart, "ds": "2026-02-03", "ti": TI()}
    tasks = {task.task_id: task for task in quickstart.tasks}
    env = quickstart.get_template_env()
    render = lambda task, value: task.render_template(value, context, jinja_env=env)  # noqa: E731
    assert render(tasks["make_greeting"], tasks["make_greeting"].arguments) == {
        "WHO": "civis_yaml_quickstart on 2026-02-03"
    }
    assert render(tasks["shout_greeting"], tasks["shout_greeting"].arguments) == {"GREETING": "hi"}
    assert render(tasks["rerun_shout"], tasks["rerun_shout"].job_id) == "8"
    sensor = tasks["wait_for_greeting"]
    assert (render(sensor, sensor.job_id), render(sensor, sensor.run_id)) == ("7", "9")


# -- bad values: each error names the YAML file, the task and the field ------------------------------
BAD_VALUES = [
    (SCRIPT, {"script": {"source": "x"}, "poll_interval": -1}, "poll_interval"),
    (SCRIPT, {"script": {"source": "x"}, "poll_interval": "soon"}, "poll_interval"),
    (SCRIPT, {"script": {"source": "x"}, "timeout": 0}, "timeout"),
    (SCRIPT, {"script_type": "perl", "script": {"source": "x"}}, "script_type"),
    (SCRIPT, {"script_type": "containers", "script": {"source": "x"}}, "dockerCommand"),
    (SCRIPT, {"script_id": 3, "script": {"source": "x"}}, "script_id"),
    (SCRIPT, {"script_id": "abc"}, "script_id"),
    (SCRIPT, {"script": ["print(1)"]}, "script"),
    (SCRIPT, {"script": {"source": "x"}, "arguments": ["a"]}, "arguments"),
    (SCRIPT, {"script": {"source": "x"}, "retry": {"max_attempts": 0}}, "max_attempts"),
    (SCRIPT, {"script": {"source": "x"}, "retry": {"bogus": 1}}, "bogus"),
    (SCRIPT, {"script": {"source": "x"}, "pol_interval": 1}, "pol_interval"),
    (JOB, {"job_id": -4}, "job_id"),
    (JOB, {"job_id": 4, "kind": "nope"}, "kind"),
    (JOB, {}, "job_id"),
    (SENSOR, {"job_id": "x"}, "job_id"),
    (SENSOR, {"job_id": 1, "run_id": 0}, "run_id"),
    (SENSOR, {"job_id": 1, "kind": "nope"}, "kind"),
    (SENSOR, {"job_id": 1, "poke_interval": -2}, "poke_interval"),
    (SENSOR, {"job_id": 1, "timeout": "x"}, "timeout"),
    pytest.param(SCRIPT, {"script": {"source": "x"}, "log_tail_lines": "many"}, "log_tail_lines",
                 marks=pytest.mark.xfail(strict=True, reason="operator: int() error names no field")),
    pytest.param(SCRIPT, {"script": {"source": "x"}, "deferrable": "false"}, "deferrable",
                 marks=pytest.mark.xfail(strict=True, reason="operator: bool('false') is True, no error")),
]


def write_yaml(folder: Path, operator: str, params: dict) -> Path:
    path = folder / "bad_dag.yml"
    config = {"bad_dag": {"schedule": None, "start_date": "2026-01-01",
                          "tasks": {"ok_task": {"operator": SENSOR, "job_id": 1},
                                    "the_task": {"operator": operator, **params}}}}
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize(("operator", "params", "field"), BAD_VALUES)
def test_bad_value_error_names_file_task_and_field(loader, tmp_path, operator, params, field):
    path = write_yaml(tmp_path, operator, params)
    with pytest.raises(ValueError) as excinfo:
        loader["load_civis_yaml_dags"]({}, tmp_path)
    message = str(excinfo.value)
    assert str(path) in message
    assert "'the_task'" in message or "the_task)" in message
    assert field in message


def test_bad_yaml_is_an_import_error_in_a_dagbag(tmp_path):
    """What Airflow itself shows: the loader file fails to import, with file, task and field in the error."""
    from airflow.models import DagBag

    shutil.copy(LOADER, tmp_path / LOADER.name)
    (tmp_path / "yaml").mkdir()
    bad = write_yaml(tmp_path / "yaml", SCRIPT, {"script": {"source": "x"}, "poll_interval": 0})
    bag = DagBag(dag_folder=str(tmp_path))
    assert not bag.dags
    (error,) = bag.import_errors.values()
    assert str(bad) in error and "'the_task'" in error and "poll_interval must be > 0" in error


# -- one real run: airflow dags test against an emulator process -------------------------------------
def api(base_url: str, path: str):
    response = requests.get(base_url + path, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10)
    response.raise_for_status()
    return response.json()


@pytest.mark.slow
def test_yaml_quickstart_runs_in_airflow(tmp_path):
    from airflow_civis.emulator.server import start_emulator_process, stop_emulator_process

    proc, base_url = start_emulator_process(API_KEY, data_dir=str(tmp_path / "emulator"))
    try:
        result = run_dag_test(
            "civis_yaml_quickstart", dags_folder=EXAMPLES, home=tmp_path / "airflow", base_url=base_url,
            api_key=API_KEY, extra_env=NO_TELEMETRY,
        )
        assert result.succeeded, result.output[-4000:]
        jobs = {job["name"]: job for job in api(base_url, "/jobs")}
        make = jobs["civis_yaml_quickstart.make_greeting"]
        shout = jobs["civis_yaml_quickstart.shout_greeting"]
        assert [run["state"] for run in api(base_url, f"/jobs/{make['id']}/runs")] == ["succeeded"]
        shout_runs = api(base_url, f"/jobs/{shout['id']}/runs")
        # shout_greeting's own run plus rerun_shout's (job_id came from XCom)
        assert [run["state"] for run in shout_runs] == ["succeeded", "succeeded"]
        for run in shout_runs:
            lines = api(base_url, f"/jobs/{shout['id']}/runs/{run['id']}/logs")
            logs = " ".join(line["message"] for line in lines)
            # {{ dag.dag_id }} and {{ ds }} rendered in make_greeting, its output pulled from XCom by shout
            assert re.search(r"HELLO, CIVIS_YAML_QUICKSTART ON \d{4}-\d\d-\d\d", logs), logs
    finally:
        stop_emulator_process(proc)
    assert "[civis " in result.output
    assert "new_state=deferred" in result.output  # shout_greeting really waited in the triggerer
    assert API_KEY not in result.output
