"""The spec contract (emulator/civis_emulator/contract.py) on a tiny app of our own."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.testclient import TestClient

from civis_emulator.contract import ContractReport, install_contract
from civis_emulator.spec_index import get_index

KEY = "unit-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}

GOOD_RUN = {
    "id": 3,
    "pythonId": 7,
    "state": "succeeded",
    "isCancelRequested": False,
    "createdAt": "2024-01-01T00:00:00.000Z",
    "startedAt": "2024-01-01T00:00:01.000Z",
    "finishedAt": "2024-01-01T00:00:02.000Z",
    "error": None,
    "maxMemoryUsage": None,
    "maxCpuUsage": None,
}


@pytest.fixture
def reply():
    """What the fake routes answer; each test sets it."""
    return {"run": dict(GOOD_RUN), "status": 202, "seen": []}


@pytest.fixture
def app(reply):
    app = FastAPI()
    app.state.api_key = KEY

    @app.get("/scripts/python3/{id}/runs/{run_id}")
    def get_run(id: int, run_id: int):
        return JSONResponse(reply["run"])

    @app.post("/scripts/python3/{id}/runs")
    def post_run(id: int):
        return JSONResponse(reply["run"], status_code=reply["status"])

    @app.post("/scripts/python3")
    async def post_python3(request: Request):
        body = await request.json()
        reply["seen"].append(body)
        return JSONResponse({"id": 1, "name": body.get("name")}, status_code=201)

    @app.get("/jobs")
    def list_jobs():
        return JSONResponse([])

    @app.get("/files/{id}")
    def get_file(id: int):
        return JSONResponse({"id": id})

    @app.get("/scripts/python3/{id}/runs/{run_id}/logs")
    def logs(id: int, run_id: int):
        def gen():
            yield b'[{"id": 1, "createdAt": "2024-01-01T00:00:00Z", '
            yield b'"message": "hi", "level": "info"}]'

        return StreamingResponse(gen(), media_type="application/json")

    @app.get("/_emulator/download")
    def download():
        return PlainTextResponse("a,b\n1,2\n")

    install_contract(app).exempt = True  # breaks the contract on purpose: not part of the suite's tally
    return app


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


def report(app) -> dict:
    r: ContractReport = app.state.contract_report
    return r.as_dict()


def test_good_response_passes_and_is_counted(app, client):
    r = client.get("/scripts/python3/7/runs/3", headers=AUTH)
    assert r.status_code == 200
    rep = report(app)
    assert rep["responsesChecked"] == 1
    assert rep["operations"] == {"GET /scripts/python3/{id}/runs/{run_id}": 1}
    assert rep["violations"] == []


def test_null_is_accepted_for_required_fields(app, client, reply):
    reply["run"].update(startedAt=None, finishedAt=None, error=None, state=None)
    client.get("/scripts/python3/7/runs/3", headers=AUTH)
    assert report(app)["violations"] == []


def test_missing_required_key_is_a_violation(app, client, reply):
    del reply["run"]["finishedAt"]
    client.get("/scripts/python3/7/runs/3", headers=AUTH)
    (v,) = report(app)["violations"]
    assert (v["method"], v["path"], v["field"]) == ("GET", "/scripts/python3/7/runs/3", "/finishedAt")
    assert v["operation"] == "GET /scripts/python3/{id}/runs/{run_id}"
    assert "missing" in v["message"]


def test_wrong_type_is_a_violation(app, client, reply):
    reply["run"]["id"] = "three"
    reply["run"]["isCancelRequested"] = "no"
    client.get("/scripts/python3/7/runs/3", headers=AUTH)
    found = {v["field"]: v["message"] for v in report(app)["violations"]}
    assert found["/id"].startswith("expected integer, got string")
    assert found["/isCancelRequested"].startswith("expected boolean")


def test_violations_are_recorded_not_turned_into_errors(app, client, reply):
    reply["run"]["id"] = "three"
    r = client.get("/scripts/python3/7/runs/3", headers=AUTH)
    assert r.status_code == 200 and r.json()["id"] == "three"


def test_undeclared_status_is_a_violation(app, client, reply):
    reply["status"] = 200  # the spec declares 202 for POST .../runs
    client.post("/scripts/python3/7/runs", headers=AUTH)
    (v,) = report(app)["violations"]
    assert v["field"] == "(status)" and "202" in v["message"]


def test_array_items_and_nested_fields_are_named_by_pointer(app, client):
    client.get("/jobs", headers=AUTH)
    assert report(app)["violations"] == []


def test_streamed_json_is_checked_and_passed_through(app, client):
    r = client.get("/scripts/python3/7/runs/3/logs", headers=AUTH)
    assert r.status_code == 200 and r.json()[0]["message"] == "hi"
    rep = report(app)
    assert rep["responsesChecked"] == 1 and rep["violations"] == []


def test_emulator_admin_paths_are_not_checked(app, client):
    r = client.get("/_emulator/download", headers=AUTH)
    assert r.text == "a,b\n1,2\n"
    assert report(app)["responsesChecked"] == 0


def _bad_request(r, *needles):
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"error", "errorDescription", "code"}
    assert body["code"] == 400 and body["error"] == "bad_request"
    for needle in needles:
        assert needle in body["errorDescription"]
    return body


def test_missing_required_body_field_is_400_naming_it(client, reply):
    r = client.post("/scripts/python3", json={"name": "x"}, headers=AUTH)
    _bad_request(r, "source", "required field is missing")
    assert reply["seen"] == []  # never reached the route


def test_required_body_field_null_is_400(client):
    r = client.post("/scripts/python3", json={"name": None, "source": "print(1)"}, headers=AUTH)
    _bad_request(r, "'name'", "null")


def test_wrong_body_type_is_400(client):
    r = client.post(
        "/scripts/python3", json={"name": "x", "source": "y", "runningAsId": "me"}, headers=AUTH
    )
    _bad_request(r, "runningAsId", "expected integer")


def test_nested_body_fields_are_checked(client):
    body = {"name": "x", "source": "y", "params": [{"name": "p"}]}  # a param needs its type
    r = client.post("/scripts/python3", json=body, headers=AUTH)
    _bad_request(r, "params.0.type")


def test_snake_case_body_as_civis_client_sends_it(client, reply):
    body = {"name": "x", "source": "print(1)", "running_as_id": 5, "docker_image_tag": "latest"}
    r = client.post("/scripts/python3", json=body, headers=AUTH)
    assert r.status_code == 201, r.text
    assert reply["seen"] == [body]  # replayed to the route unchanged


def test_snake_case_field_wrong_type_is_named_as_sent(client):
    r = client.post("/scripts/python3", json={"name": "x", "source": "y", "running_as_id": "me"}, headers=AUTH)
    _bad_request(r, "running_as_id")


def test_invalid_json_body_is_400(client):
    r = client.post(
        "/scripts/python3", content=b"{not json", headers={**AUTH, "Content-Type": "application/json"}
    )
    _bad_request(r, "not valid JSON")


def test_bad_enum_in_query_is_400(client):
    _bad_request(client.get("/jobs?order_dir=sideways", headers=AUTH), "order_dir", "sideways")
    _bad_request(client.get("/jobs?permission=own", headers=AUTH), "permission")


def test_bad_query_types_are_400(client):
    _bad_request(client.get("/jobs?limit=ten", headers=AUTH), "'limit'", "expected integer")
    _bad_request(client.get("/jobs?hidden=maybe", headers=AUTH), "'hidden'", "boolean")


def test_good_query_passes(client):
    r = client.get("/jobs?limit=10&order_dir=asc&hidden=false&archived=&state=queued,running", headers=AUTH)
    assert r.status_code == 200


def test_bad_path_parameter_is_400(client):
    _bad_request(client.get("/files/abc", headers=AUTH), "path parameter 'id'", "expected integer")


def test_unauthenticated_requests_are_left_to_the_app(client):
    # No valid key: the contract does not answer 400 first (the real API's 401 comes first).
    r = client.get("/files/abc", headers={"Authorization": "Bearer wrong"})
    assert r.status_code != 400


def test_endpoints_serves_the_spec_with_auth(client):
    assert client.get("/endpoints").status_code == 401
    r = client.get("/endpoints", headers=AUTH)
    assert r.status_code == 200
    assert r.json()["swagger"] == "2.0" and len(r.json()["paths"]) == len(get_index().spec["paths"])


def test_contract_report_endpoint(app, client, reply):
    del reply["run"]["error"]
    client.get("/scripts/python3/7/runs/3", headers=AUTH)
    assert client.get("/_emulator/contract").status_code == 401
    rep = client.get("/_emulator/contract", headers=AUTH).json()
    assert rep["responsesChecked"] == 1 and rep["distinctOperations"] == 1
    assert rep["violations"][0]["field"] == "/error"
    # our own check is left out of the count
    assert client.get("/_emulator/contract", headers=AUTH).json()["responsesChecked"] == 1


def test_install_is_idempotent(app):
    assert install_contract(app) is app.state.contract_report


def test_contract_routes_win_over_an_earlier_catch_all():
    app = FastAPI()
    app.state.api_key = KEY

    @app.api_route("/{path:path}", methods=["GET"])
    def not_implemented(path: str):
        return JSONResponse({"error": "not_implemented"}, status_code=501)

    install_contract(app).exempt = True
    with TestClient(app) as c:
        assert c.get("/endpoints", headers=AUTH).status_code == 200
        assert c.get("/_emulator/contract", headers=AUTH).status_code == 200


def test_real_responses_in_the_spec_examples_pass_the_type_rules():
    """The null rule and errata are calibrated on the spec's own x-examples (real API responses):
    no type/enum violation may remain on them (only keys newer than the recorded examples)."""
    from civis_emulator.contract import shared_validators

    validators = shared_validators()
    checked = 0
    leftovers = []
    for op in get_index().operations.values():
        for example in op.spec.get("x-examples") or ():
            for req in example.get("requests") or ():
                status = req["response_status"]
                if not 200 <= status < 300:
                    continue
                body = (req.get("response_body") or "").encode()
                found = validators.for_operation(op).check_response(
                    status, req.get("response_content_type") or "", body
                )
                checked += 1
                leftovers += [(op.key, f, m) for f, m in found if "missing" not in m]
    assert checked > 400
    assert leftovers == []


def test_real_requests_in_the_spec_examples_are_accepted():
    from urllib.parse import urlsplit

    from civis_emulator.contract import shared_validators

    validators = shared_validators()
    index = get_index()
    rejected = []
    for op in index.operations.values():
        for example in op.spec.get("x-examples") or ():
            for req in example.get("requests") or ():
                if not 200 <= req["response_status"] < 300:
                    continue
                url = urlsplit(req["request_path"])
                if ":" in url.path or "%3A" in url.path:  # placeholders left in some examples
                    continue
                matched = index.match(op.method, url.path)
                assert matched is not None, url.path
                opv = validators.for_operation(matched[0])
                problems = opv.check_path(matched[1]) + opv.check_query(url.query.encode())
                problems += opv.check_body((req.get("request_body") or "").encode())
                if problems:
                    rejected.append((op.key, problems))
    assert rejected == []


def test_spec_index_prefers_static_segments():
    index = get_index()
    op, values = index.match("GET", "/scripts/python3/12/runs/4")
    assert op.template == "/scripts/python3/{id}/runs/{run_id}" and values == {"id": "12", "run_id": "4"}
    op, values = index.match("GET", "/credentials/types")
    assert op.template == "/credentials/types" and values == {}
    assert index.match("GET", "/models")[0].template == "/models/"
    assert index.match("GET", "/no/such/thing") is None
