"""Each example DAG runs once per test session: ``dag_run(dag_id)`` runs it on first use (``airflow dags
test`` against one emulator process) and hands every later caller the same outcome, so the end-to-end
checks and the secrets scan look at one run instead of starting their own.

The emulator is keyed with a distinctive API key and keeps its own output, so the scan can look for the
key everywhere. ``civis_quickstart`` and ``civis_failing`` run with injected API faults (retries and error
messages then reach the logs that are scanned); the other DAGs run without faults.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from airflow_civis.testing import run_dag_test
from airflow_civis.testing.dagrun import DagTestResult
from civis_emulator.process import start_emulator_process, stop_emulator_process

ROOT = Path(__file__).resolve().parents[2]
SECRET = "zz-SECRET-civis-key-8d41c2f07b-zz"
FOLDERS = {"civis_failing": ROOT / "tests" / "dags"}  # every other DAG is one of example_dags/
UNDER_FAULTS = {"civis_quickstart", "civis_failing"}


@dataclass
class DagRun:
    result: DagTestResult
    home: Path  # the run's AIRFLOW_HOME (logs, metadata database)
    runs_started: dict[str, int]  # Civis runs started during this DAG run, per job
    faults_injected: int  # API faults the emulator injected during it


@dataclass
class ExamplesEmulator:
    base_url: str
    output: list[str] = field(default_factory=list)  # the emulator process's stdout and stderr so far

    def call(self, method: str, path: str, **kwargs):
        response = requests.request(method, self.base_url + path, timeout=10,
                                    headers={"Authorization": f"Bearer {SECRET}"}, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None


@pytest.fixture(scope="session")
def examples_emulator(tmp_path_factory):
    """The emulator as a process, as ``make demo`` runs it, with its output kept (for the secrets scan)."""
    lines: list[str] = []
    proc, base_url = start_emulator_process(SECRET, data_dir=str(tmp_path_factory.mktemp("emu-examples")),
                                            output=lines)
    try:
        yield ExamplesEmulator(base_url, lines)
        from tests.contract_plugin import collect_contract_report

        collect_contract_report(base_url, SECRET)
    finally:
        stop_emulator_process(proc)


@pytest.fixture(scope="session")
def dag_run(examples_emulator, tmp_path_factory) -> Callable[[str], DagRun]:
    """``dag_run(dag_id)``: the session's one run of that DAG (run now if nobody asked before)."""
    from civis_emulator.faults import standard_profile

    done: dict[str, DagRun] = {}

    def get(dag_id: str) -> DagRun:
        if dag_id not in done:
            home = tmp_path_factory.mktemp(dag_id)
            faults = dag_id in UNDER_FAULTS
            before = examples_emulator.call("GET", "/_emulator/stats")["runs_started"]
            injected = 0
            if faults:
                examples_emulator.call("POST", "/_emulator/faults", json=standard_profile(0.2, 0.02, seed=5))
            try:
                result = run_dag_test(dag_id, dags_folder=FOLDERS.get(dag_id, ROOT / "example_dags"), home=home,
                                      base_url=examples_emulator.base_url, api_key=SECRET,
                                      extra_env={"TMPDIR": str(home)})
            finally:
                if faults:
                    injected = examples_emulator.call("GET", "/_emulator/faults")["total_injected"]
                    examples_emulator.call("DELETE", "/_emulator/faults")
            after = examples_emulator.call("GET", "/_emulator/stats")["runs_started"]
            started = {job: n - before.get(job, 0) for job, n in after.items() if n != before.get(job, 0)}
            done[dag_id] = DagRun(result, home, started, injected)
        return done[dag_id]

    return get
