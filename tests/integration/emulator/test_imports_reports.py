"""Generic /imports (syncs copying warehouse tables), legacy /imports/files, /imports/batches,
/reports and the small leftovers (schedules, build cancel, query scripts, posted run logs)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from civis_emulator.app import create_app
from tests.helpers import wait_run

KEY = "imports-key"
HOST = {"remote_host_id": 1, "credential_id": 1}


@pytest.fixture
def app():
    return create_app(KEY)


@pytest.fixture
def api(app):
    with TestClient(app, headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client
        report = app.state.contract_report
        assert report.violation_count == 0, report.violations


def _upload(api, name: str, text: str, upload_url=None, fields=None) -> int:
    file_id = None
    if upload_url is None:
        doc = api.post("/files", json={"name": name}).json()
        file_id, upload_url, fields = doc["id"], doc["uploadUrl"], doc["uploadFields"]
    resp = api.post(urlsplit(upload_url).path, data=fields, files={"file": (name, text.encode())})
    assert resp.status_code in (200, 201, 204), resp.text
    return file_id


def _import(api, sync_type="Dbsync", **extra) -> int:
    resp = api.post("/imports", json={"name": "copy", "sync_type": sync_type, "is_outbound": False,
                                      "source": HOST, "destination": HOST, **extra})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def test_generic_import_copies_a_table(api, app):
    app.state.emulator.warehouse.query(
        "CREATE SCHEMA IF NOT EXISTS src; CREATE TABLE src.people AS SELECT * FROM "
        "(VALUES (1, 'ann'), (2, 'bob')) t(id, name)", preview_rows=0)
    imp = _import(api)
    sync = api.post(f"/imports/{imp}/syncs", json={
        "source": {"databaseTable": {"schema": "src", "table": "people"}},
        "destination": {"databaseTable": {"schema": "dst", "table": "people_copy"}}})
    assert sync.status_code == 201, sync.text
    assert sync.json()["destination"]["path"] == '"dst"."people_copy"'
    doc = api.get(f"/imports/{imp}").json()
    assert [s["id"] for s in doc["syncs"]] == [sync.json()["id"]] and doc["jobType"] == "JobTypes::Import"

    started = api.post(f"/imports/{imp}/runs")
    assert started.status_code == 202, started.text
    run = wait_run(api, f"/jobs/{imp}/runs/{started.json()['runId']}")
    assert run["state"] == "succeeded", run
    result = app.state.emulator.warehouse.query("SELECT id, name FROM dst.people_copy ORDER BY id")
    assert [list(r) for r in result.rows] == [["1", "ann"], ["2", "bob"]] or len(result.rows) == 2
    assert len(api.get(f"/imports/{imp}/runs").json()) == 1
    assert api.get(f"/imports/{imp}/runs/{run['id']}/logs").status_code == 200
    assert any(i["id"] == imp for i in api.get("/imports").json())

    # a second run replaces the table (full-refresh sync)
    run2 = api.post(f"/imports/{imp}/runs").json()["runId"]
    assert wait_run(api, f"/jobs/{imp}/runs/{run2}")["state"] == "succeeded"
    assert app.state.emulator.warehouse.describe("dst", "people_copy")["rowCount"] == 2

    # put, sync put/delete, cancel with nothing running
    assert api.put(f"/imports/{imp}", json={"name": "renamed", "sync_type": "Dbsync", "is_outbound": False}
                   ).json()["name"] == "renamed"
    sid = sync.json()["id"]
    put = api.put(f"/imports/{imp}/syncs/{sid}", json={"source": {"path": "src.people"},
                                                       "destination": {"path": "dst.people2"}})
    assert put.status_code == 200, put.text
    assert api.post(f"/imports/{imp}/cancel").status_code == 404
    assert api.delete(f"/imports/{imp}/syncs/{sid}").status_code == 204
    assert api.get(f"/imports/{imp}").json()["syncs"] == []


def test_generic_import_file_source_and_external_hosts(api, app):
    file_id = _upload(api, "rows.csv", "a,b\n1,x\n2,y\n3,z\n")
    imp = _import(api, sync_type="AutoImport")
    api.post(f"/imports/{imp}/syncs", json={"source": {"file": {"id": file_id}},
                                            "destination": {"databaseTable": {"schema": "f", "table": "rows"}}})
    run = wait_run(api, f"/jobs/{imp}/runs/{api.post(f'/imports/{imp}/runs').json()['runId']}")
    assert run["state"] == "succeeded", run
    assert app.state.emulator.warehouse.describe("f", "rows")["rowCount"] == 3

    gdoc = _import(api, sync_type="GdocImport")  # syncType: "one of Dbsync, AutoImport, GdocImport, and GdocExport"
    api.post(f"/imports/{gdoc}/syncs", json={"source": {"path": "Sheet.Tab"}, "destination": {"path": "g.tab"}})
    run = wait_run(api, f"/jobs/{gdoc}/runs/{api.post(f'/imports/{gdoc}/runs').json()['runId']}")
    assert run["state"] == "failed" and "cannot reach GdocImport hosts" in run["error"]


def test_legacy_file_import_and_batches(api, app):
    resp = api.post("/imports/files", json={"schema": "legacy", "name": "t", **HOST, "first_row_is_header": True})
    assert resp.status_code == 201, resp.text
    doc = resp.json()
    _upload(api, "t.csv", "x,y\n1,2\n", doc["uploadUri"], doc["uploadFields"])
    started = api.post(urlsplit(doc["runUri"]).path)
    assert started.status_code == 202, started.text
    run = wait_run(api, f"/imports/files/{doc['id']}/runs/{started.json()['id']}")
    assert run["state"] == "succeeded", run
    assert app.state.emulator.warehouse.describe("legacy", "t")["rowCount"] == 1
    assert len(api.get(f"/imports/files/{doc['id']}/runs").json()) == 1

    ids = [_upload(api, f"p{i}.csv", f"k,v\n{i},v{i}\n") for i in range(3)]
    batch = api.post("/imports/batches", json={"file_ids": ids, "schema": "b", "table": "parts", **HOST})
    assert batch.status_code == 201, batch.text
    bid = batch.json()["id"]
    got = wait_run(api, f"/imports/batches/{bid}", states=("succeeded", "failed"))
    assert got["state"] == "succeeded", got
    assert app.state.emulator.warehouse.describe("b", "parts")["rowCount"] == 3
    assert [b["id"] for b in api.get("/imports/batches").json()] == [bid]
    # /imports/files/csv still answers from its own router
    assert api.get("/imports/files/csv/999999").status_code == 404


def test_reports(api):
    script = api.post("/scripts/python3", json={"name": "s", "source": "print(1)"}).json()["id"]
    created = api.post("/reports", json={"name": "r", "code_body": "<h1>hi</h1>", "script_id": script})
    assert created.status_code == 200, created.text
    rid = created.json()["id"]
    assert created.json()["script"]["id"] == script and created.json()["type"] == "ReportTypes::HTML"
    assert api.get(f"/reports/{rid}").json()["name"] == "r"
    assert api.patch(f"/reports/{rid}", json={"name": "r2"}).json()["name"] == "r2"
    assert [r["id"] for r in api.get("/reports").json()] == [rid]
    granted = api.post(f"/reports/{rid}/grants").json()
    assert granted["provideAPIKey"] and granted["apiKey"] and granted["apiKey"] != KEY
    assert api.delete(f"/reports/{rid}/grants").status_code == 204
    assert api.get(f"/reports/{rid}").json()["apiKey"] is None
    # sharing.py's routes find it in store kind "reports"
    assert api.get(f"/reports/{rid}/shares").status_code == 200
    assert api.put(f"/reports/{rid}/archive", json={"status": True}).json()["archived"] is True
    assert api.get("/reports/999").status_code == 404


def test_leftovers(api):
    q = api.post("/queries", json={"database": 1, "sql": "select 1", "preview_rows": 10})
    assert q.status_code in (200, 201), q.text
    script = api.post("/scripts/containers", json={"name": "c", "docker_command": "echo hi",
                                                  "docker_image_name": "busybox",
                                                  "required_resources": {"cpu": 100, "memory": 100}})
    assert script.status_code == 201, script.text
    sid = script.json()["id"]
    put = api.put(f"/queries/{q.json()['id']}/scripts/{sid}")
    assert put.status_code == 200 and put.json()["scriptId"] == sid

    run = api.post(f"/scripts/containers/{sid}/runs").json()["id"]
    resp = api.post(f"/scripts/containers/{sid}/runs/{run}/logs",
                    json={"messages": [{"message": "from inside", "level": "info"}]})
    assert resp.status_code == 204, resp.text
    logs = api.get(f"/scripts/containers/{sid}/runs/{run}/logs").json()
    assert any(line["message"] == "from inside" for line in logs)
    assert api.get("/models/999/schedules").status_code == 404
    assert api.get("/predictions/999/schedules").status_code == 404
    assert api.delete("/models/999/builds/1").status_code == 404
