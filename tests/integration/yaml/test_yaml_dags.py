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

import airflow_civis.operators
import airflow_civis.sensors
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
OPS = "airflow_civis.operators."
UPLOAD, DOWNLOAD = OPS + "files.CivisUploadFileOperator", OPS + "files.CivisDownloadFileOperator"
IMPORT, QUERY = OPS + "imports.CivisImportCsvOperator", OPS + "queries.CivisQueryOperator"
EXPORT = OPS + "exports.CivisExportTableOperator"
TRAIN, PREDICT = OPS + "ml.CivisMLTrainOperator", OPS + "ml.CivisMLPredictOperator"
GEOCODE, CASS = OPS + "enhancements.CivisGeocodeOperator", OPS + "enhancements.CivisCassNcoaOperator"
TABLE_SENSOR = "airflow_civis.sensors.table.CivisTableSensor"


@pytest.fixture(scope="module")
def loader():
    """The example loader module's namespace: its DAGs and ``load_civis_yaml_dags``."""
    return runpy.run_path(str(LOADER))


@pytest.fixture(scope="module")
def quickstart(loader):
    return loader["civis_yaml_quickstart"]


@pytest.fixture(scope="module")
def data_ml(loader):
    return loader["civis_yaml_data_ml"]


def test_loader_builds_every_yaml_dag(loader):
    for path in (EXAMPLES / "yaml").glob("*.yml"):
        for dag_id in yaml.safe_load(path.read_text()):
            if dag_id != "default":
                assert dag_id in loader, f"{path.name}: DAG {dag_id} was not built"


def test_every_operator_and_sensor_appears_in_a_yaml_dag(loader):
    """Each class exported by airflow_civis.operators and airflow_civis.sensors, configured from YAML."""
    from airflow.sdk import DAG

    used = {type(task).__name__ for dag in loader.values() if isinstance(dag, DAG) for task in dag.tasks}
    exported = {*airflow_civis.operators.__all__, *airflow_civis.sensors.__all__}
    assert exported <= used, f"not in any YAML DAG: {sorted(exported - used)}"


def test_data_ml_dag_from_yaml(data_ml):
    tasks = {task.task_id: task for task in data_ml.tasks}
    assert {name: type(task).__name__ for name, task in tasks.items()} == {
        "make_customers": "CivisQueryOperator", "upload": "CivisUploadFileOperator",
        "import_csv": "CivisImportCsvOperator", "wait_for_table": "CivisTableSensor",
        "split": "CivisQueryOperator", "train": "CivisMLTrainOperator", "score": "CivisMLPredictOperator",
        "geocode": "CivisGeocodeOperator", "standardise": "CivisCassNcoaOperator",
        "export_scores": "CivisExportTableOperator", "download_scores": "CivisDownloadFileOperator",
    }
    assert tasks["score"].upstream_task_ids == {"train"}
    assert tasks["download_scores"].upstream_task_ids == {"export_scores"}
    # deferrable both ways, from plain YAML booleans
    assert tasks["import_csv"].deferrable and tasks["train"].deferrable and tasks["wait_for_table"].deferrable
    assert not tasks["make_customers"].deferrable and not tasks["score"].deferrable
    assert not tasks["standardise"].deferrable
    # not set: follows [operators] default_deferrable
    from airflow_civis.operators.base import default_deferrable

    assert tasks["geocode"].deferrable is default_deferrable()
    # values typed as the operators expect
    assert tasks["import_csv"].if_exists == "drop" and tasks["wait_for_table"].min_rows == 300
    assert tasks["train"].model_type == "sparse_logistic" and tasks["train"].excluded_columns == ["age"]
    assert tasks["standardise"].column_mapping["address1"] == "address"
    assert tasks["geocode"].multipart_key == ["id"]


def test_data_ml_templates_render_with_macros_and_xcom(data_ml):
    class TI:
        def xcom_pull(self, task_ids=None, key="return_value"):
            return {"make_customers": {"local_path": "/tmp/c.csv"}, "upload": 41,
                    "train": {"job_id": 7, "run_id": 9}, "export_scores": {"file_ids": [52, 53]}}[task_ids]

    context = {"dag": data_ml, "ds": "2026-02-03", "ds_nodash": "20260203", "ts_nodash": "20260203T000000",
               "ti": TI()}
    tasks = {task.task_id: task for task in data_ml.tasks}
    env = data_ml.get_template_env()

    def render(task_id: str, field: str):
        task = tasks[task_id]
        assert field in task.template_fields, f"{task_id}.{field} is not templated"
        return task.render_template(getattr(task, field), context, jinja_env=env)

    assert render("make_customers", "export_path") == "/tmp/civis_yaml_data_ml/customers_20260203T000000.csv"
    assert render("upload", "local_path") == "/tmp/c.csv"
    assert render("upload", "name") == "customers_20260203.csv"
    assert render("import_csv", "file_ids") == "41"
    assert "split for the run of 2026-02-03" in render("split", "sql")
    assert render("train", "model_name") == "yaml renewal 2026-02-03"
    assert (render("score", "train_job_id"), render("score", "train_run_id")) == ("7", "9")
    assert render("export_scores", "filename_prefix") == "scores_20260203"
    assert render("download_scores", "file_id") == "52"


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
    (SCRIPT, {"script": {"source": "x"}, "log_tail_lines": "many"}, "log_tail_lines"),
    (SCRIPT, {"script": {"source": "x"}, "deferrable": "false"}, "deferrable"),
    (SCRIPT, {"script": {"source": "x"}, "cancel_on_kill": "no"}, "cancel_on_kill"),
    (SENSOR, {"job_id": 1, "deferrable": "yes"}, "deferrable"),
    # data, CivisML and enhancement operators, and the table sensor
    (IMPORT, {"table": "scratch.t", "database": "db", "file_ids": 1, "if_exists": "replace"}, "if_exists"),
    (IMPORT, {"table": "orders", "database": "db", "file_ids": 1}, "schema.table"),
    (IMPORT, {"table": "s.t", "database": "db", "file_ids": 1, "source_path": "/x.csv"}, "source_path"),
    (IMPORT, {"table": "s.t", "database": "db", "file_ids": 1, "if_exists": "upsert"}, "primary_keys"),
    (IMPORT, {"table": "s.t", "database": "db", "file_ids": 1, "delimiter": ";"}, "delimiter"),
    (IMPORT, {"table": "s.t", "database": "db", "file_ids": 1, "max_errors": -1}, "max_errors"),
    (IMPORT, {"table": "s.t", "database": "db", "file_ids": 1, "poll_interval": -1}, "poll_interval"),
    (QUERY, {"sql": "SELECT 1", "database": "db", "preview_rows": 5000}, "preview_rows"),
    (QUERY, {"sql": "SELECT 1", "database": "db", "compression": "zip"}, "compression"),
    (QUERY, {"sql": "", "database": "db"}, "sql"),
    (EXPORT, {"database": "db"}, "table"),
    (EXPORT, {"database": "db", "table": "s.t", "max_file_size_mb": -1}, "max_file_size_mb"),
    (UPLOAD, {"local_path": "/x", "description": "d" * 600}, "description"),
    (UPLOAD, {"local_path": "/x", "max_workers": 0}, "max_workers"),
    (DOWNLOAD, {"file_id": "abc", "local_path": "/x"}, "file_id"),
    (TRAIN, {"model_type": "deep_net", "dependent_variable": "y", "table_name": "s.t"}, "model_type"),
    (TRAIN, {"model_type": "sparse_ridge_regressor", "dependent_variable": "y", "table_name": "s.t",
             "calibration": "sigmoid"}, "calibration"),
    (TRAIN, {"model_type": "sparse_logistic", "dependent_variable": "y", "table_name": "s.t",
             "cross_validation_parameters": "hyperband"}, "cross_validation_parameters"),
    (TRAIN, {"model_type": "sparse_logistic", "dependent_variable": "y", "table_name": "s.t",
             "oos_scores_if_exists": "replace"}, "oos_scores_if_exists"),
    (TRAIN, {"model_type": "sparse_logistic", "dependent_variable": "y", "table_name": "s.t",
             "cpu_requested": -1}, "cpu_requested"),
    (TRAIN, {"model_type": "sparse_logistic", "table_name": "s.t"}, "dependent_variable"),
    (PREDICT, {"train_job_id": 0, "table_name": "s.t"}, "train_job_id"),
    (PREDICT, {"train_job_id": 1, "table_name": "s.t", "if_output_exists": "overwrite"}, "if_output_exists"),
    (PREDICT, {"train_job_id": 1, "table_name": "s.t", "file_id": 3}, "table_name"),
    (GEOCODE, {"source_table": "addresses"}, "source_table"),
    (GEOCODE, {"source_table": "s.t", "country": "uk"}, "country"),
    (GEOCODE, {"source_table": "s.t", "existing_table_rows": "merge"}, "existing_table_rows"),
    (CASS, {"source_table": "s.t", "column_mapping": {"street": "x"}}, "column_mapping"),
    (CASS, {"source_table": "s.t", "perform_ncoa": True}, "ncoa_credential_id"),
    (CASS, {"source_table": "s.t", "batch_size": -5}, "batch_size"),
    (TABLE_SENSOR, {"table": "s.t", "database": "db", "poke_interval": -1}, "poke_interval"),
    (TABLE_SENSOR, {"table": "s.t", "database": "db", "min_rows": -1}, "min_rows"),
    (TABLE_SENSOR, {"table": "s.t", "database": "db", "refreshed_after": "yesterday"}, "refreshed_after"),
    (TABLE_SENSOR, {"table": "events", "database": "db"}, "schema.table"),
    (IMPORT, {"table": "s.t", "database": "db", "file_ids": 1, "header": "false"}, "header"),
    (GEOCODE, {"source_table": "s.t", "output_address": "false"}, "output_address"),
    (TRAIN, {"model_type": "sparse_logistic", "dependent_variable": "y", "table_name": "customers"},
                 "table_name"),
    (CASS, {"source_table": "s.t", "multipart_key": "id"}, "multipart_key"),
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
    from civis_emulator.process import start_emulator_process, stop_emulator_process

    proc, base_url = start_emulator_process(API_KEY, data_dir=str(tmp_path / "emulator"))
    try:
        result = run_dag_test(
            "civis_yaml_quickstart", dags_folder=EXAMPLES, home=tmp_path / "airflow", base_url=base_url,
            api_key=API_KEY, extra_env=NO_TELEMETRY,
        )
        assert result.succeeded, result.output[-4000:]
        jobs = {job["name"]: job for job in api(base_url, "/jobs?hidden=true")}  # created hidden
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


@pytest.mark.slow
def test_yaml_data_ml_runs_in_airflow(tmp_path):
    """Query, upload, import, table sensor, CivisML train + score, geocode, CASS, export, download: one DAG
    written in YAML, run by ``airflow dags test`` against an emulator process."""
    from civis_emulator.process import start_emulator_process, stop_emulator_process

    proc, base_url = start_emulator_process(API_KEY, data_dir=str(tmp_path / "emulator"))
    try:
        result = run_dag_test(
            "civis_yaml_data_ml", dags_folder=EXAMPLES, home=tmp_path / "airflow", base_url=base_url,
            api_key=API_KEY, extra_env=NO_TELEMETRY,
        )
        assert result.succeeded, result.output[-4000:]
        rows = {t: api(base_url, f"/databases/1/schemas/scratch/tables/{t}")["rowCount"]
                for t in ("yaml_customers", "yaml_training", "yaml_new", "yaml_scores", "yaml_geocoded", "yaml_cass")}
        jobs = {job["name"] for job in api(base_url, "/jobs")}
    finally:
        stop_emulator_process(proc)
    assert rows == {"yaml_customers": 300, "yaml_training": 240, "yaml_new": 60, "yaml_scores": 60,
                    "yaml_geocoded": 300, "yaml_cass": 300}
    assert re.search(r"yaml renewal \d{4}-\d\d-\d\d Train", " ".join(jobs)), jobs  # {{ ds }} rendered
    assert "Imported 300 rows into scratch.yaml_customers" in result.output
    assert "Scored 60 rows into scratch.yaml_scores" in result.output  # ids pulled from train's XCom
    assert "new_state=deferred" in result.output  # import_csv and train waited in the triggerer
    assert API_KEY not in result.output
