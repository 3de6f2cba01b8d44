"""Kill -9 the triggerer while N Civis tasks are deferred, start a new one: all succeed, no duplicate runs.

A real Airflow in an isolated AIRFLOW_HOME (SQLite, LocalExecutor with ``--slots`` slots, default 4):
``api-server``, ``scheduler``, ``dag-processor`` and ``triggerer`` processes. One DAG maps a deferrable
``CivisRunJobOperator`` over N emulated container jobs (``civis-emulator:sleep S``). Once all N task
instances are deferred, the triggerer's process group gets SIGKILL (no cleanup, no ``on_kill``), a new
triggerer starts, and the DAG run must end with N of N succeeded, ``runs_started`` == 1 for every job
and no run cancelled (a restart is not a kill). Takes a few minutes: not part of the test suite.

    .venv/bin/python benchmarks/triggerer_restart.py [--tasks 20] [--seconds 120] [--slots 4]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CONTAINER, OUT, conn_env, start_emulator, stop, use_connection  # noqa: E402
from deferral import dag_run_state, free_port, wait_for  # noqa: E402

DAG = '''
import json, pendulum
from airflow.sdk import DAG
from airflow_civis.operators.jobs import CivisRunJobOperator

with DAG("civis_triggerer_restart", schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False,
         max_active_tasks=1000):
    CivisRunJobOperator.partial(task_id="run", deferrable=True, poll_interval=2, fetch_logs=False,
                                retries=0).expand(job_id=json.load(open({jobs!r})))
'''


def ti_states(db: Path) -> dict[str, int]:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            rows = con.execute("SELECT state, count(*) FROM task_instance WHERE dag_id = "
                               "'civis_triggerer_restart' GROUP BY state").fetchall()
    except sqlite3.Error:
        return {}
    return {str(state): n for state, n in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--slots", type=int, default=4)
    args = parser.parse_args()
    from airflow_civis.hooks.civis import CivisHook
    from airflow_civis.testing.dagrun import airflow_env

    emulator, base_url = start_emulator(workers=args.tasks + 8)
    procs: dict[str, subprocess.Popen] = {}
    work = Path(tempfile.mkdtemp(prefix="civis-triggerer-restart-"))
    result: dict = {"benchmark": "triggerer_restart", "tasks": args.tasks, "run_seconds": args.seconds}
    try:
        use_connection(base_url)
        hook = CivisHook()
        jobs = [hook.call("POST", "/scripts/containers", json={
            "name": f"restart-{i}", "dockerCommand": f"civis-emulator:sleep {args.seconds}", **CONTAINER})["id"]
            for i in range(args.tasks)]
        (work / "jobs.json").write_text(json.dumps(jobs))
        dags = work / "dags"
        dags.mkdir()
        (dags / "civis_restart.py").write_text(DAG.format(jobs=str(work / "jobs.json")))
        port = free_port()
        env = airflow_env(work / "home", dags, {
            **conn_env(base_url),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(args.slots),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API_AUTH__JWT_SECRET": "civis-restart-jwt-secret-0123456789abcdef",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
        })
        airflow = str(Path(sys.executable).with_name("airflow"))
        logs = open(work / "airflow.log", "w")

        def start(name: str, *cmd: str) -> None:
            procs[name] = subprocess.Popen([airflow, *cmd], env=env, stdout=logs, stderr=subprocess.STDOUT,
                                           start_new_session=True)

        for name, cmd in (("api", ["api-server", "--port", str(port)]), ("scheduler", ["scheduler"]),
                          ("dag-processor", ["dag-processor"]), ("triggerer", ["triggerer"])):
            start(name, *cmd)
        db = work / "home" / "airflow.db"

        def parsed() -> bool:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
                return con.execute("SELECT count(*) FROM dag WHERE dag_id = 'civis_triggerer_restart'").fetchone()[0]

        wait_for(parsed, 300, "the DAG file was not parsed")
        subprocess.run([airflow, "dags", "unpause", "civis_triggerer_restart"], env=env, check=True,
                       capture_output=True)
        started = time.monotonic()
        subprocess.run([airflow, "dags", "trigger", "civis_triggerer_restart"], env=env, check=True,
                       capture_output=True)
        wait_for(lambda: ti_states(db).get("deferred", 0) == args.tasks, 600, "not all tasks deferred")
        result["all_deferred_after_s"] = round(time.monotonic() - started, 1)
        result["civis_runs_active_at_kill"] = sum(
            (hook.get_job(job).get("lastRun") or {}).get("state") in ("queued", "running") for job in jobs)
        os.killpg(procs["triggerer"].pid, signal.SIGKILL)
        procs["triggerer"].wait()
        result["triggerer_killed_with"] = "SIGKILL"
        start("triggerer", "triggerer")
        wait_for(lambda: dag_run_state(db, "civis_triggerer_restart") in ("success", "failed"), 1800,
                 "the DAG run did not end")
        result["wall_s"] = round(time.monotonic() - started, 1)
        states = ti_states(db)
        result["succeeded"] = states.get("success", 0)
        result["ti_states"] = states
        stats = hook.call("GET", "/_emulator/stats")["runs_started"]
        counts = [stats.get(str(job), 0) for job in jobs]
        result["runs_started"] = sum(counts)
        result["duplicates"] = sum(n - 1 for n in counts if n > 1)
        result["cancelled_runs"] = sum((hook.get_job(job).get("lastRun") or {}).get("state") == "cancelled"
                                       for job in jobs)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        stop(emulator)
    print(f"tasks: {result.get('succeeded')}/{args.tasks} succeeded after a triggerer SIGKILL + restart; "
          f"Civis runs started: {result.get('runs_started')}, duplicates: {result.get('duplicates')}, "
          f"cancelled: {result.get('cancelled_runs')}")
    OUT.mkdir(exist_ok=True)
    (OUT / "triggerer_restart.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
