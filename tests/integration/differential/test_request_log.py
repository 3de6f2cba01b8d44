"""The emulator's request log (``/_emulator/requests``), which the differential tests read."""

from __future__ import annotations

import requests

from tests.conftest import API_KEY
from tests.integration.differential.harness import Difference, camel, compare, load_table, normalise

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def test_logs_template_body_keys_query_names_and_status(emulator, recorder):
    mark = recorder.mark()
    base = emulator.base_url
    created = requests.post(f"{base}/scripts/sql", headers=AUTH, timeout=30,
                            json={"name": "logged", "sql": "SELECT 1", "remoteHostId": 1, "credentialId": 1})
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    requests.get(f"{base}/scripts/sql/{job_id}/runs", headers=AUTH, params={"limit": 5, "order_dir": "asc"},
                 timeout=30)
    requests.get(f"{base}/jobs", headers=AUTH, params=[("state[]", "queued"), ("state[]", "running")], timeout=30)
    requests.get(f"{base}/no/such/path/77", headers=AUTH, timeout=30)
    requests.get(f"{base}/users/me", headers={"Authorization": "Bearer wrong"}, timeout=30)
    requests.get(f"{base}/_emulator/stats", headers=AUTH, timeout=30)  # admin traffic is not logged
    log = recorder.since(mark)
    got = [(e["method"], e["template"], e["query"], e["bodyKeys"], e["status"]) for e in log]
    assert got == [
        ("POST", "/scripts/sql", [], ["credentialId", "name", "remoteHostId", "sql"], 201),
        ("GET", "/scripts/sql/{id}/runs", ["limit", "order_dir"], None, 200),
        ("GET", "/jobs", ["state"], None, 200),
        ("GET", "/no/such/path/{n}", [], None, 404),
        ("GET", "/users/me", [], None, 401),
    ]
    assert [e["seq"] for e in log] == list(range(mark, mark + 5))
    assert all("SELECT" not in str(e) and "wrong" not in str(e) for e in log)  # names only, never values


def test_presigned_urls_get_a_stable_pseudo_template(emulator, recorder, tmp_path):
    mark = recorder.mark()
    created = requests.post(f"{emulator.base_url}/files", headers=AUTH, json={"name": "x.txt"}, timeout=30).json()
    form = created["uploadFields"]
    up = requests.post(created["uploadUrl"], data=form, files={"file": b"hello"}, timeout=30)
    assert up.status_code in (200, 204), up.text
    url = requests.get(f"{emulator.base_url}/files/{created['id']}", headers=AUTH, timeout=30).json()["fileUrl"]
    assert requests.get(url, timeout=30).content == b"hello"
    templates = [(e["method"], e["template"]) for e in recorder.since(mark)]
    assert templates == [("POST", "/files"), ("POST", "/_emulator/presigned/uploads"), ("GET", "/files/{id}"),
                         ("GET", "/_emulator/presigned/files/{n}")]


def test_log_requires_the_key_and_can_be_cleared(emulator, recorder):
    assert requests.get(f"{emulator.base_url}/_emulator/requests", timeout=30).status_code == 401
    before = recorder.mark()
    requests.get(f"{emulator.base_url}/users/me", headers=AUTH, timeout=30)
    cleared = requests.delete(f"{emulator.base_url}/_emulator/requests", headers=AUTH, timeout=30).json()
    assert cleared == {"requests": [], "next": before + 1}
    assert recorder.since(0) == [] and recorder.mark() == before + 1


# -- the comparison itself (pure functions over log entries) -----------------------------------------------
def _e(method, template, keys=None):
    return {"method": method, "template": template, "bodyKeys": keys}


def test_compare_names_wrong_endpoint_missing_step_order_and_missing_key():
    official = [_e("POST", "/files", ["name"]), _e("POST", "/imports/files/csv", ["name", "source", "destination"]),
                _e("POST", "/imports/files/csv/{id}/runs"), _e("GET", "/imports/files/csv/{id}/runs/{run_id}"),
                _e("GET", "/imports/files/csv/{id}/runs/{run_id}"), _e("GET", "/files/{id}")]
    ours = [_e("POST", "/imports/files/csv", ["name", "source"]), _e("POST", "/files", ["name"]),
            _e("POST", "/jobs/{id}/runs"), _e("GET", "/jobs/{id}/runs/{run_id}")]
    found = compare("op", official, ours)
    swapped = {d.call for d in found if d.kind == "order"}  # either of the swapped pair is the one out of place
    assert swapped in ({"POST /files"}, {"POST /imports/files/csv"})
    assert {d for d in found if d.kind != "order"} == {
        Difference("op", "missing-key", "POST /imports/files/csv", "destination"),
        Difference("op", "missing-call", "POST /imports/files/csv/{id}/runs"),
        Difference("op", "missing-call", "GET /imports/files/csv/{id}/runs/{run_id}"),
        Difference("op", "missing-call", "GET /files/{id}"),
        Difference("op", "extra-call", "POST /jobs/{id}/runs"),
        Difference("op", "extra-call", "GET /jobs/{id}/runs/{run_id}"),
    }
    assert compare("op", official, official) == set()


def test_polling_and_snake_case_keys_normalise_away():
    assert camel("existing_table_rows") == "existingTableRows" and camel("name") == "name"
    steps = normalise([_e("POST", "/x", ["table_columns"]), _e("GET", "/r"), _e("GET", "/l"), _e("GET", "/r"),
                       _e("GET", "/l"), _e("PUT", "/p"), _e("PUT", "/p"), _e("POST", "/x", ["hidden"]),
                       _e("GET", "/r"), _e("GET", "/r")])
    assert [(s.call, sorted(s.body_keys)) for s in steps] == [
        ("POST /x", ["tableColumns"]), ("GET /r", []), ("GET /l", []), ("PUT /p", []), ("POST /x", ["hidden"]),
        ("GET /r", [])]


def test_a_run_started_twice_or_before_its_create_shows():
    create, run = _e("POST", "/imports", ["name"]), _e("POST", "/jobs/{id}/runs")
    poll = _e("GET", "/jobs/{id}/runs/{run_id}")
    official = [_e("POST", "/files/preprocess/csv", ["fileId"]), run, poll, poll, create, run, poll]
    assert compare("op", official, [create, run, poll]) == {  # the preprocess step, and its run and polling
        Difference("op", "missing-call", "POST /files/preprocess/csv"),
        Difference("op", "missing-call", "POST /jobs/{id}/runs"),
        Difference("op", "missing-call", "GET /jobs/{id}/runs/{run_id}")}
    found = compare("op", official, [_e("POST", "/files/preprocess/csv", ["fileId"]), run, poll, run, poll, create])
    assert found and {d.kind for d in found} <= {"order", "missing-call", "extra-call"}


def test_the_table_parses_and_its_rows_are_well_formed():
    table = load_table()
    for diff in table.rows():
        method, _, template = diff.call.partition(" ")
        assert method in {"GET", "POST", "PUT", "PATCH", "DELETE"} and template.startswith("/"), diff
        assert (diff.detail != "") == diff.kind.endswith("-key"), f"only key rows name a key: {diff}"
