"""Run the pipelines with a distinctive API key; it must appear in no log, XCom, rendered field or error.

Scanned: the ``airflow dags test`` output (task and trigger logs, exception texts), every file under
AIRFLOW_HOME (log files), every row of the metadata database (XCom, rendered template fields, trigger
kwargs, task state store), and the emulator process's own stdout/stderr. Faults are on, so retry and
error messages are in the logs too.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from airflow_civis.testing import run_dag_test

ROOT = Path(__file__).resolve().parents[3]
SECRET = "zz-SECRET-civis-key-8d41c2f07b-zz"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def loud_emulator(tmp_path_factory):
    """The emulator as a process with its output kept (``start_emulator_process`` discards it)."""
    data = tmp_path_factory.mktemp("emu-secrets")
    env = dict(os.environ, CIVIS_API_KEY=SECRET, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "airflow_civis.emulator.cli", "--port", "0", "--data-dir",
                             str(data)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)
            if "ready at " in line:
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(60), "".join(lines)
        base_url = next(line for line in lines if "ready at " in line).split("ready at ", 1)[1].strip()
        yield base_url, lines
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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


def test_the_key_appears_nowhere(loud_emulator, tmp_path):
    base_url, emulator_output = loud_emulator
    from airflow_civis.emulator.faults import standard_profile

    requests.post(base_url + "/_emulator/faults", headers={"Authorization": f"Bearer {SECRET}"},
                  json=standard_profile(0.2, 0.02, seed=5), timeout=10).raise_for_status()
    runs = [("civis_quickstart", ROOT / "example_dags", True), ("civis_failing", ROOT / "tests" / "dags", False)]
    for dag_id, folder, should_succeed in runs:
        home = tmp_path / dag_id
        result = run_dag_test(dag_id, dags_folder=folder, home=home, base_url=base_url, api_key=SECRET)
        assert result.succeeded is should_succeed, result.output[-3000:]
        assert SECRET not in result.output
        assert scan_home(home) == []
        with sqlite3.connect(home / "airflow.db") as con:  # the scan saw real content
            assert con.execute("SELECT count(*) FROM xcom").fetchone()[0] > 0
            assert con.execute("SELECT count(*) FROM rendered_task_instance_fields").fetchone()[0] > 0
    assert "CivisRunError" in result.output  # exception text was produced, and scanned
    auth = {"Authorization": f"Bearer {SECRET}"}
    started = requests.get(base_url + "/_emulator/stats", headers=auth, timeout=10).json()["runs_started"]
    assert started and set(started.values()) == {1}  # under 20% faults: no job started twice
    assert requests.get(base_url + "/_emulator/faults", headers=auth, timeout=10).json()["total_injected"] > 0
    assert SECRET not in "".join(emulator_output)


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
