"""A non-deferrable task's worker is SIGKILLed mid-wait; the retry reattaches to the run it started.

Real Airflow in subprocesses: ``airflow dags test`` starts the DAG run and the task, which starts a Civis
run that waits for a marker file; once the task log says the run started, the whole process group is
killed with SIGKILL (no on_kill, no cleanup). ``airflow tasks test`` then runs the same task in the same
DAG run (the task state store is scoped to it), the marker is written, and the task must finish by
reattaching: the emulator's ``runs_started`` for the job stays 1.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from airflow_civis.testing.dagrun import airflow_env, civis_connection_env
from tests.integration.reliability.conftest import RELIABILITY_KEY

pytestmark = pytest.mark.slow

DAG = '''
from datetime import datetime
from airflow.sdk import DAG
from airflow_civis.operators.scripts import CivisRunScriptOperator

WAIT = """
import os, time
while not os.path.exists({marker!r}):
    time.sleep(0.05)
print("marker seen, finishing")
"""

with DAG("civis_crash", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
    CivisRunScriptOperator(task_id="wait_for_marker", script_type="python3", script={{"source": WAIT}},
                           deferrable=False, poll_interval=0.2, retries=1)
'''


def _airflow() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def test_sigkilled_worker_retry_reattaches(emu, tmp_path):
    marker = tmp_path / "marker"
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "civis_crash.py").write_text(DAG.format(marker=str(marker)))
    env = airflow_env(tmp_path / "home", dags, civis_connection_env(emu.base_url, RELIABILITY_KEY))
    before = emu.runs_started()

    first = subprocess.Popen([_airflow(), "dags", "test", "civis_crash"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    started = threading.Event()
    lines: list[str] = []

    def read() -> None:
        for line in first.stdout:
            lines.append(line)
            if "Started python3 job" in line:
                started.set()
        started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert started.wait(180), "".join(lines[-40:])
        assert first.poll() is None, "".join(lines[-40:])
        os.killpg(first.pid, signal.SIGKILL)  # the worker dies mid-wait: no on_kill, no cleanup
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        first.wait(30)
        reader.join(10)

    new = {job: n - before.get(job, 0) for job, n in emu.runs_started().items() if n != before.get(job, 0)}
    assert list(new.values()) == [1], new  # one run, still waiting for the marker
    (job_id,) = new
    with sqlite3.connect(tmp_path / "home" / "airflow.db") as con:
        (run_id,) = con.execute("SELECT run_id FROM dag_run WHERE dag_id = 'civis_crash'").fetchone()
        saved = con.execute("SELECT value FROM task_state_store WHERE task_id = 'wait_for_marker'").fetchall()
    assert saved and job_id in saved[0][0]

    marker.write_text("go")
    retry = subprocess.run([_airflow(), "tasks", "test", "civis_crash", "wait_for_marker", run_id], env=env,
                           capture_output=True, text=True, timeout=300)
    output = retry.stdout + retry.stderr
    assert retry.returncode == 0, output[-4000:]
    assert "Reattaching to python3 job" in output, output[-4000:]
    assert "marker seen, finishing" in output
    assert emu.runs_started()[job_id] - before.get(job_id, 0) == 1  # zero duplicate runs
