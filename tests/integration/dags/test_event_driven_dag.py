"""End to end: example_dags/civis_event_driven.py in a real Airflow (api-server, scheduler, dag-processor,
triggerer). A run of the Civis job started through the API makes exactly one DAG run; a second run, a
second DAG run; each DAG run's asset event names its Civis run; after the triggerer is killed, a run that
ended while it was down makes one DAG run once a new triggerer starts (the mark in the asset state store).

Where the time goes (seconds from starting the services, 2 shared cores): the four services import Airflow
at once (~13-16 s before the DAG is in the database, ~25 s before the api-server answers); the watcher's
first read of its job waits for the api-server (the triggerer reaches Airflow's asset state store through
it). What this test once also waited for, now set in FAST_AIRFLOW: `airflow dags unpause` and the next
parse of the file (30 s), and the triggerer's 30 s health threshold before a new triggerer takes over a
killed one's watcher. The rest is SQLite under four writers: a task's start or a triggerer's heartbeat
sometimes waits 10-20 s for the database (``Heartbeat recovered after ...`` in the log).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from airflow_civis.hooks.civis import CivisHook
from airflow_civis.testing.airflow_services import AirflowServices, query, wait_for
from airflow_civis.testing.dagrun import civis_connection_env
from tests.conftest import API_KEY

EXAMPLE = Path(__file__).resolve().parents[3] / "example_dags" / "civis_event_driven.py"
CONTAINER = {"dockerImageName": "x", "requiredResources": {"cpu": 100, "memory": 100, "diskSpace": 1}}
DAG_ID = "civis_event_driven"
#: Airflow's waits shortened to what this test needs (see the module docstring for where the time goes).
FAST_AIRFLOW = {
    # watchers are registered only for an active DAG: paused at creation, they waited for `airflow dags
    # unpause` (a CLI process) and then for the file's next parse (min_file_process_interval, 30 s)
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
    # a killed triggerer's watchers move to a new one once its heartbeat is this old (the triggerer reads
    # [triggerer], default 30 s; the [scheduler] option of the same name this test set did nothing)
    "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
    "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "4",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
}


def run_to_end(hook: CivisHook, job_id: int) -> dict:
    run = hook.call("POST", f"/jobs/{job_id}/runs")
    return wait_for(lambda: (r := hook.call("GET", f"/jobs/{job_id}/runs/{run['id']}"))["state"] in (
        "succeeded", "failed", "cancelled") and r, 30, f"run {run['id']} did not end", interval=0.1)


def dag_runs(db: Path) -> list[tuple[str, str]]:
    return query(db, "SELECT run_id, state FROM dag_run WHERE dag_id = ? ORDER BY id", DAG_ID)


def event_run_ids(db: Path) -> list[int]:
    rows = query(db, "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id "
                     "WHERE a.name LIKE 'civis_job_%' ORDER BY e.id")
    return [json.loads(extra)["payload"]["run_id"] for (extra,) in rows]


def stored_marks(db: Path) -> list[int]:
    rows = query(db, "SELECT value FROM asset_state_store WHERE key LIKE 'civis_job_event.%'")
    return [json.loads(value) for (value,) in rows]


@pytest.mark.slow
def test_each_civis_run_makes_exactly_one_dag_run(emulator_process, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CIVIS_DEFAULT", json.dumps(
        {"conn_type": "civis", "host": emulator_process, "password": API_KEY, "extra": {"emulator": True}}))
    hook = CivisHook()
    job = hook.call("POST", "/scripts/containers", json={
        "name": "scheduled-on-civis", "dockerCommand": "civis-emulator:sleep 0.5", **CONTAINER})["id"]
    before = run_to_end(hook, job)  # a run from before the watcher: must not make a DAG run
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy(EXAMPLE, dags / EXAMPLE.name)
    log_seq = hook.call("GET", "/_emulator/requests")["next"]
    t0, phases = time.monotonic(), {}
    with AirflowServices(tmp_path, dags, {
        **civis_connection_env(emulator_process, API_KEY),
        "CIVIS_EVENT_JOB_ID": str(job),
        "CIVIS_EVENT_POLL_INTERVAL": "1",
        **FAST_AIRFLOW,
    }) as airflow:
        try:
            airflow.wait_parsed([DAG_ID], timeout=120)
            phases["parsed"] = round(time.monotonic() - t0, 1)

            def watcher_read_its_job() -> bool:  # the trigger's baseline: runs after it are new
                log = hook.call("GET", "/_emulator/requests", params={"since": log_seq})["requests"]
                return any(r["method"] == "GET" and r["path"] == f"/jobs/{job}" for r in log)

            wait_for(watcher_read_its_job, 120, "the triggerer never started the asset watcher")
            phases["watcher"] = round(time.monotonic() - t0, 1)
            first = run_to_end(hook, job)
            wait_for(lambda: len(dag_runs(airflow.db)) >= 1, 60, "no DAG run after the first Civis run")
            phases["first"] = round(time.monotonic() - t0, 1)
            second = run_to_end(hook, job)
            wait_for(lambda: len(dag_runs(airflow.db)) >= 2, 60, "no DAG run after the second Civis run")
            assert stored_marks(airflow.db) == [second["id"]]  # Airflow's asset state store holds the mark
            phases["second"] = round(time.monotonic() - t0, 1)
            # the triggerer dies (no cleanup); a run ends while none runs; a new triggerer fires it, once,
            # and fires neither earlier run again
            airflow.kill("triggerer")
            while_down = run_to_end(hook, job)
            airflow.start("triggerer")
            wait_for(lambda: len(dag_runs(airflow.db)) >= 3, 90, "no DAG run for the run that ended while down")
            phases["restart"] = round(time.monotonic() - t0, 1)
            wait_for(lambda: all(s in ("success", "failed") for _, s in dag_runs(airflow.db)), 60,
                     "the DAG runs did not end")
        except Exception:
            print(airflow.log_path.read_text()[-6000:], "\nseconds since start:", phases)
            raise
        phases["ended"] = round(time.monotonic() - t0, 1)
        assert event_run_ids(airflow.db) == [first["id"], second["id"], while_down["id"]]
        assert before["id"] not in event_run_ids(airflow.db)
        runs = dag_runs(airflow.db)
        assert len(runs) == 3 and all(s == "success" for _, s in runs), runs
        procs = list(airflow.procs.values())
    phases["stopped"] = round(time.monotonic() - t0, 1)
    print("\nseconds since the services started:", phases)
    assert procs and all(p.poll() is not None for p in procs)
