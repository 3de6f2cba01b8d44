"""State survives a restart when a data directory is given; in-flight runs come back failed."""

from __future__ import annotations

from fastapi.testclient import TestClient

from civis_emulator.app import create_app
from tests.unit.emulator.emu_unit_helpers import AUTH, KEY, assert_no_contract_violations, wait_run

RESOURCES = {"cpu": 256, "memory": 512}


def test_restart_keeps_jobs_runs_logs_and_fails_in_flight_runs(tmp_path):
    app = create_app(KEY, str(tmp_path))
    with TestClient(app, headers=AUTH) as c:
        done_script = c.post("/scripts/containers", json={
            "name": "done", "dockerCommand": "civis-emulator:sleep 0", "requiredResources": RESOURCES}).json()
        done_run = c.post(f"/scripts/containers/{done_script['id']}/runs").json()
        wait_run(c, f"/scripts/containers/{done_script['id']}/runs/{done_run['id']}")
        busy = c.post("/scripts/containers", json={
            "name": "busy", "dockerCommand": "civis-emulator:sleep 600", "requiredResources": RESOURCES}).json()
        busy_run = c.post(f"/scripts/containers/{busy['id']}/runs").json()
        wait_run(c, f"/scripts/containers/{busy['id']}/runs/{busy_run['id']}", states=("running",))
        jv = c.post("/json_values", json={"name": "kept", "valueStr": "[1]"}).json()
        cred = c.post("/credentials", json={"type": "Custom", "username": "u", "password": "p"}).json()
    assert_no_contract_violations(app)
    app.state.emulator.close()

    app2 = create_app(KEY, str(tmp_path))
    with TestClient(app2, headers=AUTH) as c:
        assert c.get(f"/scripts/containers/{done_script['id']}").json()["name"] == "done"
        kept = c.get(f"/scripts/containers/{done_script['id']}/runs/{done_run['id']}").json()
        assert kept["state"] == "succeeded"
        logs = c.get(f"/jobs/{done_script['id']}/runs/{done_run['id']}/logs").json()
        assert logs and "simulated run" in logs[0]["message"]
        restarted = c.get(f"/scripts/containers/{busy['id']}/runs/{busy_run['id']}").json()
        assert restarted["state"] == "failed" and restarted["error"] == "emulator restarted"
        assert restarted["finishedAt"] is not None
        assert c.get(f"/jobs/{busy['id']}").json()["state"] == "failed"
        assert c.get(f"/json_values/{jv['id']}").json()["value"] == [1]
        assert c.get(f"/credentials/{cred['id']}").json()["username"] == "u"
        assert c.get("/jobs", params={"state": "running"}).json() == []
        new = c.post("/json_values", json={"valueStr": "2"}).json()
        assert new["id"] > jv["id"]
        rerun = c.post(f"/scripts/containers/{done_script['id']}/runs").json()
        assert rerun["id"] > busy_run["id"]
    assert_no_contract_violations(app2)
    app2.state.emulator.close()


def test_without_data_dir_state_is_in_memory(tmp_path):
    app = create_app(KEY)
    with TestClient(app, headers=AUTH) as c:
        c.post("/json_values", json={"valueStr": "1"})
    app.state.emulator.close()
    app2 = create_app(KEY)
    with TestClient(app2, headers=AUTH) as c:
        assert c.get("/json_values/1").status_code == 404
    app2.state.emulator.close()
    assert list(tmp_path.iterdir()) == []
