"""Malformed configurations: each raises one clear error that names the field and says what to give.

``PARSE`` cases fail when the DAG file is parsed (the operator's constructor); ``RUNTIME`` cases can only
be known when the task runs (connections, files, the API's answers) and fail before any run starts.
"""

from __future__ import annotations

import importlib
import json
from datetime import timedelta

import pytest

from tests.helpers import make_context
from tests.integration.reliability.conftest import RELIABILITY_KEY


def make(module: str, name: str, **kwargs):
    cls = getattr(importlib.import_module(f"airflow_civis.{module}"), name)  # a missing operator fails
    kwargs.setdefault("task_id", "bad")
    return cls(**kwargs)


PY = {"script_type": "python3", "script": {"source": "print(1)"}}
TABLE = {"table": "sch.tbl", "database": 1}

# (case id, module, class, kwargs, words the message must contain: the field, and the fix)
PARSE = [
    ("script-no-source", "operators.scripts", "CivisRunScriptOperator", {"script_type": "python3", "script": {}},
     ["source", "script="]),
    ("script-unknown-type", "operators.scripts", "CivisRunScriptOperator", {"script_type": "ruby", "script_id": 1},
     ["script_type", "python3"]),
    ("script-both-id-and-script", "operators.scripts", "CivisRunScriptOperator", {**PY, "script_id": 3},
     ["script_id", "exactly one"]),
    ("script-neither", "operators.scripts", "CivisRunScriptOperator", {"script_type": "python3"},
     ["script_id", "exactly one"]),
    ("script-not-a-mapping", "operators.scripts", "CivisRunScriptOperator", {"script_type": "r", "script": "x"},
     ["script", "mapping"]),
    ("script-id-negative", "operators.scripts", "CivisRunScriptOperator", {"script_id": -4},
     ["script_id", "positive"]),
    ("script-id-word", "operators.scripts", "CivisRunScriptOperator", {"script_id": "abc"},
     ["script_id", "integer"]),
    ("script-arguments-list", "operators.scripts", "CivisRunScriptOperator", {**PY, "arguments": [1]},
     ["arguments", "mapping"]),
    ("sql-script-missing-host", "operators.scripts", "CivisRunScriptOperator",
     {"script_type": "sql", "script": {"sql": "select 1"}}, ["remoteHostId", "credentialId"]),
    ("container-missing-command", "operators.scripts", "CivisRunScriptOperator",
     {"script_type": "containers", "script": {"dockerImageName": "x"}}, ["dockerCommand"]),
    ("poll-interval-negative", "operators.scripts", "CivisRunScriptOperator", {**PY, "poll_interval": -1},
     ["poll_interval", "> 0"]),
    ("poll-interval-zero", "operators.scripts", "CivisRunScriptOperator", {**PY, "poll_interval": 0},
     ["poll_interval", "> 0"]),
    ("poll-interval-string", "operators.scripts", "CivisRunScriptOperator", {**PY, "poll_interval": "10s"},
     ["poll_interval", "number"]),
    ("timeout-negative", "operators.scripts", "CivisRunScriptOperator", {**PY, "timeout": -5},
     ["timeout", "> 0"]),
    ("timeout-bool", "operators.scripts", "CivisRunScriptOperator", {**PY, "timeout": True},
     ["timeout", "number"]),
    ("retry-unknown-option", "operators.scripts", "CivisRunScriptOperator", {**PY, "retry": {"tries": 3}},
     ["tries", "max_attempts"]),
    ("retry-zero-attempts", "operators.scripts", "CivisRunScriptOperator", {**PY, "retry": {"max_attempts": 0}},
     ["max_attempts", ">= 1"]),
    ("retry-not-mapping", "operators.scripts", "CivisRunScriptOperator", {**PY, "retry": 3},
     ["retry", "mapping"]),
    ("retry-negative-backoff", "operators.scripts", "CivisRunScriptOperator",
     {**PY, "retry": {"backoff_initial": -1}}, ["backoff_initial", ">= 0"]),
    ("job-id-zero", "operators.jobs", "CivisRunJobOperator", {"job_id": 0}, ["job_id", "positive"]),
    ("job-id-float-word", "operators.jobs", "CivisRunJobOperator", {"job_id": "twelve"}, ["job_id", "integer"]),
    ("job-id-bool", "operators.jobs", "CivisRunJobOperator", {"job_id": True}, ["job_id", "integer"]),
    ("job-unknown-kind", "operators.jobs", "CivisRunJobOperator", {"job_id": 3, "kind": "spark"},
     ["kind", "python3"]),
    ("sensor-negative-poke", "sensors.run", "CivisRunSensor", {"job_id": 3, "poke_interval": -1},
     ["poke_interval", "> 0"]),
    ("sensor-bad-run-id", "sensors.run", "CivisRunSensor", {"job_id": 3, "run_id": "latest"},
     ["run_id", "integer"]),
    ("sensor-unknown-kind", "sensors.run", "CivisRunSensor", {"job_id": 3, "kind": "spark"}, ["kind", "python3"]),
    ("import-bad-table", "operators.imports", "CivisImportCsvOperator",
     {"table": "no_schema", "database": 1, "source_path": "/tmp/x.csv"}, ["table", "schema.table"]),
    ("import-unknown-if-exists", "operators.imports", "CivisImportCsvOperator",
     {**TABLE, "source_path": "/tmp/x.csv", "if_exists": "replace"}, ["if_exists", "append"]),
    ("import-no-source", "operators.imports", "CivisImportCsvOperator", {**TABLE}, ["source_path", "file_ids"]),
    ("import-both-sources", "operators.imports", "CivisImportCsvOperator",
     {**TABLE, "source_path": "/tmp/x.csv", "file_ids": [1]}, ["source_path", "file_ids"]),
    ("import-no-database", "operators.imports", "CivisImportCsvOperator",
     {"table": "s.t", "database": "", "source_path": "/tmp/x.csv"}, ["database", "name or an id"]),
    ("import-bad-delimiter", "operators.imports", "CivisImportCsvOperator",
     {**TABLE, "source_path": "/tmp/x.csv", "delimiter": ";"}, ["delimiter", "|"]),
    ("import-bad-compression", "operators.imports", "CivisImportCsvOperator",
     {**TABLE, "source_path": "/tmp/x.csv", "compression": "zip"}, ["compression", "gzip"]),
    ("export-table-and-sql", "operators.exports", "CivisExportTableOperator",
     {"database": 1, "table": "s.t", "sql": "select 1"}, ["table", "sql", "exactly one"]),
    ("export-bad-table", "operators.exports", "CivisExportTableOperator", {"database": 1, "table": "a.b.c"},
     ["table", "schema.table"]),
    ("export-bad-compression", "operators.exports", "CivisExportTableOperator",
     {"database": 1, "table": "s.t", "compression": "bz2"}, ["compression", "gzip"]),
    ("query-no-sql", "operators.queries", "CivisQueryOperator", {"sql": "", "database": 1}, ["sql"]),
    ("query-negative-preview", "operators.queries", "CivisQueryOperator",
     {"sql": "select 1", "database": 1, "preview_rows": -1}, ["preview_rows"]),
    ("query-huge-preview", "operators.queries", "CivisQueryOperator",
     {"sql": "select 1", "database": 1, "preview_rows": 10**6}, ["preview_rows", "export_path"]),
    ("query-bad-delimiter", "operators.queries", "CivisQueryOperator",
     {"sql": "select 1", "database": 1, "delimiter": ";"}, ["delimiter"]),
    ("ml-unknown-model-type", "operators.ml", "CivisMLTrainOperator",
     {"model_type": "deep_forest", "dependent_variable": "y", "table_name": "s.t", "database_name": "db"},
     ["model_type"]),
    ("ml-unknown-calibration", "operators.ml", "CivisMLTrainOperator",
     {"model_type": "sparse_logistic", "dependent_variable": "y", "table_name": "s.t", "database_name": "db",
      "calibration": "magic"}, ["calibration"]),
    ("ml-predict-bad-train-id", "operators.ml", "CivisMLPredictOperator",
     {"train_job_id": "x", "table_name": "s.t", "database_name": "db"}, ["train_job_id", "integer"]),
    ("upload-no-path", "operators.files", "CivisUploadFileOperator", {"local_path": ""}, ["local_path"]),
    ("upload-long-description", "operators.files", "CivisUploadFileOperator",
     {"local_path": "/tmp/x", "description": "d" * 600}, ["description", "512"]),
    ("geocode-bad-table", "operators.enhancements", "CivisGeocodeOperator", {"source_table": "nodot"},
     ["source_table", "schema.table"]),
]


@pytest.mark.parametrize(("module", "name", "kwargs", "words"), [c[1:] for c in PARSE], ids=[c[0] for c in PARSE])
def test_bad_configuration_fails_at_parse_time(module, name, kwargs, words):
    with pytest.raises((ValueError, TypeError)) as info:
        make(module, name, **kwargs)
    message = str(info.value)
    missing = [w for w in words if w.lower() not in message.lower()]
    assert not missing, f"{message!r} does not mention {missing}"
    assert "Traceback" not in message and len(message) < 600


# Runtime: the connection and the API. Each must fail before a run starts, naming what to fix.
def conn_env(emu, **fields):
    conn = {"conn_type": "civis", "host": emu.base_url, "password": RELIABILITY_KEY, "extra": {"emulator": True},
            **fields}
    return json.dumps(conn)


RUNTIME = [
    ("unknown-connection", {"civis_conn_id": "civis_nope"}, None, ["civis_nope", "AIRFLOW_CONN_CIVIS_NOPE"]),
    ("wrong-key", {}, {"password": "not-the-key"}, ["401", "API key"]),
    ("no-key", {}, {"password": ""}, ["civis_default", "password"]),
    ("bad-timeout-extra", {}, {"extra": json.dumps({"timeout": "soon"})}, ["timeout", "seconds"]),
    ("bad-retry-extra", {}, {"extra": json.dumps({"retry": {"attempts": 2}})}, ["attempts", "max_attempts"]),
    ("nonexistent-script", {"script_id": 987654}, None, ["404", "script"]),
]


@pytest.mark.parametrize(("kwargs", "conn", "words"), [c[1:] for c in RUNTIME], ids=[c[0] for c in RUNTIME])
def test_bad_runtime_configuration_fails_before_any_run(emu, monkeypatch, kwargs, conn, words):
    monkeypatch.setenv("AIRFLOW_CONN_CIVIS_DEFAULT", conn_env(emu, **(conn or {})))
    before = emu.runs_started()
    task_kwargs = {"script_type": "python3", "deferrable": False, "execution_timeout": timedelta(seconds=60)}
    task_kwargs.update(kwargs if "script_id" in kwargs else {"script": {"source": "print(1)"}, **kwargs})
    task = make("operators.scripts", "CivisRunScriptOperator", **task_kwargs)
    with pytest.raises(Exception) as info:
        task.execute(make_context())
    message = str(info.value)
    missing = [w for w in words if w.lower() not in message.lower()]
    assert not missing, f"{message!r} does not mention {missing}"
    assert RELIABILITY_KEY not in message and "not-the-key" not in message
    assert emu.runs_started() == before


def test_nonexistent_local_file_fails_naming_the_path(tmp_path):
    task = make("operators.files", "CivisUploadFileOperator", local_path=str(tmp_path / "missing.csv"))
    with pytest.raises(FileNotFoundError, match="local_path"):
        task.execute(make_context())


def test_the_table_has_at_least_forty_cases():
    assert len(PARSE) + len(RUNTIME) + 1 >= 40
