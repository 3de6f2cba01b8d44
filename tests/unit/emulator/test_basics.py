"""Auth, fallbacks, stats and the simple resources."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.unit.emulator.emu_unit_helpers import AUTH, KEY


def test_missing_or_wrong_key_is_401_with_api_error_body(app):
    with TestClient(app) as c:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": KEY}):
            r = c.get("/users/me", headers=headers)
            assert r.status_code == 401
            assert r.json()["code"] == 401 and r.json()["error"]
            assert "www-authenticate" in r.headers
            assert KEY not in r.text
        assert c.get("/nothing-here").status_code == 401
        assert c.get("/_emulator/stats").status_code == 401


def test_unimplemented_spec_path_is_501_naming_the_endpoint(client):
    r = client.get("/reports/sql/5")
    assert r.status_code == 501
    assert r.json() == {"error": "not_implemented", "code": 501,
                        "errorDescription": "GET /reports/sql/{id} is not implemented by the Civis emulator"}
    assert client.get("/users/me/activity").json()["errorDescription"].startswith("GET /users/me/activity ")
    assert client.get("/scripts/dbt/1").status_code == 501
    assert client.delete("/scripts/python3/1").status_code == 501


def test_path_the_api_does_not_have_is_404(client):
    r = client.get("/no/such/thing")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found" and r.json()["code"] == 404


def test_users_me(client):
    me = client.get("/users/me").json()
    assert me["id"] == 1 and me["username"] and "featureFlags" in me and "groups" in me


def test_credentials_create_get_list_without_password(client):
    r = client.post("/credentials", json={"name": "db", "type": "Database", "username": "u", "password": "s3cret"})
    assert r.status_code == 201
    cred = r.json()
    assert "s3cret" not in r.text and cred["type"] == "Database" and cred["user"]["id"] == 1
    assert client.get(f"/credentials/{cred['id']}").json()["name"] == "db"
    listed = client.get("/credentials", params={"type": "Database"}).json()
    assert cred["id"] in [c["id"] for c in listed]
    default = client.get("/credentials", params={"default": "true"}).json()
    assert len(default) == 1 and default[0]["default"] is True
    assert client.get("/credentials/999").status_code == 404
    assert client.post("/credentials", json={"type": "Database"}).status_code == 400


def test_databases_and_schemas(client):
    dbs = client.get("/databases").json()
    assert dbs[0]["id"] == 1 and dbs[0]["name"] == "Civis Emulator Warehouse"
    assert {"schema": "public"} in client.get("/databases/1/schemas").json()
    assert client.get("/databases/42/schemas").status_code == 404


def test_json_values_round_trip(client):
    r = client.post("/json_values", json={"name": "cfg", "valueStr": '{"a": [1, 2]}'})
    assert r.status_code == 201 and r.json()["value"] == {"a": [1, 2]}
    jid = r.json()["id"]
    assert client.patch(f"/json_values/{jid}", json={"valueStr": "3"}).json() == {"id": jid, "name": "cfg", "value": 3}
    assert client.get(f"/json_values/{jid}").json()["value"] == 3
    assert client.post("/json_values", json={"valueStr": "{nope"}).status_code == 400


def test_stats_count_templated_routes_and_reset(client):
    client.post("/_emulator/reset-stats")
    client.get("/users/me")
    client.get("/users/me")
    client.get("/reports/sql/3")
    stats = client.get("/_emulator/stats").json()
    assert {"method": "GET", "route": "/users/me", "status": 200, "count": 2} in stats["requests"]
    assert {"method": "GET", "route": "/reports/sql/{id}", "status": 501, "count": 1} in stats["requests"]
    assert stats["total_requests"] == 3 and stats["runs_started"] == {}
    client.post("/_emulator/reset-stats")
    assert client.get("/_emulator/stats").json()["total_requests"] == 0


def test_unauthorized_requests_are_counted(app):
    with TestClient(app) as c:
        c.get("/users/me")
        stats = c.get("/_emulator/stats", headers=AUTH).json()
    assert {"method": "GET", "route": "/users/me", "status": 401, "count": 1} in stats["requests"]
