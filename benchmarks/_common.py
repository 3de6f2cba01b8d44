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
import sys
import threading
from pathlib import Path

API_KEY = "benchmark-civis-key-5d1e"
OUT = Path(__file__).resolve().parent / "out"
CONTAINER = {"dockerImageName": "x", "requiredResources": {"cpu": 100, "memory": 100, "diskSpace": 1}}


def serve(port: int, workers: int, pessimistic: bool = False) -> None:  # runs in the emulator subprocess
    import uvicorn

    from civis_emulator.server import READY_PREFIX, bind_socket, build_app, uvicorn_config

    app = build_app(API_KEY, max_run_workers=workers, pessimistic=pessimistic)
    sock = bind_socket(port)
    print(f"{READY_PREFIX}http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn_config(app)).run(sockets=[sock])


def start_emulator(workers: int, pessimistic: bool = False) -> tuple[subprocess.Popen, str]:
    """``pessimistic``: the emulator sets a job's lastRunUpdatedAt only when a run is created."""
    here = str(Path(__file__).parent)
    code = f"import sys; sys.path.insert(0, {here!r}); import _common; _common.serve(0, {workers}, {pessimistic!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, start_new_session=True)
    line = proc.stdout.readline()
    if "ready at " not in line:
        proc.kill()
        raise RuntimeError(f"emulator did not start: {line!r}")
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep draining
    return proc, line.split("ready at ", 1)[1].strip()


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
