"""pytest fixtures for testing your own DAGs against the Civis API emulator.

Installed with the package as a ``pytest11`` plugin, so the fixtures are available in any test of a
project that has ``airflow-civis`` and ``civis-emulator`` installed, with no conftest.py. They build on
the emulator's own fixture, ``civis_emulator`` (from ``civis-emulator``'s plugin: a fresh emulator on
127.0.0.1 for one test; mark a test ``@pytest.mark.civis_emulator(pessimistic=True)`` for the pessimistic
reading of ``lastRunUpdatedAt``):

``civis_connection``
    Sets the ``civis_default`` Airflow connection (``AIRFLOW_CONN_CIVIS_DEFAULT``) to that emulator for
    the test, so hooks and operators created in the test talk to it. Returns the connection id.
``civis_dag_test``
    A function ``civis_dag_test(dag_id, dags_folder=...)`` that runs ``airflow dags test`` in a
    temporary AIRFLOW_HOME against that emulator and returns a
    :class:`~airflow_civis.testing.DagTestResult` (``.succeeded``, ``.output``, ``.seconds``).

See docs/testing-your-dags.md. Disable with ``-p no:airflow_civis``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # importing the emulator pulls in FastAPI: only when a test asks for it
    from airflow_civis.testing.dagrun import DagTestResult
    from civis_emulator.server import EmulatorServer

CONN_ID = "civis_default"


@pytest.fixture
def civis_connection(civis_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """``civis_default`` aimed at ``civis_emulator`` for this test; returns the connection id."""
    conn = {"conn_type": "civis", "host": civis_emulator.base_url, "password": civis_emulator.api_key,
            "extra": {"emulator": True}}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))
    return CONN_ID


@pytest.fixture
def civis_dag_test(
    civis_emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., DagTestResult]:
    """Run ``airflow dags test <dag_id>`` (a subprocess, own AIRFLOW_HOME) against ``civis_emulator``."""
    from airflow_civis.testing.dagrun import run_dag_test

    def run(dag_id: str, *, dags_folder: str | Path, **kwargs: Any) -> DagTestResult:
        assert civis_emulator.base_url is not None
        return run_dag_test(
            dag_id,
            dags_folder=dags_folder,
            home=tmp_path_factory.mktemp("airflow-home"),
            base_url=civis_emulator.base_url,
            api_key=civis_emulator.api_key,
            **kwargs,
        )

    return run
