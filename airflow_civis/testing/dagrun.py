"""Run a DAG with ``airflow dags test`` in its own AIRFLOW_HOME, pointed at a Civis API (the emulator).

The metadata database is migrated once and copied for each new home: a migration costs several
seconds, a copy a few milliseconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class DagTestResult:
    returncode: int
    output: str
    seconds: float

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0 and "state=success" in self.output


def civis_connection_env(base_url: str, api_key: str, conn_id: str = "civis_default") -> dict[str, str]:
    """An Airflow connection to the emulator, defined by environment variable (JSON form)."""
    conn = {"conn_type": "civis", "host": base_url, "password": api_key, "extra": {"emulator": True}}
    return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn)}


def _airflow() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def _template_db() -> Path:
    from airflow import __version__

    cache = Path(os.environ.get("AIRFLOW_CIVIS_CACHE", Path(tempfile.gettempdir()) / "airflow-civis-cache"))
    target = cache / f"airflow-{__version__}.db"
    if not target.exists():
        cache.mkdir(parents=True, exist_ok=True)
        home = Path(tempfile.mkdtemp(prefix="airflow-migrate-", dir=cache))
        env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        subprocess.run([_airflow(), "db", "migrate"], env=env, check=True, capture_output=True)
        os.replace(home / "airflow.db", target.with_suffix(".tmp"))
        os.replace(target.with_suffix(".tmp"), target)
        shutil.rmtree(home, ignore_errors=True)
    return target


def airflow_env(home: str | Path, dags_folder: str | Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for an isolated Airflow: its own home and migrated database, no example DAGs."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "airflow.db").exists():
        shutil.copyfile(_template_db(), home / "airflow.db")
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW_CONN_", "AIRFLOW__"))
    }
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def run_dag_test(
    dag_id: str,
    *,
    dags_folder: str | Path,
    home: str | Path,
    base_url: str,
    api_key: str,
    extra_env: dict[str, str] | None = None,
    timeout: float = 600,
) -> DagTestResult:
    """``airflow dags test <dag_id>`` with the ``civis_default`` connection aimed at ``base_url``."""
    env = airflow_env(home, dags_folder, {**civis_connection_env(base_url, api_key), **(extra_env or {})})
    started = time.monotonic()
    proc = subprocess.run(
        [_airflow(), "dags", "test", dag_id],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return DagTestResult(proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started)
