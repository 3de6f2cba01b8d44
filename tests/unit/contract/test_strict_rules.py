"""The emulator is at least as strict as the API: every rule the spec states, on the real app.

One case per rule of docs/emulator-coverage.md ("Rules the emulator enforces"): a request that breaks
it gets the API's 400 (or 404) naming the field, and the fix where the spec gives one. The cases run
against ``create_app`` in-process, so removing a rule (or its phrasing in ``rule_text.py``) fails
its case. ``test_the_apis_own_accepted_examples_pass`` keeps the engine from being *stricter* than
the API: the 426 requests the spec's x-examples show the real API accepting must all pass.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from civis_emulator.app import create_app
from civis_emulator.contract import install_contract
from civis_emulator.contract.described_rules import DescribedRules, parse_query
from civis_emulator.spec_index import get_index

KEY = "strict-rules-key"
DEST = {"schema": "s", "table": "t", "remoteHostId": 1, "credentialId": 1}
CSV = {"source": {"fileIds": [1]}, "destination": DEST, "firstRowIsHeader": True}
TABLE = {"databaseTable": {"schema": "a", "table": "b", "remoteHostId": 1, "credentialId": 1}}


@pytest.fixture(scope="module")
def client():
    app = create_app(KEY)
    with TestClient(app, headers={"Authorization": f"Bearer {KEY}"}) as c:
        yield c
    app.state.emulator.close()
    assert app.state.contract_report.violation_count == 0, app.state.contract_report.violations


def _rejected(response, *words: str) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"error", "errorDescription", "code"} and body["code"] == 400
    for word in words:
        assert word in body["errorDescription"], (word, body["errorDescription"])
    return body["errorDescription"]


# -- paths -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/not-a-civis-path"),
    ("GET", "/scripts/bogus/1"),  # an emulator route (/scripts/{kind}/{id}) would serve it
    ("PATCH", "/users/me/activity"),  # the path exists, the method does not
    ("POST", "/jobs/1"),
])
def test_paths_the_spec_lacks_answer_404_in_the_api_shape(client, method, path):
    r = client.request(method, path)
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "code": 404, "errorDescription": (
        f"The requested endpoint could not be found: the Civis API has no {method} {path}.")}


def test_spec_endpoints_the_emulator_lacks_answer_501_and_admin_routes_are_exempt(client):
    r = client.get("/announcements")
    assert r.status_code == 501 and "GET /announcements" in r.json()["errorDescription"]
    assert client.get("/_emulator/stats").status_code == 200
    assert client.get("/endpoints").status_code == 200


# -- list parameters -------------------------------------------------------------------------------

def test_limit_above_its_maximum_is_rejected(client):
    _rejected(client.get("/jobs", params={"limit": 51}), "'limit'", "maximum of 50", "page_num")
    _rejected(client.get("/scripts", params={"limit": 51}), "'limit'", "maximum of 50")
    assert client.get("/jobs", params={"limit": 50}).status_code == 200
    # "Default of 10000" (log pages) states no maximum: nothing to reject
    assert DescribedRules().for_operation(get_index().operations["GET /jobs/{id}/runs/{run_id}/logs"]).max_limit is None


def test_parameters_a_list_does_not_declare_have_no_effect(client):
    everything = client.get("/databases").json()
    assert everything
    assert client.get("/databases", params={"limit": 1, "page_num": 2}).json() == everything


def test_undeclared_query_parameters_never_reach_the_routes():
    """GET /databases declares no parameter; GET /jobs declares ``state`` but not ``colour``."""
    app = FastAPI()
    app.state.api_key = KEY

    @app.get("/databases")
    @app.get("/jobs")
    def echo(request: Request):
        return JSONResponse([{"id": 1, "name": request.url.query}])

    install_contract(app).exempt = True
    with TestClient(app, headers={"Authorization": f"Bearer {KEY}"}) as c:
        assert c.get("/databases", params={"limit": 1, "page_num": 2}).json()[0]["name"] == ""
        assert c.get("/jobs?state[]=queued&colour=red&limit=5").json()[0]["name"] == "state%5B%5D=queued&limit=5"


def test_order_and_order_dir_choices(client):
    _rejected(client.get("/jobs", params={"order": "colour"}), "'order'", "updated_at")
    _rejected(client.get("/jobs", params={"order_dir": "sideways"}), "'order_dir'", "asc or desc")


# -- query rules written in descriptions -----------------------------------------------------------

def test_query_one_of(client):
    _rejected(client.get("/users", params={"account_status": "gone"}), "'account_status'", "active, inactive, all")
    _rejected(client.get("/projects", params={"permission": "own"}), "'permission'", "read, write, manage")
    assert client.get("/projects", params={"permission": "manage"}).status_code == 200


def test_query_one_or_more_of(client):
    _rejected(client.get("/jobs", params={"state": "queued,paused"}), "'state'", '"paused"', "cancelled")
    assert client.get("/jobs", params={"state": "queued,running"}).status_code == 200


def test_query_cannot_be_present_together(client):
    _rejected(client.get("/users", params={"group_id": 1, "group_ids": "2"}), "'group_id'", "group_ids")


def test_query_needs_another_value(client):
    _rejected(client.get("/imports", params={"source": "1", "type": "AutoImport"}), "'source'", "type=Dbsync")
    assert client.get("/imports", params={"source": "1", "type": "Dbsync"}).status_code == 200


def test_download_link_expiry_window(client):
    past = "2001-01-01T00:00:00Z"
    _rejected(client.get("/files/1", params={"link_expires_at": past}), "'link_expires_at'", "36 hours")
    later = (datetime.now(timezone.utc) + timedelta(hours=37)).isoformat()
    _rejected(client.get("/files/1", params={"link_expires_at": later}), "'link_expires_at'")
    soon = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    assert client.get("/files/1", params={"link_expires_at": soon}).status_code == 404  # no file 1


# -- body rules ------------------------------------------------------------------------------------

def test_required_body_fields(client):
    _rejected(client.post("/scripts/python3", json={"source": "pass"}), "'name'", "required")


def test_body_one_of_names_the_allowed_values(client):
    r = client.post("/queries", json={"database": 1, "sql": "select 1", "compression": "rar"})
    _rejected(r, "'compression'", "gzip, zip, none")
    r = client.post("/imports", json={"name": "i", "syncType": "Rsync", "isOutbound": False})
    _rejected(r, "'syncType'", "Dbsync, AutoImport, GdocImport, GdocExport")


def test_snake_case_keys_are_checked_and_named_as_sent(client):
    r = client.post("/queries", json={"database": 1, "sql": "select 1", "column_delimiter": "semicolon"})
    _rejected(r, "'column_delimiter'", "comma, tab, pipe")


def test_at_least(client):
    body = {"name": "c", "dockerImageName": "x", "dockerCommand": "true", "requiredResources": {"cpu": 1, "memory": 4}}
    _rejected(client.post("/scripts/containers", json=body), "'requiredResources.cpu'", "at least 2")


def test_maximum(client):
    r = client.post("/queries", json={"database": 1, "sql": "select 1", "previewRows": 1001})
    _rejected(r, "'previewRows'", "maximum is 1000")


def test_range_in_time_units(client):
    _rejected(client.post("/credentials/1/temporary", json={"duration": 60}), "'duration'", "900 to 129600")


def test_max_items(client):
    r = client.post("/imports/files/csv", json={**CSV, "redshiftDestinationOptions": {"sortkeys": ["a", "b", "c"]}})
    _rejected(r, "'redshiftDestinationOptions.sortkeys'", "at most 2")


def test_single_ascii_character(client):
    body = {"source": {"path": "a.b"}, "destination": {"path": "c.d"},
            "advancedOptions": {"invalidCharReplacement": "é"}}
    _rejected(client.post("/imports/1/syncs", json=body), "'advancedOptions.invalidCharReplacement'", "ASCII")


def test_retired_attributes(client):
    body = {"source": {"path": "a.b"}, "destination": {"path": "c.d"},
            "advancedOptions": {"mysqlCatalogMatchesSchema": False}}
    _rejected(client.post("/imports/1/syncs", json=body), "'advancedOptions.mysqlCatalogMatchesSchema'",
              "no longer available")


def test_only_one_source_object(client):
    body = {"source": {"path": "a.b", "file": {"id": 1}}, "destination": {"path": "c.d"}}
    _rejected(client.put("/imports/1/syncs/2", json=body), "'source'", "only one of")
    r = client.post("/enhancements/cass-ncoa", json={"name": "x", "source": {}})
    _rejected(r, "'source'", "exactly one of databaseTable")


def test_required_if_flag(client):
    r = client.post("/enhancements/cass-ncoa", json={"name": "x", "source": TABLE, "performNcoa": True})
    _rejected(r, "'ncoaCredentialId'", "performNcoa is true")


def test_output_level_depends_on_ncoa(client):
    body = {"name": "x", "source": TABLE, "performNcoa": False, "outputLevel": "ncoa"}
    _rejected(client.post("/enhancements/cass-ncoa", json=body), "'outputLevel'", "cass, all")


def test_custom_column_mapping(client):
    body = {"name": "x", "source": TABLE, "useDefaultColumnMapping": False}
    _rejected(client.post("/enhancements/cass-ncoa", json=body), "'useDefaultColumnMapping'", "columnMapping")


def test_upsert_needs_primary_keys(client):
    r = client.post("/imports/files/csv", json={**CSV, "existingTableRows": "upsert"})
    _rejected(r, "'destination.primaryKeys'", "upsert")
    # a PATCH may rely on the stored primaryKeys: not rejected for this (404: no such import)
    assert client.patch("/imports/files/csv/1", json={"existingTableRows": "upsert"}).status_code == 404


def test_dropped_table_needs_typed_columns(client):
    r = client.post("/imports/files/csv", json={**CSV, "existingTableRows": "drop"})
    _rejected(r, "'tableColumns'", "drop")
    r = client.post("/imports/files/csv", json={**CSV, "existingTableRows": "drop", "tableColumns": [{"name": "a"}]})
    _rejected(r, "'tableColumns'", "sqlType")


def test_params_not_with_a_template(client):
    r = client.post("/scripts", json={"name": "x", "templateScriptId": 1, "params": [{"name": "a", "type": "string"}]})
    _rejected(r, "'params'", "templateScriptId")


def test_default_not_for_required_or_credential_params(client):
    params = [{"name": "a", "type": "string", "required": True, "default": "x"}]
    _rejected(client.post("/scripts/python3", json={"name": "x", "source": "pass", "params": params}),
              "'params[0].default'", "required parameter")
    params = [{"name": "c", "type": "credential_custom", "default": "7"}]
    _rejected(client.post("/scripts/python3", json={"name": "x", "source": "pass", "params": params}),
              "'params[0].default'", "credential")


# -- never stricter than the API -------------------------------------------------------------------

def test_the_apis_own_accepted_examples_pass():
    """Every 2xx request in the spec's x-examples (the real API accepted it) passes the engine."""
    rules = DescribedRules()
    checked, rejected = 0, []
    for key, op in get_index().operations.items():
        op_rules = rules.for_operation(op)
        for example in op.spec.get("x-examples") or ():
            for req in example.get("requests") or ():
                if not 200 <= int(req.get("response_status") or 0) < 300:
                    continue
                checked += 1
                query = urlsplit(req.get("request_path") or "").query.encode()
                problems = op_rules.check_query(parse_query(query))
                if req.get("request_body"):
                    problems += op_rules.check_body(req["request_body"].encode())
                if problems:
                    rejected.append((key, json.dumps(problems)))
    assert checked > 400
    assert rejected == []
