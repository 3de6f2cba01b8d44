"""Run example DAGs N times under injected faults; print runs, faults, retries, duplicates, successes.

One emulator process (with a data directory) serves every run; its fault rules
(:func:`civis_emulator.faults.standard_profile`) answer ``--error-rate`` of the provider's API
calls with 429 (Retry-After 1 s) / 500 / 502 / 503 / 504 and drop ``--drop-rate`` of them, half before
and half after the request took effect. Each DAG runs with ``airflow dags test`` in its own
AIRFLOW_HOME (deferrable tasks: the triggerer runs in the same process). Reported:

* ``faults_injected``: by kind, from ``GET /_emulator/faults``;
* ``retries``: hook retries (task log lines "Retrying Civis API call"), harmless creates repeated after an
  ambiguous failure, run starts reconciled after an ambiguous failure ("Reconciling Civis run start"),
  starts done over after an ambiguous create ("Retrying Civis run start"), presigned-URL transfers
  retried, and Airflow task retries ("UP_FOR_RETRY"; tasks get ``--task-retries``, default 0);
* ``duplicates``: extra runs per job (``runs_started`` of ``GET /_emulator/stats`` minus one);
* ``succeeded`` out of ``runs``. The last line is one JSON object.

    .venv/bin/python benchmarks/reliability.py [--runs 20] [--dag civis_quickstart] [--error-rate 0.2]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "reliability-civis-key-3b8f17"
PATTERNS = {  # log lines of the one retry policy (airflow_civis/hooks/_retry.py) and of Airflow
    "hook_retries": r"Retrying Civis API call",
    "harmless_create_repeats": r"Retrying POST \S+ \(a duplicate is harmless\)",
    "start_reconciliations": r"Reconciling Civis run start",
    "start_restarts": r"Retrying Civis run start",
    "file_transfer_retries": r"Retrying (upload|download|part \d+) ",
    "airflow_task_retries": r"UP_FOR_RETRY",
}


def api(base_url: str, method: str, path: str, **kwargs):
    response = requests.request(method, base_url + path, headers={"Authorization": f"Bearer {API_KEY}"},
                                timeout=30, **kwargs)
    response.raise_for_status()
    return response.json()


def count_lines(output: str) -> Counter:
    found: Counter = Counter()
    for line in output.splitlines():
        for name, pattern in PATTERNS.items():
            if re.search(pattern, line):
                found[name] += 1
    return found


def run_scenario(runs: int, dags: list[str], error_rate: float, drop_rate: float, seed: int,
                 work: Path, dags_folder: Path = ROOT / "example_dags", verbose: bool = True,
                 task_retries: int = 0) -> dict:
    from airflow_civis.testing import run_dag_test
    from civis_emulator.faults import standard_profile
    from civis_emulator.process import start_emulator_process, stop_emulator_process

    # Airflow task retries off by default: the provider's own retries must carry every run on their own.
    retries_env = {"AIRFLOW__CORE__DEFAULT_TASK_RETRIES": str(task_retries)}
    proc, base_url = start_emulator_process(API_KEY, data_dir=str(work / "emulator"))
    retries: Counter = Counter()
    succeeded, failures, seconds = 0, [], []
    try:
        api(base_url, "POST", "/_emulator/faults", json=standard_profile(error_rate, drop_rate, seed=seed))
        for i in range(runs):
            for dag_id in dags:
                result = run_dag_test(dag_id, dags_folder=dags_folder, home=work / f"home-{dag_id}-{i}",
                                      base_url=base_url, api_key=API_KEY, extra_env=retries_env)
                retries += count_lines(result.output)
                seconds.append(result.seconds)
                succeeded += result.succeeded
                if not result.succeeded:
                    failures.append({"dag": dag_id, "run": i, "tail": result.output[-1500:]})
                    log = Path(__file__).resolve().parent / "out" / f"reliability-failure-{dag_id}-{i}.log"
                    log.parent.mkdir(exist_ok=True)
                    log.write_text(result.output)  # the whole airflow dags test output, to read the cause
                if verbose:
                    print(f"run {i + 1}/{runs} {dag_id}: {'success' if result.succeeded else 'FAILED'} "
                          f"in {result.seconds:.1f}s", flush=True)
        faults = api(base_url, "GET", "/_emulator/faults")
        api(base_url, "DELETE", "/_emulator/faults")
        stats = api(base_url, "GET", "/_emulator/stats")
    finally:
        stop_emulator_process(proc)
    started = stats["runs_started"]
    return {
        "benchmark": "reliability", "dags": dags, "runs": runs * len(dags), "succeeded": succeeded,
        "error_rate": error_rate, "drop_rate": drop_rate, "seed": seed, "task_retries": task_retries,
        "api_requests": stats["total_requests"], "faults_injected": faults["injected"],
        "faults_injected_total": faults["total_injected"], "retries": dict(retries),
        "civis_runs_started": sum(started.values()), "jobs_run": len(started),
        "duplicates": sum(n - 1 for n in started.values() if n > 1),
        "mean_dag_seconds": round(sum(seconds) / max(1, len(seconds)), 1), "failures": failures[:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--dag", action="append", help="DAG id in example_dags (repeatable)")
    parser.add_argument("--error-rate", type=float, default=0.2)
    parser.add_argument("--drop-rate", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--task-retries", type=int, default=0,
                        help="Airflow task retries for tasks that set none (default 0: only the provider retries)")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="civis-reliability-") as work:
        result = run_scenario(args.runs, args.dag or ["civis_quickstart"], args.error_rate, args.drop_rate,
                              args.seed, Path(work), task_retries=args.task_retries)
    result["wall_seconds"] = round(time.monotonic() - started, 1)
    print(f"runs: {result['runs']}, succeeded: {result['succeeded']}")
    print(f"faults injected: {result['faults_injected_total']} {result['faults_injected']}"
          f" over {result['api_requests']} API requests")
    print(f"retries made: {result['retries']}")
    print(f"Civis runs started: {result['civis_runs_started']} for {result['jobs_run']} jobs; "
          f"duplicates found: {result['duplicates']}")
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "reliability.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result))
    sys.exit(0 if result["succeeded"] == result["runs"] and result["duplicates"] == 0 else 1)


if __name__ == "__main__":
    main()
