"""Shared fixtures: a real Civis emulator on 127.0.0.1 and an Airflow connection pointing at it."""

from __future__ import annotations

import json
import os

import pytest

os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

API_KEY = "pytest-civis-key-7f3a9c"

# Every emulator response in the suite is checked against the official API spec (issue 9).
pytest_plugins = ["tests.contract_plugin"]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "pessimistic: civis_conn uses an emulator that sets lastRunUpdatedAt only at run creation")


def _session_emulator(tmp_path_factory, pessimistic: bool):
    from civis_emulator.server import EmulatorServer

    name = "emulator-pessimistic" if pessimistic else "emulator"
    server = EmulatorServer(api_key=API_KEY, data_dir=str(tmp_path_factory.mktemp(name)), pessimistic=pessimistic)
    return server.start()


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """One in-process emulator (uvicorn in a thread) for the session; tests create their own objects."""
    server = _session_emulator(tmp_path_factory, pessimistic=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pessimistic_emulator(tmp_path_factory):
    """Like ``emulator`` but ``--pessimistic``: a job's lastRunUpdatedAt moves only when a run is created."""
    server = _session_emulator(tmp_path_factory, pessimistic=True)
    yield server
    server.stop()


@pytest.fixture
def civis_conn(request, monkeypatch):
    """``civis_default`` aimed at the session emulator (``@pytest.mark.pessimistic``: the pessimistic one)."""
    name = "pessimistic_emulator" if request.node.get_closest_marker("pessimistic") else "emulator"
    server = request.getfixturevalue(name)
    monkeypatch.setenv(
        "AIRFLOW_CONN_CIVIS_DEFAULT",
        json.dumps({"conn_type": "civis", "host": server.base_url, "password": API_KEY, "extra": {"emulator": True}}),
    )
    return server
