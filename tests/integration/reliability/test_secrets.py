"""Run the pipelines with a distinctive API key; it must appear in no log, XCom, rendered field or error.

Scanned: the ``airflow dags test`` output (task and trigger logs, exception texts), every file under
AIRFLOW_HOME (log files), every row of the metadata database (XCom, rendered template fields, trigger
kwargs, task state store), and the emulator process's own stdout/stderr. Faults are on, so retry and
error messages are in the logs too.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.integration.conftest import SECRET

pytestmark = pytest.mark.slow


def scan_home(home: Path) -> list[str]:
    hits = []
    for path in home.rglob("*"):
        if path.is_file() and path.suffix != ".db" and SECRET.encode() in path.read_bytes():
            hits.append(str(path))
    with sqlite3.connect(home / "airflow.db") as con:
        for statement in con.iterdump():  # every table: xcom, rendered_task_instance_fields, trigger, ...
            if SECRET in statement:
                hits.append(statement[:200])
    return hits


def test_the_key_appears_nowhere(dag_run, examples_emulator):
    """Against this session's one run of each DAG (``dag_run``: faults were on for both)."""
    for dag_id, should_succeed in (("civis_quickstart", True), ("civis_failing", False)):
        run = dag_run(dag_id)
        assert run.result.succeeded is should_succeed, run.result.output[-3000:]
        assert SECRET not in run.result.output
        assert scan_home(run.home) == []
        with sqlite3.connect(run.home / "airflow.db") as con:  # the scan saw real content
            assert con.execute("SELECT count(*) FROM xcom").fetchone()[0] > 0
            assert con.execute("SELECT count(*) FROM rendered_task_instance_fields").fetchone()[0] > 0
        assert run.runs_started and set(run.runs_started.values()) == {1}  # under 20% faults: none twice
        assert run.faults_injected > 0
    assert "CivisRunError" in run.result.output  # exception text was produced, and scanned
    assert SECRET not in "".join(examples_emulator.output)


def test_tls_verification_stays_on_unless_the_connection_says_otherwise(monkeypatch):
    from airflow_civis.hooks.civis import CivisHook

    def hook(extra: dict | None) -> CivisHook:
        conn = {"conn_type": "civis", "host": "https://api.civisanalytics.com", "password": "k"}
        if extra is not None:
            conn["extra"] = json.dumps(extra)
        monkeypatch.setenv("AIRFLOW_CONN_CIVIS_DEFAULT", json.dumps(conn))
        return CivisHook()

    assert hook(None).session.verify is True
    assert hook({"timeout": 5}).session.verify is True
    assert hook({"verify": "false"}).session.verify is False
    assert hook({"verify": "/etc/ssl/ca.pem"}).session.verify == "/etc/ssl/ca.pem"
