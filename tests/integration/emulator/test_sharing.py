"""Shares, project membership, archive and transfer (routers/sharing.py, routers/projects.py)."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from civis_emulator.app import create_app

KEY = "sharing-key"


@pytest.fixture
def api():
    app = create_app(KEY)
    with TestClient(app, headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client
        report = app.state.contract_report
        assert report.violation_count == 0, report.violations


def _python_script(api) -> int:
    resp = api.post("/scripts/python3", json={"name": "shared", "source": "print(1)"})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def _file(api) -> int:
    resp = api.post("/files", json={"name": "shared.csv"})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def _project(api, name="Project A", **extra) -> dict:
    resp = api.post("/projects", json={"name": name, "description": "d", **extra})
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.mark.parametrize("kind", ["script", "job", "file", "credential", "project"])
def test_shares_round_trip(api, kind):
    if kind in ("script", "job"):
        obj_id = _python_script(api)
        base = f"/scripts/python3/{obj_id}" if kind == "script" else f"/jobs/{obj_id}"
    elif kind == "file":
        base = f"/files/{_file(api)}"
    elif kind == "credential":
        base = "/credentials/1"
    else:
        base = f"/projects/{_project(api)['id']}"

    (index,) = api.get(f"{base}/shares").json()
    assert [u["id"] for u in index["owners"]["users"]] == [1]
    assert index["totalUserShares"] == 1 and index["totalGroupShares"] == 0

    resp = api.put(f"{base}/shares/users", json={"user_ids": [7, 8], "permission_level": "read",
                                                  "send_shared_email": False})
    assert resp.status_code == 200, resp.text
    assert [u["id"] for u in resp.json()["readers"]["users"]] == [7, 8]
    resp = api.put(f"{base}/shares/groups", json={"groupIds": [1], "permissionLevel": "write"})
    assert resp.json()["writers"]["groups"] == [{"id": 1, "name": "Emulator Group"}]
    assert resp.json()["totalUserShares"] == 3 and resp.json()["totalGroupShares"] == 1

    assert api.delete(f"{base}/shares/users/7").status_code == 204
    assert api.delete(f"{base}/shares/groups/1").status_code == 204
    (index,) = api.get(f"{base}/shares").json()
    assert [u["id"] for u in index["readers"]["users"]] == [8]
    assert index["writers"]["groups"] == []
    assert api.delete(f"{base}/shares/users/7").status_code == 404
    assert api.delete(f"{base}/shares/users/1").status_code == 400  # the only owner


def test_a_scripts_shares_are_its_jobs_shares(api):
    sid = _python_script(api)
    api.put(f"/scripts/python3/{sid}/shares/users", json={"user_ids": [5], "permission_level": "write"})
    (index,) = api.get(f"/jobs/{sid}/shares").json()
    assert [u["id"] for u in index["writers"]["users"]] == [5]


def test_missing_objects_and_bad_bodies(api):
    for path in ("/scripts/python3/999/shares", "/files/999/shares", "/jobs/999/projects", "/projects/999",
                 "/projects/999/shares", "/tables/999/projects"):
        resp = api.get(path)
        assert resp.status_code == 404, path
        assert resp.json()["error"] == "not_found"
    sid = _python_script(api)
    assert api.get(f"/scripts/sql/{sid}/shares").status_code == 404  # a python script is not a sql one
    resp = api.put(f"/scripts/python3/{sid}/shares/users", json={"user_ids": [2], "permission_level": "own"})
    assert resp.status_code == 400
    assert api.put(f"/scripts/python3/{sid}/projects/999").status_code == 404


def test_projects_crud_and_membership(api):
    project = _project(api, note="n")
    pid = project["id"]
    assert project["scripts"] == [] and project["archived"] is False and project["note"] == "n"
    sid, fid = _python_script(api), _file(api)

    assert api.put(f"/scripts/python3/{sid}/projects/{pid}").status_code == 204
    assert api.put(f"/scripts/python3/{sid}/projects/{pid}").status_code == 204  # idempotent
    assert api.put(f"/files/{fid}/projects/{pid}").status_code == 204

    got = api.get(f"/projects/{pid}").json()
    assert [s["id"] for s in got["scripts"]] == [sid]
    assert got["scripts"][0]["type"] == "JobTypes::PythonDocker"
    assert [f["id"] for f in got["files"]] == [fid] and got["files"][0]["fileName"] == "shared.csv"
    assert {(o["objectId"], o["fcoType"]) for o in got["allObjects"]} == {(sid, "scripts/python3"), (fid, "files")}
    assert [p["id"] for p in api.get(f"/scripts/python3/{sid}/projects").json()] == [pid]
    assert [p["id"] for p in api.get(f"/jobs/{sid}/projects").json()] == [pid]  # same object
    assert api.get(f"/scripts/python3/{sid}").json()["projects"] == [{"id": pid, "name": "Project A"}]

    assert api.delete(f"/scripts/python3/{sid}/projects/{pid}").status_code == 204
    assert api.get(f"/scripts/python3/{sid}/projects").json() == []
    assert api.get(f"/projects/{pid}").json()["scripts"] == []

    resp = api.put(f"/projects/{pid}", json={"name": "Renamed"})
    assert resp.status_code == 200 and resp.json()["name"] == "Renamed"
    assert api.put(f"/projects/{pid}/auto_share", json={"auto_share": True}).json()["autoShare"] is True


def test_projects_list_filters_and_archive(api):
    a, b = _project(api, "A")["id"], _project(api, "B")["id"]
    hidden = _project(api, "H", hidden=True)["id"]
    assert {p["id"] for p in api.get("/projects").json()} == {a, b}
    assert {p["id"] for p in api.get("/projects", params={"hidden": "true"}).json()} == {hidden}

    resp = api.put(f"/projects/{a}/archive", json={"status": True})
    assert resp.status_code == 200 and resp.json()["archived"] is True
    assert [p["id"] for p in api.get("/projects").json()] == [b]
    assert [p["id"] for p in api.get("/projects", params={"archived": "true"}).json()] == [a]
    assert len(api.get("/projects", params={"archived": "all"}).json()) == 2
    assert api.delete(f"/projects/{b}").status_code == 204  # deprecated: archives
    assert api.get(f"/projects/{b}").json()["archived"] is True


def test_parent_projects(api):
    parent, child = _project(api, "Parent")["id"], _project(api, "Child")["id"]
    assert api.put(f"/projects/{child}/parent_projects/{parent}").status_code == 204
    assert [p["id"] for p in api.get(f"/projects/{child}/parent_projects").json()] == [parent]
    assert [p["id"] for p in api.get(f"/projects/{parent}").json()["projects"]] == [child]
    assert api.get(f"/projects/{child}").json()["parentProject"]["id"] == parent
    assert api.delete(f"/projects/{child}/parent_projects/{parent}").status_code == 204
    assert api.get(f"/projects/{child}/parent_projects").json() == []


def test_tables_in_projects_by_id_and_by_name(api):
    app_state = api.app.state.emulator
    app_state.warehouse.query("CREATE TABLE public.shared_t (a INTEGER)")
    app_state.warehouse.query("INSERT INTO public.shared_t VALUES (1)")
    table_id = app_state.warehouse.table_id("public", "shared_t")
    pid = _project(api)["id"]
    named = "/databases/1/schemas/public/tables/shared_t/projects"
    assert api.put(f"{named}/{pid}").status_code == 204
    assert [p["id"] for p in api.get(f"/tables/{table_id}/projects").json()] == [pid]
    tables = api.get(f"/projects/{pid}").json()["tables"]
    assert [(t["schema"], t["name"]) for t in tables] == [("public", "shared_t")]
    assert api.delete(f"/tables/{table_id}/projects/{pid}").status_code == 204
    assert api.get(named).json() == []
    assert api.get("/databases/1/schemas/public/tables/nope/projects").status_code == 404


def test_archive_scripts_and_jobs(api):
    sid = _python_script(api)
    resp = api.put(f"/scripts/python3/{sid}/archive", json={"status": True})
    assert resp.status_code == 200, resp.text
    assert resp.json()["archived"] is True and resp.json()["source"] == "print(1)"
    assert sid not in [s["id"] for s in api.get("/scripts").json()]
    assert sid in [s["id"] for s in api.get("/scripts", params={"archived": "true"}).json()]
    assert sid in [j["id"] for j in api.get("/jobs", params={"archived": "true"}).json()]
    resp = api.put(f"/jobs/{sid}/archive", json={"status": False})
    assert resp.status_code == 200 and resp.json()["archived"] is False
    assert api.put("/scripts/python3/999/archive", json={"status": True}).status_code == 404


def test_transfer_and_dependencies(api):
    sid = _python_script(api)
    resp = api.put(f"/scripts/python3/{sid}/transfer", json={"user_id": 42, "include_dependencies": True})
    assert resp.status_code == 200 and resp.json() == {"dependencies": []}
    (index,) = api.get(f"/scripts/python3/{sid}/shares").json()
    assert [u["id"] for u in index["owners"]["users"]] == [42]
    assert [u["id"] for u in index["writers"]["users"]] == [1]
    assert api.get(f"/scripts/python3/{sid}/dependencies").json() == []


def test_official_client(emulator, monkeypatch):
    import civis

    from tests.conftest import API_KEY

    monkeypatch.setenv("CIVIS_API_KEY", API_KEY)
    monkeypatch.setenv("CIVIS_API_ENDPOINT", emulator.base_url + "/")
    client = civis.APIClient(force_refresh_api_spec=True)
    script = client.scripts.post_python3(name=f"shared-{uuid.uuid4().hex[:6]}", source="print(1)")
    index = client.scripts.put_python3_shares_users(script.id, [11], "write", send_shared_email=False)
    assert [u.id for u in index.writers.users] == [11]
    project = client.projects.post(name="Official", description="via civis.APIClient")
    client.scripts.put_python3_projects(script.id, project.id)
    assert [s.id for s in client.projects.get(project.id).scripts] == [script.id]
    assert [p.id for p in client.scripts.list_python3_projects(script.id)] == [project.id]
    archived = client.scripts.put_python3_archive(script.id, True)
    assert archived.archived is True
