"""Users and API keys, credentials (PUT, temporary, authenticate), legacy /scripts, job parents and
children, trigger e-mails, PATCH /tables/{id}, databases' whitelisted IPs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from civis_emulator.app import create_app
from tests.unit.emulator.emu_unit_helpers import wait_for

KEY = "k"


@pytest.fixture
def api():
    app = create_app(KEY)
    with TestClient(app, headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client
        report = app.state.contract_report
        assert report.violation_count == 0, report.violations


# -- users -------------------------------------------------------------------------------------------
def test_users_list_get_and_patch_me(api):
    (user,) = api.get("/users").json()
    assert user["id"] == 1 and user["user"] == "emulator"
    assert api.get("/users", params={"query": "nobody-like-this"}).json() == []
    detail = api.get("/users/1").json()
    assert detail["email"] == "emulator@localhost" and detail["groups"][0]["id"] == 1
    assert api.get("/users/me").json()["preferences"] == {}
    assert api.get("/users/99").status_code == 404

    resp = api.patch("/users/me", json={"preferences": {"script_index_order_field": "name"},
                                        "last_checked_announcements": "2025-01-02T03:04:05.000Z"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["preferences"] == {"scriptIndexOrderField": "name"}
    me = api.get("/users/me").json()
    assert me["preferences"] == {"scriptIndexOrderField": "name"}
    assert me["lastCheckedAnnouncements"] == "2025-01-02T03:04:05.000Z"
    api.patch("/users/me", json={"preferences": {"queryPreviewRows": 10}})
    assert api.get("/users/me").json()["preferences"] == {"scriptIndexOrderField": "name", "queryPreviewRows": 10}


def test_api_keys_token_shown_once_and_revoke(api):
    assert api.get("/users/1/api_keys").json() == []
    resp = api.post("/users/me/api_keys", json={
        "name": "ci", "expires_in": 3600,
        "constraints": [{"constraint": "/scripts", "constraint_type": "prefix", "get_allowed": True}]})
    assert resp.status_code == 200, resp.text
    created = resp.json()
    token, key_id = created["token"], created["id"]
    assert token and created["active"] and not created["expired"]
    assert created["constraints"] == [{"constraint": "/scripts", "constraintType": "prefix", "getAllowed": True,
                                       "headAllowed": False, "postAllowed": False, "putAllowed": False,
                                       "patchAllowed": False, "deleteAllowed": False}]

    (listed,) = api.get("/users/1/api_keys").json()
    assert listed["id"] == key_id and listed["constraintCount"] == 1 and "token" not in listed
    shown = api.get(f"/users/me/api_keys/{key_id}")
    assert shown.status_code == 200 and "token" not in shown.json() and token not in shown.text
    assert token not in api.get("/users/1/api_keys").text

    # keys made here do not authenticate against the emulator
    assert api.get("/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401

    revoked = api.delete(f"/users/1/api_keys/{key_id}").json()
    assert revoked["revokedAt"] and revoked["active"] is False and token not in str(revoked)
    assert api.get(f"/users/1/api_keys/{key_id}").json()["active"] is False
    assert api.get("/users/1/api_keys/999").status_code == 404
    assert api.get("/users/2/api_keys").status_code == 404
    assert api.post("/users/me/api_keys", json={"name": "x"}).status_code == 400


# -- credentials -------------------------------------------------------------------------------------
def test_credentials_put_temporary_authenticate(api):
    cred = api.post("/credentials", json={"type": "Custom", "username": "u", "password": "p",
                                          "name": "mine"}).json()
    resp = api.put(f"/credentials/{cred['id']}", json={"type": "Amazon Web Services S3", "username": "AKIA1",
                                                        "password": "secret", "name": "aws"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["type"] == "Amazon Web Services S3" and "password" not in resp.json()
    assert api.get(f"/credentials/{cred['id']}").json()["name"] == "aws"
    assert api.put(f"/credentials/{cred['id']}", json={"type": "Custom"}).status_code == 400
    assert api.put("/credentials/999", json={"type": "C", "username": "u", "password": "p"}).status_code == 404

    temp = api.post(f"/credentials/{cred['id']}/temporary", json={"duration": 900})
    assert temp.status_code == 200, temp.text
    assert temp.json()["accessKey"].startswith("ASIA") and temp.json()["sessionToken"]
    assert api.post("/credentials/1/temporary").status_code == 400  # the default credential is a Database one
    assert api.post("/credentials/999/temporary").status_code == 404

    # no remote host is contacted: the login is taken as given and stored as a credential
    auth = api.post("/credentials/authenticate", json={
        "url": "jdbc:mysql//myHost/myDb", "remote_host_type": "RemoteHostTypes::JDBC",
        "username": "myUsername", "password": "myPassword"})
    assert auth.status_code == 200, auth.text
    assert auth.json()["username"] == "myUsername" and auth.json()["remoteHostName"] == "jdbc:mysql//myHost/myDb"
    assert "password" not in auth.json()
    assert api.get(f"/credentials/{auth.json()['id']}").status_code == 200
    assert api.post("/credentials/authenticate", json={"url": "x"}).status_code == 400


# -- scripts ------------------------------------------------------------------------------------------
def test_legacy_scripts_types_create_get_run(api):
    names = [t["name"] for t in api.get("/scripts/types").json()]
    assert {"sql", "python3", "r", "containers", "javascript"} <= set(names)

    resp = api.post("/scripts", json={"name": "legacy", "sql": "select 1", "remote_host_id": 1,
                                      "credential_id": 1})
    assert resp.status_code == 200, resp.text
    sid = resp.json()["id"]
    assert resp.json()["type"] == "SQL"
    assert api.get(f"/scripts/sql/{sid}").json()["sql"] == "select 1"
    detail = api.get(f"/scripts/{sid}").json()
    assert detail["id"] == sid and detail["name"] == "legacy" and detail["sql"] == "select 1"

    py = api.post("/scripts/python3", json={"name": "p", "source": "print(1)"}).json()
    assert api.get(f"/scripts/{py['id']}").json()["type"] == "Python"
    assert api.get("/scripts/9999").status_code == 404
    assert api.post("/scripts", json={"name": "x"}).status_code == 400

    assert api.post(f"/scripts/{sid}/run").status_code == 204
    wait_for(lambda: api.get(f"/scripts/sql/{sid}").json()["state"] in ("succeeded", "failed"))
    assert api.get(f"/scripts/sql/{sid}").json()["state"] == "succeeded"
    assert len(api.get(f"/jobs/{sid}/runs").json()) == 1
    assert api.post("/scripts/9999/run").status_code == 404


# -- jobs ----------------------------------------------------------------------------------------------
def test_job_parents_children_and_trigger_email(api):
    def script(name, parent=None):
        body = {"name": name, "source": "print(1)"}
        if parent is not None:
            body["parent_id"] = parent
        return api.post("/scripts/python3", json=body).json()["id"]

    root = script("root")
    child_a, child_b = script("a", root), script("b", root)
    grandchild = script("g", child_a)

    assert api.get(f"/jobs/{root}/parents").json() == []
    assert [j["id"] for j in api.get(f"/jobs/{grandchild}/parents").json()] == [child_a, root]
    tree = api.get(f"/jobs/{root}/children").json()
    assert [(j["id"], [c["id"] for c in j["children"]]) for j in tree] == [(child_a, [grandchild]), (child_b, [])]
    assert api.get(f"/jobs/{grandchild}/children").json() == []
    assert api.get("/jobs/9999/parents").status_code == 404

    first = api.post(f"/jobs/{root}/trigger_email")
    assert first.status_code == 200, first.text
    address = first.json()["triggerEmail"]
    assert "@" in address and api.post(f"/jobs/{root}/trigger_email").json()["triggerEmail"] == address
    assert api.post(f"/jobs/{child_a}/trigger_email").json()["triggerEmail"] != address
    assert api.post("/jobs/9999/trigger_email").status_code == 404


# -- tables, databases -----------------------------------------------------------------------------------
def test_patch_table_keeps_keys_and_ontology(api):
    warehouse = api.app.state.emulator.warehouse
    warehouse.query("CREATE TABLE public.people (id INTEGER, first_name VARCHAR, updated DATE)")
    table_id = warehouse.table_id("public", "people")
    resp = api.patch(f"/tables/{table_id}", json={"primary_keys": ["id"], "last_modified_keys": ["updated"],
                                                  "ontology_mapping": {"first_name": "first_name"}})
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["primaryKeys"] == ["id"] and out["lastModifiedKeys"] == ["updated"]
    assert out["ontologyMapping"] == {"first_name": "first_name"}
    got = api.get(f"/tables/{table_id}").json()
    assert got["primaryKeys"] == ["id"] and got["ontologyMapping"] == {"first_name": "first_name"}
    assert api.get("/databases/1/schemas/public/tables/people").json()["lastModifiedKeys"] == ["updated"]
    assert api.patch(f"/tables/{table_id}", json={"primaryKeys": ["nope"]}).status_code == 400
    assert api.patch("/tables/99999", json={"primaryKeys": []}).status_code == 404


def test_database_whitelist_ips(api):
    (entry,) = api.get("/databases/1/whitelist-ips").json()
    assert entry["subnetMask"] == "127.0.0.1/32"
    assert api.get("/databases/1/whitelist-ips").json() == [entry]  # seeded once
    detail = api.get(f"/databases/1/whitelist-ips/{entry['id']}").json()
    assert detail["isActive"] is True and detail["id"] == entry["id"]
    assert api.get("/databases/1/whitelist-ips/999").status_code == 404
    assert api.get("/databases/42/whitelist-ips").status_code == 404
