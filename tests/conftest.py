"""Shared fixtures: a real Civis emulator on 127.0.0.1 and an Airflow connection pointing at it."""

from __future__ import annotations

import json
import os

import pytest

os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

API_KEY = "pytest-civis-key-7f3a9c"

# Every emulator response in the suite is checked against the official API spec (issue 9).
pytest_plugins = ["tests.contract_plugin"]


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """One in-process emulator (uvicorn in a thread) for the session; tests create their own objects."""
    from airflow_civis.emulator.server import EmulatorServer

    server = EmulatorServer(api_key=API_KEY, data_dir=str(tmp_path_factory.mktemp("emulator")))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def civis_conn(emulator, monkeypatch):
    """``civis_default`` aimed at the session emulator, as a DAG author would define it (env var)."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_CIVIS_DEFAULT",
        json.dumps({"conn_type": "civis", "host": emulator.base_url, "password": API_KEY}),
    )
    return emulator
