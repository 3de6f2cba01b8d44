"""Scripts, templates, jobs and runs through the routes (simulated runs: no subprocess)."""

from __future__ import annotations

import threading

import pytest

from civis_emulator.runs import RunFailed, register_runner
from tests.unit.emulator.emu_unit_helpers import wait_for, wait_run

RESOURCES = {"cpu": 256, "memory": 512}


def _container(client, command: str, **extra) -> dict:
    r = client.post("/scripts/containers", json={"name": "c", "dockerCommand": command,
                                                  "requiredResources": RESOURCES, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_create_get_patch_python3_script(client):
    r = client.post("/scripts/python3", json={
        "name": "py", "source": "print(1)", "params": [{"name": "n", "type": "integer"}], "arguments": {"n": 2}})
    assert r.status_code == 201
    script = r.json()
    assert script["type"] == "Python" and script["state"] == "idle" and script["lastRun"] is None
    assert script["params"][0]["required"] is False and script["arguments"] == {"n": 2}
    assert script["links"]["runs"].endswith(f"/scripts/python3/{script['id']}/runs")
    got = client.get(f"/scripts/python3/{script['id']}").json()
    assert got == script
    patched = client.patch(f"/scripts/python3/{script['id']}", json={"name": "renamed"}).json()
    assert patched["name"] == "renamed" and patched["source"] == "print(1)"
    assert client.get(f"/scripts/containers/{script['id']}").status_code == 404
    assert client.get("/scripts/python3/999").status_code == 404
    job = client.get(f"/jobs/{script['id']}").json()
    assert job["type"] == "JobTypes::PythonDocker" and job["name"] == "renamed"


def test_snake_case_bodies_are_accepted(client):
    r = client.post("/scripts/containers", json={
        "name": "snake", "docker_command": "civis-emulator:sleep 0", "required_resources": RESOURCES,
        "docker_image_name": "img"})
    assert r.status_code == 201, r.text
    assert r.json()["dockerCommand"] == "civis-emulator:sleep 0" and r.json()["dockerImageName"] == "img"


def test_simulated_run_lifecycle_and_conflict(client):
    script = _container(client, "civis-emulator:sleep 0.3")
    sid = script["id"]
    r = client.post(f"/scripts/containers/{sid}/runs")
    assert r.status_code == 202
    run = r.json()
    assert run["containerId"] == sid and run["state"] in ("queued", "running")
    second = client.post(f"/scripts/containers/{sid}/runs")
    assert second.status_code == 409 and second.json()["error"] == "conflict"
    done = wait_run(client, f"/scripts/containers/{sid}/runs/{run['id']}")
    assert done["state"] == "succeeded" and done["startedAt"] and done["finishedAt"] and done["error"] is None
    job = client.get(f"/jobs/{sid}").json()
    assert job["state"] == "succeeded" and job["lastRun"]["id"] == run["id"]
    assert client.get(f"/jobs/{sid}/runs/{run['id']}").json()["state"] == "succeeded"
    logs = client.get(f"/jobs/{sid}/runs/{run['id']}/logs").json()
    assert "simulated run" in logs[0]["message"]
    stats = client.get("/_emulator/stats").json()
    assert stats["runs_started"] == {str(sid): 1}


def test_simulated_failure(client):
    script = _container(client, "civis-emulator:fail 0")
    run = client.post(f"/jobs/{script['id']}/runs").json()
    done = wait_run(client, f"/jobs/{script['id']}/runs/{run['id']}")
    assert done == {**done, "state": "failed", "error": "Simulated failure"}


def test_cancel_simulated_run_and_cancel_finished_is_404(client):
    script = _container(client, "civis-emulator:sleep 60")
    sid = script["id"]
    run = client.post(f"/scripts/containers/{sid}/runs").json()
    wait_run(client, f"/scripts/containers/{sid}/runs/{run['id']}", states=("running",))
    assert client.delete(f"/scripts/containers/{sid}/runs/{run['id']}").status_code == 202
    done = wait_run(client, f"/scripts/containers/{sid}/runs/{run['id']}")
    assert done["state"] == "cancelled" and done["isCancelRequested"] is True
    assert client.delete(f"/scripts/containers/{sid}/runs/{run['id']}").status_code == 404
    assert client.delete(f"/jobs/{sid}/runs/{run['id']}").status_code == 404


def test_post_scripts_cancel(client):
    script = _container(client, "civis-emulator:sleep 60")
    sid = script["id"]
    run = client.post(f"/scripts/containers/{sid}/runs").json()
    r = client.post(f"/scripts/{sid}/cancel")
    assert r.status_code == 202 and r.json()["isCancelRequested"] is True
    assert wait_run(client, f"/scripts/containers/{sid}/runs/{run['id']}")["state"] == "cancelled"
    assert client.post(f"/scripts/{sid}/cancel").status_code == 404


def test_jobs_list_filters_and_pagination_headers(client):
    ids = [_container(client, "civis-emulator:sleep 0")["id"] for _ in range(5)]
    long_running = _container(client, "civis-emulator:sleep 60")["id"]
    run = client.post(f"/jobs/{long_running}/runs").json()
    wait_run(client, f"/jobs/{long_running}/runs/{run['id']}", states=("running",))

    active = client.get("/jobs", params={"state": "queued,running"}).json()
    assert [j["id"] for j in active] == [long_running]
    assert client.get("/jobs", params=[("state[]", "running")]).json()[0]["id"] == long_running
    assert len(client.get("/jobs", params={"type": "JobTypes::ContainerDocker"}).json()) == 6
    assert client.get("/jobs", params={"type": "JobTypes::Import"}).json() == []

    r = client.get("/jobs", params={"limit": 2, "page_num": 2, "order": "updated_at", "order_dir": "asc"})
    assert [j["id"] for j in r.json()] == ids[2:4]
    assert r.headers["X-Pagination-Current-Page"] == "2"
    assert r.headers["X-Pagination-Per-Page"] == "2"
    assert r.headers["X-Pagination-Total-Entries"] == "6"
    assert r.headers["X-Pagination-Total-Pages"] == "3"
    assert client.get("/jobs", params={"limit": 2, "page_num": 9}).json() == []
    assert client.get("/jobs", params={"order": "bogus"}).status_code == 400
    client.delete(f"/jobs/{long_running}/runs/{run['id']}")


def test_generic_scripts_list(client):
    py = client.post("/scripts/python3", json={"name": "p", "source": "pass"}).json()
    c = _container(client, "true")
    listed = client.get("/scripts").json()
    assert {s["id"]: s["type"] for s in listed} == {py["id"]: "Python", c["id"]: "Container"}
    assert [s["id"] for s in client.get("/scripts", params={"type": "python3"}).json()] == [py["id"]]
    r = client.get("/scripts", params={"limit": 500})  # "Maximum allowed is 50": rejected, not clamped
    assert r.status_code == 400 and "'limit'" in r.json()["errorDescription"]
    assert client.get("/scripts", params={"limit": 50}).headers["X-Pagination-Per-Page"] == "50"


def test_logs_order_last_id_and_headers(app, client):
    script = _container(client, "civis-emulator:sleep 0")
    run = client.post(f"/scripts/containers/{script['id']}/runs").json()
    base = f"/scripts/containers/{script['id']}/runs/{run['id']}"
    wait_run(client, base)
    registry = app.state.emulator.registry
    ids = [registry.append_log(run["id"], f"line {i}") for i in range(5)]
    r = client.get(base + "/logs")
    all_ids = [entry["id"] for entry in r.json()]
    assert all_ids == sorted(all_ids, reverse=True)  # newest first without last_id
    assert r.headers["Civis-Max-Id"] == str(ids[-1])
    assert r.headers["Civis-Cache-Control"] != "no-store"  # finished: no more lines will come
    assert [e["id"] for e in client.get(base + "/logs", params={"limit": 2}).json()] == ids[:-3:-1]
    after = client.get(base + "/logs", params={"last_id": ids[1]}).json()
    assert [e["id"] for e in after] == ids[2:]  # oldest first after last_id
    assert client.get(base + "/logs", params={"last_id": ids[1], "limit": 1}).json()[0]["id"] == ids[2]


def test_outputs_post_and_get(client):
    script = _container(client, "civis-emulator:sleep 0")
    sid = script["id"]
    run = client.post(f"/scripts/containers/{sid}/runs").json()
    jv = client.post("/json_values", json={"name": "res", "valueStr": '{"ok": true}'}).json()
    r = client.post(f"/scripts/containers/{sid}/runs/{run['id']}/outputs",
                    json={"objectType": "JSONValue", "objectId": jv["id"]})
    assert r.status_code == 202
    assert r.json()["value"] == {"ok": True} and r.json()["name"] == "res"
    assert r.json()["link"].endswith(f"/json_values/{jv['id']}")
    client.post(f"/scripts/containers/{sid}/runs/{run['id']}/outputs", json={"objectType": "File", "objectId": 7})
    outs = client.get(f"/jobs/{sid}/runs/{run['id']}/outputs").json()
    assert {(o["objectType"], o["objectId"]) for o in outs} == {("JSONValue", jv["id"]), ("File", 7)}
    listed = client.get(f"/scripts/containers/{sid}/runs/{run['id']}/outputs")
    assert listed.headers["X-Pagination-Total-Entries"] == "2"


def test_templates_and_custom_scripts(client):
    backing = _container(client, "civis-emulator:sleep 0", params=[{"name": "x", "type": "string"}])
    r = client.post("/templates/scripts", json={"scriptId": backing["id"], "name": "Tmpl", "note": "n"})
    assert r.status_code == 201
    tmpl = r.json()
    assert tmpl["scriptType"] == "Container" and tmpl["params"][0]["name"] == "x"
    assert client.get(f"/templates/scripts/{tmpl['id']}").json()["name"] == "Tmpl"
    listed = [t["id"] for t in client.get("/templates/scripts").json() if not t["name"].startswith("CivisML ")]
    assert listed == [tmpl["id"]]  # (the emulator also ships the CivisML templates)
    assert client.get(f"/scripts/containers/{backing['id']}").json()["isTemplate"] is True

    r = client.post("/scripts/custom", json={"fromTemplateId": tmpl["id"], "arguments": {"x": "1"}})
    assert r.status_code == 201, r.text
    custom = r.json()
    assert custom["type"] == "Custom" and custom["backingScriptType"] == "Container"
    assert custom["name"] == "Tmpl" and custom["fromTemplateId"] == tmpl["id"]
    listed = client.get("/scripts/custom", params={"from_template_id": tmpl["id"]}).json()
    assert [s["id"] for s in listed] == [custom["id"]]
    run = client.post(f"/scripts/custom/{custom['id']}/runs").json()
    assert run["customId"] == custom["id"]
    done = wait_run(client, f"/scripts/custom/{custom['id']}/runs/{run['id']}")
    assert done["state"] == "succeeded"
    assert client.get(f"/scripts/custom/{custom['id']}").json()["lastSuccessfulRun"]["id"] == run["id"]
    assert client.post("/scripts/custom", json={"fromTemplateId": 999}).status_code == 404


def test_sql_script_can_be_created_and_run(client):
    r = client.post("/scripts/sql", json={"name": "q", "sql": "select 1", "remoteHostId": 1, "credentialId": 1})
    assert r.status_code == 201 and r.json()["type"] == "SQL" and r.json()["sql"] == "select 1"
    r2 = client.post(f"/scripts/sql/{r.json()['id']}/runs")
    assert r2.status_code == 202 and r2.json()["sqlId"] == r.json()["id"]  # runs on the warehouse


@pytest.fixture
def custom_job_type():
    seen = {}
    release = threading.Event()

    def runner(ctx):
        seen["ctx"] = ctx
        ctx.log("working", level="warn")
        if ctx.job.get("shouldFail"):
            raise RunFailed("boom")
        ctx.add_output("Table", 3, "schema.table")
        release.wait(10)

    register_runner("JobTypes::EmulatorTest", runner)
    yield seen, release
    release.set()


def test_runner_registry_plugs_new_job_types_into_jobs_routes(app, client, custom_job_type):
    seen, release = custom_job_type
    registry = app.state.emulator.registry
    job = registry.create_job("JobTypes::EmulatorTest", "tester", {"anything": 1})
    r = client.post(f"/jobs/{job['id']}/runs")
    assert r.status_code == 201
    run = r.json()
    wait_for(lambda: "ctx" in seen)
    assert client.get("/jobs", params={"state": "running"}).json()[0]["id"] == job["id"]
    assert client.post(f"/jobs/{job['id']}/runs").json()["error"] == "already_running"
    release.set()
    done = wait_run(client, f"/jobs/{job['id']}/runs/{run['id']}")
    assert done["state"] == "succeeded"
    ctx = seen["ctx"]
    assert ctx.job["anything"] == 1 and ctx.run_id == run["id"] and ctx.data_dir is None
    assert client.get(f"/jobs/{job['id']}/runs/{run['id']}/logs").json()[0] == {
        **client.get(f"/jobs/{job['id']}/runs/{run['id']}/logs").json()[0], "message": "working", "level": "warn"}
    assert client.get(f"/jobs/{job['id']}/runs/{run['id']}/outputs").json()[0]["name"] == "schema.table"

    failing = registry.create_job("JobTypes::EmulatorTest", "f", {"shouldFail": True})
    run = client.post(f"/jobs/{failing['id']}/runs").json()
    assert wait_run(client, f"/jobs/{failing['id']}/runs/{run['id']}")["error"] == "boom"


def test_job_type_without_runner_is_501(app, client):
    job = app.state.emulator.registry.create_job("JobTypes::Nothing", "n")
    assert client.post(f"/jobs/{job['id']}/runs").status_code == 501
    assert client.get("/jobs/999").status_code == 404


def test_only_loopback_requests_start_runs(app):
    from fastapi.testclient import TestClient

    from tests.unit.emulator.emu_unit_helpers import AUTH

    with TestClient(app, headers=AUTH, client=("10.1.2.3", 5000)) as remote:
        script = _container(remote, "civis-emulator:sleep 0")
        r = remote.post(f"/scripts/containers/{script['id']}/runs")
        assert r.status_code == 403 and r.json()["code"] == 403
        assert remote.get(f"/scripts/containers/{script['id']}/runs").json() == []
