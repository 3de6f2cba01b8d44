"""Run paths per kind, end to end against the real emulator: generic imports (``{"runId"}``, no per-run
route of their own), outputs past the first page of 50, and a list endpoint that does not page."""

from __future__ import annotations

import itertools
import uuid

import pytest

from airflow_civis.exceptions import CivisAPIError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.operators.jobs import CivisRunJobOperator
from airflow_civis.operators.scripts import CivisRunScriptOperator
from airflow_civis.runs import RunRef
from airflow_civis.triggers.run import CivisRunTrigger
from civis_emulator import databases as emulator_databases
from tests.helpers import first_event, make_context

HOST = {"remoteHostId": 1, "credentialId": 1}


def generic_import(emulator) -> int:
    """A Dbsync import copying a fresh warehouse table, created through the API (its source table directly)."""
    schema = f"src_{uuid.uuid4().hex[:8]}"
    emulator.app.state.emulator.warehouse.query(
        f"CREATE SCHEMA {schema}; CREATE TABLE {schema}.people AS SELECT * FROM (VALUES (1, 'ann'), (2, 'bob')) "
        "t(id, name)", preview_rows=0)
    hook = CivisHook()
    job = hook.call("POST", "/imports", json={"name": "copy", "syncType": "Dbsync", "isOutbound": False,
                                              "source": HOST, "destination": HOST})
    hook.call("POST", f"/imports/{job['id']}/syncs", json={
        "source": {"databaseTable": {"schema": schema, "table": "people"}},
        "destination": {"databaseTable": {"schema": schema, "table": "people_copy"}}})
    return int(job["id"])


def test_generic_import_runs_to_completion_in_the_worker(civis_conn):
    job_id = generic_import(civis_conn)
    ctx = make_context()
    result = CivisRunJobOperator(task_id="imp", job_id=job_id, kind="import", deferrable=False,
                                 poll_interval=0.1).execute(ctx)
    assert result["state"] == "succeeded"
    assert result["run_id"] == CivisHook().get_job(job_id)["lastRun"]["id"] == ctx["ti"].xcom["run_id"]
    assert "import_result" in result["outputs"]  # read through GET /jobs/{id}/runs/{run_id}/outputs


def test_generic_import_run_is_watched_by_the_trigger(civis_conn):
    job_id = generic_import(civis_conn)
    ref = CivisHook().start_run("import", job_id)
    event = first_event(CivisRunTrigger(run=ref.to_dict(), poll_interval=0.1, deadline=None))
    assert event.payload["status"] == "succeeded", event.payload


def test_generic_import_routes_the_spec_lacks_answer_404(civis_conn):
    hook = CivisHook()
    job_id = generic_import(civis_conn)
    ref = hook.start_run("import", job_id)
    for method, suffix in [("GET", ""), ("DELETE", ""), ("GET", "/outputs")]:
        with pytest.raises(CivisAPIError) as info:
            hook.request(method, f"/imports/{job_id}/runs/{ref.run_id}{suffix}")
        assert info.value.status == 404, (method, suffix)


SIXTY_OUTPUTS = """
import json, os, urllib.request
api = os.environ["CIVIS_API_ENDPOINT"].rstrip("/")
h = {"Authorization": "Bearer " + os.environ["CIVIS_API_KEY"], "Content-Type": "application/json"}
def post(path, body):
    r = urllib.request.Request(api + path, data=json.dumps(body).encode(), headers=h)
    return json.load(urllib.request.urlopen(r))
runs = f"/scripts/python3/{os.environ['CIVIS_JOB_ID']}/runs/{os.environ['CIVIS_RUN_ID']}/outputs"
for i in range(60):
    v = post("/json_values", {"name": f"part{i:02d}", "valueStr": json.dumps(i)})
    post(runs, {"objectType": "JSONValue", "objectId": v["id"]})
"""


def test_outputs_past_the_first_page_of_50_all_arrive(civis_conn):
    op = CivisRunScriptOperator(task_id="many", script_type="python3", script={"source": SIXTY_OUTPUTS},
                                deferrable=False, poll_interval=0.1, fetch_logs=False)
    result = op.execute(make_context())
    assert result["state"] == "succeeded"
    assert result["outputs"] == {f"part{i:02d}": i for i in range(60)}
    # The emulator pages every outputs route as the spec says: at most 50, page_num, X-Pagination-* headers.
    hook = CivisHook()
    for base in (f"/jobs/{result['job_id']}", f"/scripts/python3/{result['job_id']}"):
        path = f"{base}/runs/{result['run_id']}/outputs"
        first = hook.request("GET", path, params={"limit": 50})
        assert len(first.json()) == 50 and first.headers["X-Pagination-Per-Page"] == "50"
        assert first.headers["X-Pagination-Total-Entries"] == "60" and first.headers["X-Pagination-Total-Pages"] == "2"
        second = hook.request("GET", path, params={"page_num": 2})  # limit defaults to its maximum, 50
        assert len(second.json()) == 10 and second.headers["X-Pagination-Current-Page"] == "2"
        with pytest.raises(CivisAPIError) as info:  # above the spec's maximum: refused, as the contract says
            hook.request("GET", path, params={"limit": 51})
        assert info.value.status == 400


@pytest.fixture
def sixty_databases(monkeypatch):
    for i in range(1000, 1060):
        monkeypatch.setitem(emulator_databases._DATABASES, i, {
            "id": i, "name": f"db{i}", "adapter": "postgresql", "clusterIdentifier": None, "host": "127.0.0.1",
            "port": 5432, "databaseName": f"db{i}", "managed": False})


def test_paginate_a_list_that_does_not_page(civis_conn, sixty_databases):
    response = CivisHook().request("GET", "/databases", params={"limit": 10, "page_num": 2})
    assert len(response.json()) == 61 and not any(h.lower().startswith("x-pagination") for h in response.headers)
    found = list(itertools.islice(CivisHook().paginate("/databases"), 500))  # bounded: a loop must not hang
    assert sorted(d["id"] for d in found) == [1, *range(1000, 1060)]


def test_run_ref_for_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="import_csv"):
        RunRef("imports", 1, 2)


def test_an_export_split_into_60_files_returns_60_file_ids(civis_conn):
    """Rows just over half a megabyte with 1 MB parts: one row a file, 60 files, 60 outputs (two pages)."""
    from airflow_civis.operators.exports import CivisExportTableOperator

    op = CivisExportTableOperator(task_id="split", database=1, max_file_size_mb=1, deferrable=False, poll_interval=0.1,
                             sql="SELECT i, repeat('x', 540000) AS pad FROM range(60) t(i)", fetch_logs=False)
    result = op.execute(make_context())
    assert len(result["file_ids"]) == len(set(result["file_ids"])) == 60


TWO_OF_A_NAME = """
import json, os, urllib.request
api = os.environ["CIVIS_API_ENDPOINT"].rstrip("/")
h = {"Authorization": "Bearer " + os.environ["CIVIS_API_KEY"], "Content-Type": "application/json"}
def post(path, body):
    r = urllib.request.Request(api + path, data=json.dumps(body).encode(), headers=h)
    return json.load(urllib.request.urlopen(r))
for n in (1, 2):
    v = post("/json_values", {"name": "result", "valueStr": json.dumps(n)})
    post(f"/scripts/python3/{os.environ['CIVIS_JOB_ID']}/runs/{os.environ['CIVIS_RUN_ID']}/outputs",
         {"objectType": "JSONValue", "objectId": v["id"]})
"""


def test_outputs_sharing_a_name_are_both_kept(civis_conn):
    op = CivisRunScriptOperator(task_id="dup", script_type="python3", script={"source": TWO_OF_A_NAME},
                                deferrable=False, poll_interval=0.1, fetch_logs=False)
    outputs = op.execute(make_context())["outputs"]
    assert sorted(outputs.values()) == [1, 2] and "result" in outputs
