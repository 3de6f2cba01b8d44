"""Shared by the benchmark scripts: an emulator subprocess sized for thousands of simulated runs, stats.

The emulator runs in its own process (so the watching process's CPU and memory are its own). Its run
pool is sized for the benchmark (``create_app(max_run_workers=...)``, the CLI's ``--max-run-workers``).
Simulated runs (``civis-emulator:sleep S`` as a container script's ``dockerCommand``) hold a thread each
but no process.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from pathlib import Path

from civis_emulator.process import start_emulator_process, stop_emulator_process

API_KEY = "benchmark-civis-key-5d1e"
OUT = Path(__file__).resolve().parent / "out"
CONTAINER = {"dockerImageName": "x", "requiredResources": {"cpu": 100, "memory": 100, "diskSpace": 1}}


def start_emulator(workers: int, pessimistic: bool = False) -> tuple[subprocess.Popen, str]:
    """``civis-emulator`` in its own process with ``workers`` runs at once, in memory; ``pessimistic``: it sets a
    job's lastRunUpdatedAt only when a run is created."""
    return start_emulator_process(API_KEY, max_run_workers=workers, pessimistic=pessimistic)


def stop(proc: subprocess.Popen) -> None:
    stop_emulator_process(proc)


def conn_env(base_url: str, extra: dict | None = None) -> dict[str, str]:
    conn = {"conn_type": "civis", "host": base_url, "password": API_KEY}
    conn["extra"] = json.dumps({"emulator": True, **(extra or {})})
    return {"AIRFLOW_CONN_CIVIS_DEFAULT": json.dumps(conn), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}


def use_connection(base_url: str) -> None:
    os.environ.update(conn_env(base_url))


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[max(0, min(98, round(q) - 1))]
