from __future__ import annotations

import json

import pytest
import requests

RELIABILITY_KEY = "reliability-test-key-41d0"


class Emu:
    """A private emulator (faults change its behaviour for everyone using it) with small helpers."""

    def __init__(self, server) -> None:
        self.server = server
        self.base_url = server.base_url

    def call(self, method: str, path: str, **kwargs):
        response = requests.request(method, self.base_url + path, timeout=30,
                                    headers={"Authorization": f"Bearer {RELIABILITY_KEY}"}, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def faults(self, *rules: dict, seed: int = 0) -> None:
        self.call("POST", "/_emulator/faults", json={"seed": seed, "rules": list(rules)})

    def runs_started(self) -> dict[str, int]:
        return self.call("GET", "/_emulator/stats")["runs_started"]


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    from civis_emulator.server import EmulatorServer

    server = EmulatorServer(api_key=RELIABILITY_KEY, data_dir=str(tmp_path_factory.mktemp("emu-reliability")))
    server.start()
    yield Emu(server)
    server.stop()


@pytest.fixture
def conn(emu, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CIVIS_DEFAULT", json.dumps(
        {"conn_type": "civis", "host": emu.base_url, "password": RELIABILITY_KEY, "extra": {"emulator": True}}))
    monkeypatch.setattr("tenacity.nap.time.sleep", lambda s: None)  # every backoff goes through tenacity
    yield emu
    emu.call("DELETE", "/_emulator/faults")
