"""A whole local Airflow (api-server, scheduler, dag-processor, triggerer) in its own AIRFLOW_HOME.

For what ``airflow dags test`` cannot show: deferral across real processes, asset watchers in a real
triggerer, schedules. SQLite and LocalExecutor; every process in its own session so that ``stop()``
ends it and its children. Shared by the benchmarks and the slow end-to-end tests.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from airflow_civis.testing.dagrun import airflow_env

SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 1.0) -> Any:
    """Poll ``check`` until it returns something truthy (returned), or raise TimeoutError(what)."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(interval)
    return result


def query(db: Path, sql: str, *args: Any) -> list[tuple]:
    """Read the metadata database without locking it; [] while it is being written or not there yet."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            return con.execute(sql, args).fetchall()
    except sqlite3.Error:
        return []


def dag_run_state(db: Path, dag_id: str) -> str | None:
    rows = query(db, "SELECT state FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", dag_id)
    return rows[0][0] if rows else None


class AirflowServices:
    """``start()`` the four services, ``cli(...)`` for commands, ``stop()`` (also on ``with`` exit)."""

    def __init__(self, work: Path, dags: Path, env: dict[str, str], slots: int = 4,
                 jwt_secret: str = "civis-local-jwt-secret-0123456789abcdef") -> None:
        self.work = Path(work)
        self.port = free_port()
        self.db = self.work / "home" / "airflow.db"
        self.env = airflow_env(self.work / "home", dags, {
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(slots),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API_AUTH__JWT_SECRET": jwt_secret,
            "AIRFLOW__CORE__DAG_FILE_PROCESSOR_TIMEOUT": "120",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            # one key for every service: without it each one starting in a fresh AIRFLOW_HOME may write
            # (or read half-written) airflow.cfg with its own, and the triggerer cannot decrypt the
            # trigger kwargs the dag-processor stored (json.decoder.JSONDecodeError in _decrypt_kwargs)
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            # the services start together and the api-server is the slowest to answer: its clients (the
            # triggerer's asset state store, the tasks) retry every 1-2 s instead of backing off to 90 s
            "AIRFLOW__WORKERS__EXECUTION_API_RETRY_WAIT_MAX": "2",
            "AIRFLOW__WORKERS__EXECUTION_API_RETRIES": "30",
            **env,
        })
        self.airflow = str(Path(sys.executable).with_name("airflow"))
        self.procs: dict[str, subprocess.Popen] = {}
        self.log_path = self.work / "airflow.log"
        self._log: Any = None

    def start(self, *services: str) -> AirflowServices:
        self._log = self._log or open(self.log_path, "a")
        for name in services or SERVICES:
            cmd = [name, "--port", str(self.port)] if name == "api-server" else [name]
            self.procs[name] = subprocess.Popen([self.airflow, *cmd], env=self.env, stdout=self._log,
                                                stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([self.airflow, *args], env=self.env, check=True, capture_output=True, text=True)

    def wait_parsed(self, dag_ids: list[str], timeout: float = 300) -> None:
        marks = ",".join("?" * len(dag_ids))
        wait_for(lambda: query(self.db, f"SELECT count(*) FROM dag WHERE dag_id IN ({marks})", *dag_ids)
                 == [(len(dag_ids),)], timeout, f"the DAG files were not parsed ({self.log_path})")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
        proc.wait()

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> AirflowServices:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
