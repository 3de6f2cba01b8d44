"""`make demo`: start the bundled Civis emulator, run the example DAGs in real Airflow, show what happened.

Exits non-zero if any DAG run fails. Everything it starts is stopped before it returns.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_DAGS = ["civis_quickstart", "civis_data_movement", "civis_pipeline", "civis_workflow", "civis_remote_python"]


def show_runs(base_url: str, api_key: str) -> None:
    """Print every job the DAGs started, its runs' final states and their log lines, via CivisHook."""
    os.environ["AIRFLOW_CONN_CIVIS_DEMO"] = json.dumps(
        {"conn_type": "civis", "host": base_url, "password": api_key, "extra": {"emulator": True}}
    )
    from airflow_civis.hooks.civis import CivisHook
    from airflow_civis.runs import RunRef

    hook = CivisHook("civis_demo")
    for job in sorted(hook.paginate("/jobs", {"order_dir": "asc"}), key=lambda job: job["id"]):
        print(f"\n  job {job['id']}  {job.get('type')}  {job.get('name')!r}")
        for run in hook.call("GET", f"/jobs/{job['id']}/runs") or []:
            ref = RunRef("job", job["id"], run["id"])
            print(f"    run {run['id']}: {run['state']}" + (f"  error: {run['error']}" if run.get("error") else ""))
            for line in hook.get_run_logs(ref):
                print(f"      | {line.get('message')}")


def summarise_dag_run(line: str) -> str:
    """``DagRun Finished: dag_id=..., state=success, run_duration=25.5``: the fields a reader looks for."""
    fields = dict(re.findall(r"(dag_id|state|run_duration)=([^,\s]+)", line))
    return "DagRun Finished: " + ", ".join(f"{k}={v}" for k, v in fields.items())


def main() -> int:
    from airflow_civis.testing import run_dag_test
    from civis_emulator.process import start_emulator_process, stop_emulator_process

    api_key = "demo-" + secrets.token_hex(8)
    with tempfile.TemporaryDirectory(prefix="civis-demo-") as tmp:
        proc, base_url = start_emulator_process(api_key, data_dir=str(Path(tmp) / "emulator"))
        print(f"Civis emulator running at {base_url}")
        failed = []
        try:
            for dag_id in DEMO_DAGS:
                print(f"\n=== airflow dags test {dag_id}")
                result = run_dag_test(
                    dag_id, dags_folder=ROOT / "example_dags", home=Path(tmp) / "airflow",
                    base_url=base_url, api_key=api_key,
                )
                for line in result.output.splitlines():
                    if "DagRun Finished" in line:  # a long line; its state is near the end
                        print("  " + summarise_dag_run(line))
                    elif "[DAG TEST]" in line or "[civis " in line or "ERROR" in line:
                        print("  " + line.strip()[:300])
                status = "succeeded" if result.succeeded else f"FAILED (exit {result.returncode})"
                print(f"=== {dag_id}: {status} in {result.seconds:.1f}s")
                if not result.succeeded:
                    failed.append(dag_id)
                    print(result.output[-4000:])
            print("\nWhat the emulator ran:")
            show_runs(base_url, api_key)
        finally:
            stop_emulator_process(proc)
        print("\nEmulator stopped.")
    if failed:
        print(f"Demo failed: {', '.join(failed)}")
        return 1
    print(f"Demo finished: {', '.join(DEMO_DAGS)} succeeded.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
