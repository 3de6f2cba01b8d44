"""The ``civis-emulator`` command in a subprocess, and the in-process server's basics."""

from __future__ import annotations

import requests

from civis_emulator.process import start_emulator_process, stop_emulator_process
from civis_emulator.server import EmulatorServer
from tests.integration.emulator.emu_integration_helpers import KEY

AUTH = {"Authorization": f"Bearer {KEY}"}


def test_server_binds_loopback_free_port_and_requires_key():
    with EmulatorServer(api_key=KEY) as s:
        assert s.base_url.startswith("http://127.0.0.1:") and s.port > 0
        assert requests.get(s.base_url + "/users/me", timeout=10).status_code == 401
        assert requests.get(s.base_url + "/users/me", headers=AUTH, timeout=10).status_code == 200
        stats = requests.get(s.base_url + "/_emulator/stats", headers=AUTH, timeout=10).json()
        assert stats["total_requests"] == 2
    assert s._thread is None


def test_process_restart_keeps_state(tmp_path):
    proc, url = start_emulator_process(KEY, str(tmp_path))
    try:
        assert url.startswith("http://127.0.0.1:")
        r = requests.post(url + "/json_values", json={"name": "kept", "valueStr": '"yes"'}, headers=AUTH, timeout=10)
        assert r.status_code == 201
        value_id = r.json()["id"]
        assert requests.get(url + "/users/me", timeout=10).status_code == 401
    finally:
        assert stop_emulator_process(proc) == 0
    proc, url = start_emulator_process(KEY, str(tmp_path))
    try:
        assert requests.get(f"{url}/json_values/{value_id}", headers=AUTH, timeout=10).json()["value"] == "yes"
    finally:
        stop_emulator_process(proc)
    assert proc.poll() is not None


def test_a_taken_port_gets_a_clear_error_not_a_traceback(capsys):
    from civis_emulator.cli import main

    with EmulatorServer(api_key=KEY) as s:
        try:
            main(["--port", str(s.port), "--api-key", KEY])
        except SystemExit as exit_:
            assert exit_.code == 2
        else:
            raise AssertionError("a second emulator on a taken port must not start")
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{s.port}" in err and "another --port" in err
    assert "Traceback" not in err
