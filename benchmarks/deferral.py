"""Wall time of N concurrent 30-second Civis runs through a real Airflow: deferrable vs. blocking workers.

One run of this script starts the emulator (simulated 30 s container runs), an isolated Airflow
(its own AIRFLOW_HOME and SQLite database, LocalExecutor with ``--slots`` worker slots, default 4) with
a real ``api-server``, ``scheduler``, ``dag-processor`` and ``triggerer``, then triggers two DAGs one
after the other, each mapping ``CivisRunJobOperator`` over N jobs: ``deferrable=True`` and
``deferrable=False``. Reported: wall time from trigger to the DAG run's end, per mode. Ends with one
JSON line. Blocking needs about N * 30 / slots seconds, so on a 2-core machine the issue's N = 200
(25 minutes of blocking alone) does not fit a short session: pass ``--runs`` (default 200).

    .venv/bin/python benchmarks/deferral.py [--runs 200] [--seconds 30] [--slots 4]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CONTAINER, OUT, conn_env, start_emulator, stop, use_connection  # noqa: E402

from airflow_civis.testing.airflow_services import (  # noqa: E402  (re-exported for triggerer_restart.py)
    AirflowServices,
    dag_run_state,
    free_port,
    wait_for,
)

__all__ = ["dag_run_state", "free_port", "wait_for"]

DAG = '''
import json, pendulum
from airflow.sdk import DAG
from airflow_civis.operators.jobs import CivisRunJobOperator

JOBS = json.load(open({jobs!r}))
for mode, deferrable in (("deferrable", True), ("blocking", False)):
    with DAG(f"civis_bench_{{mode}}", schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False,
             max_active_tasks=10000):
        CivisRunJobOperator.partial(task_id="run", deferrable=deferrable, poll_interval=2, fetch_logs=False,
                                    ).expand(job_id=JOBS[mode])
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--slots", type=int, default=4)
    args = parser.parse_args()
    from airflow_civis.hooks.civis import CivisHook

    emulator, base_url = start_emulator(workers=args.runs + 32)
    work = Path(tempfile.mkdtemp(prefix="civis-deferral-"))
    result = {"benchmark": "deferral", "runs": args.runs, "run_seconds": args.seconds, "slots": args.slots}
    airflow: AirflowServices | None = None
    try:
        use_connection(base_url)
        hook = CivisHook()
        jobs = {mode: [hook.call("POST", "/scripts/containers", json={
            "name": f"deferral-{mode}-{i}", "dockerCommand": f"civis-emulator:sleep {args.seconds}", **CONTAINER})["id"]
            for i in range(args.runs)] for mode in ("deferrable", "blocking")}
        (work / "jobs.json").write_text(json.dumps(jobs))
        dags = work / "dags"
        dags.mkdir()
        (dags / "civis_bench.py").write_text(DAG.format(jobs=str(work / "jobs.json")))
        airflow = AirflowServices(work, dags, {
            **conn_env(base_url), "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "10000"},
            slots=args.slots, jwt_secret="civis-bench-jwt-secret-0123456789abcdef").start()
        airflow.wait_parsed(["civis_bench_deferrable", "civis_bench_blocking"])
        for mode in ("deferrable", "blocking"):
            dag_id = f"civis_bench_{mode}"
            airflow.cli("dags", "unpause", dag_id)
            started = time.monotonic()
            airflow.cli("dags", "trigger", dag_id)
            wait_for(lambda dag_id=dag_id: dag_run_state(airflow.db, dag_id) in ("success", "failed"), 4 * 3600,
                     f"{dag_id} did not end")
            result[f"{mode}_wall_s"] = round(time.monotonic() - started, 1)
            result[f"{mode}_state"] = dag_run_state(airflow.db, dag_id)
            print(json.dumps(result), file=sys.stderr, flush=True)
        result["speedup_x"] = round(result["blocking_wall_s"] / result["deferrable_wall_s"], 1)
        result["ideal_blocking_s"] = round(args.runs * args.seconds / args.slots, 1)
    finally:
        if airflow is not None:
            airflow.stop()
        stop(emulator)
    OUT.mkdir(exist_ok=True)
    (OUT / "deferral.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
