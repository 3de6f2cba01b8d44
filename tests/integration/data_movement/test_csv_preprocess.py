"""CSV imports into new or dropped tables: the emulator enforces the spec's ``tableColumns`` rule and
implements ``/files/preprocess/csv``; the operator preprocesses like civis-python to obey it."""

from __future__ import annotations

import gzip
import uuid

import pytest
import requests

from airflow_civis.hooks.civis import CivisHook
from airflow_civis.operators import CivisImportCsvOperator, CivisQueryOperator
from tests.helpers import make_context

DB = "Civis Emulator Warehouse"
RUN = {"deferrable": False, "poll_interval": 0.05}
CSV = "id,name,score\n1,alpha,1.5\n2,beta,2.25\n3,gamma,\n"


def table_name() -> str:
    return f"scratch.t_{uuid.uuid4().hex[:10]}"


def import_body(file_id: int, table: str, **extra) -> dict:
    schema, name = table.split(".")
    return {"source": {"fileIds": [file_id]}, "firstRowIsHeader": True,
            "destination": {"schema": schema, "table": name, "remoteHostId": 1, "credentialId": 1}, **extra}


def assert_api_error(resp, status: int, *needles: str) -> None:
    body = resp.json()
    assert resp.status_code == status and set(body) == {"error", "errorDescription", "code"}, body
    assert body["code"] == status
    for needle in needles:
        assert needle in body["errorDescription"], body


# -- the emulator: the spec's tableColumns rule ---------------------------------------------------------
def test_import_into_a_new_or_dropped_table_needs_typed_table_columns(api, tmp_path):
    file_id = api.upload(tmp_path, CSV.encode())
    table = table_name()
    # The old request shape (no columns, the emulator guessed the types) is rejected, naming the field.
    assert_api_error(api.post("/imports/files/csv", json=import_body(file_id, table)), 400,
                     "tableColumns is required", "does not exist")
    untyped = [{"name": "id", "sqlType": "INTEGER"}, {"name": "name"}, {"name": "score"}]
    assert_api_error(api.post("/imports/files/csv", json=import_body(file_id, table, tableColumns=untyped)), 400,
                     "sqlType is required", "name, score")
    typed = [{"name": "id", "sqlType": "INTEGER"}, {"name": "name", "sqlType": "VARCHAR(10)"},
             {"name": "score", "sqlType": "DOUBLE PRECISION"}]
    created = api.post("/imports/files/csv", json=import_body(file_id, table, tableColumns=typed))
    assert created.status_code == 201
    assert api.run_job(created.json()["id"])["state"] == "succeeded"
    # The table exists now: appending needs neither columns nor types, dropping needs both again.
    assert api.post("/imports/files/csv", json=import_body(file_id, table, existingTableRows="append",
                                                           tableColumns=untyped)).status_code == 201
    assert api.post("/imports/files/csv", json=import_body(file_id, table, existingTableRows="append")
                    ).status_code == 201
    assert_api_error(api.post("/imports/files/csv", json=import_body(file_id, table, existingTableRows="drop")),
                     400, "tableColumns", "drop")
    # A change that breaks the rule is refused too.
    job_id = created.json()["id"]
    assert_api_error(api.patch(f"/imports/files/csv/{job_id}", json={"existingTableRows": "drop",
                                                                     "tableColumns": untyped}), 400, "sqlType")


def test_the_run_checks_again_when_the_table_is_gone(api, tmp_path):
    file_id = api.upload(tmp_path, CSV.encode())
    table = table_name()
    CivisImportCsvOperator(task_id="first", table=table, database=DB, file_ids=[file_id], **RUN).execute(
        make_context())
    append = api.post("/imports/files/csv", json=import_body(file_id, table, existingTableRows="append"))
    assert append.status_code == 201
    CivisQueryOperator(task_id="drop", sql=f"DROP TABLE {table}", database=DB, **RUN).execute(make_context())
    run = api.run_job(append.json()["id"])
    assert run["state"] == "failed" and "tableColumns is required" in run["error"]


# -- the emulator: /files/preprocess/csv --------------------------------------------------------------
def test_preprocess_detects_into_a_new_file(api, tmp_path):
    file_id = api.upload(tmp_path, gzip.compress(b"id|city|when\n1|Paris|2024-01-02\n2|Lyon|2024-02-03\n"), "x.bin")
    created = api.post("/files/preprocess/csv", json={"fileId": file_id, "inPlace": False,
                                                      "detectTableColumns": True, "hidden": True})
    assert created.status_code == 201
    job = created.json()
    assert job == {"id": job["id"], "fileId": file_id, "inPlace": False, "detectTableColumns": True,
                   "forceCharacterSetConversion": False, "includeHeader": None, "columnDelimiter": None,
                   "hidden": True}
    assert api.get(f"/files/preprocess/csv/{job['id']}").json() == job
    run = api.run_job(job["id"])
    assert run["state"] == "succeeded"
    outputs = api.get(f"/jobs/{job['id']}/runs/{run['id']}/outputs").json()
    assert [o["objectType"] for o in outputs] == ["File"] and outputs[0]["objectId"] != file_id
    info = api.get(f"/files/{outputs[0]['objectId']}").json()["detectedInfo"]
    assert info == {"includeHeader": True, "columnDelimiter": "pipe", "compression": "gzip", "tableColumns": [
        {"name": "id", "sqlType": "INTEGER"}, {"name": "city", "sqlType": "VARCHAR(5)"},
        {"name": "when", "sqlType": "DATE"}]}


def test_preprocess_converts_to_utf8_in_place_and_takes_stated_settings(api, tmp_path):
    file_id = api.upload(tmp_path, "name\tcity\nJos\u00e9\tS\u00e3o Paulo\n".encode("cp1252"))
    job = api.post("/files/preprocess/csv", json={"fileId": file_id, "includeHeader": False,
                                                  "columnDelimiter": "tab"}).json()
    assert job["inPlace"] is True and job["detectTableColumns"] is False
    assert api.run_job(job["id"])["state"] == "succeeded"
    meta = api.get(f"/files/{file_id}").json()
    assert meta["detectedInfo"] == {"includeHeader": False, "columnDelimiter": "tab", "compression": "none",
                                    "tableColumns": []}
    assert requests.get(meta["downloadUrl"], timeout=30).content.decode("utf-8") == \
        "name\tcity\nJos\u00e9\tS\u00e3o Paulo\n"


def test_preprocess_requests_are_checked_and_updatable(api, tmp_path):
    file_id = api.upload(tmp_path, CSV.encode())
    assert_api_error(api.post("/files/preprocess/csv", json={"fileId": file_id, "columnDelimiter": "semicolon"}),
                     400, "columnDelimiter")
    assert_api_error(api.post("/files/preprocess/csv", json={}), 400, "file_id")
    assert api.post("/files/preprocess/csv", json={"fileId": 98765432}).status_code == 404
    job = api.post("/files/preprocess/csv", json={"fileId": file_id}).json()
    patched = api.patch(f"/files/preprocess/csv/{job['id']}", json={"detectTableColumns": True})
    assert patched.status_code == 200 and patched.json()["detectTableColumns"] is True
    assert patched.json()["fileId"] == file_id and patched.json()["inPlace"] is True
    assert_api_error(api.put(f"/files/preprocess/csv/{job['id']}", json={"inPlace": False}), 400, "file_id")
    put = api.put(f"/files/preprocess/csv/{job['id']}", json={"fileId": file_id, "inPlace": False})
    assert put.status_code == 200 and put.json()["detectTableColumns"] is False  # PUT replaces everything
    empty = api.upload(tmp_path, b"", "empty.csv")
    failed = api.run_job(api.post("/files/preprocess/csv", json={"fileId": empty}).json()["id"])
    assert failed["state"] == "failed" and "empty" in failed["error"]


# -- the operator: preprocess like civis-python, then import with what was detected ----------------------
def test_operator_completes_partial_column_types_from_detection(civis_conn, tmp_path):
    table = table_name()
    source = tmp_path / "in.csv"
    source.write_text(CSV)
    result = CivisImportCsvOperator(task_id="imp", table=table, database=DB, source_path=str(source),
                                    column_types=[{"name": "id", "sql_type": "BIGINT"}, {"name": "label"},
                                                  {"name": "score", "sql_type": "DOUBLE PRECISION"}],
                                    **RUN).execute(make_context())
    hook = CivisHook()
    job = hook.call("GET", f"/imports/files/csv/{result['job_id']}")
    assert job["hidden"] is True and job["loosenTypes"] is False  # the user's types are not loosened
    assert job["tableColumns"] == [{"name": "id", "sqlType": "BIGINT"}, {"name": "label", "sqlType": "VARCHAR(5)"},
                                   {"name": "score", "sqlType": "DOUBLE PRECISION"}]
    cleaned = job["source"]["fileIds"]
    assert hook.call("GET", f"/files/{cleaned[0]}")["detectedInfo"]["tableColumns"]  # a preprocessed file
    schema, name = table.split(".")
    info = hook.call("GET", f"/databases/1/schemas/{schema}/tables/{name}")
    assert [(c["name"], c["sqlType"]) for c in info["columns"]] == [
        ("id", "BIGINT"), ("label", "VARCHAR(5)"), ("score", "DOUBLE PRECISION")]
    assert result["rows_loaded"] == 3


def test_operator_takes_compression_from_preprocessing(api, tmp_path):
    file_id = api.upload(tmp_path, gzip.compress(CSV.encode()), "no_extension")
    table = table_name()
    result = CivisImportCsvOperator(task_id="imp", table=table, database=DB, file_ids=str(file_id),
                                    **RUN).execute(make_context())
    job = CivisHook().call("GET", f"/imports/files/csv/{result['job_id']}")
    assert job["compression"] == "gzip" and job["loosenTypes"] is True and result["rows_loaded"] == 3
    assert [c["sqlType"] for c in job["tableColumns"]] == ["INTEGER", "VARCHAR(5)", "VARCHAR(4)"]


def test_operator_names_a_column_count_mismatch(civis_conn, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text(CSV)
    op = CivisImportCsvOperator(task_id="cols", table=table_name(), database=DB, source_path=str(source),
                                column_types=[{"name": "id"}], **RUN)
    with pytest.raises(ValueError, match="'cols'.*column_types lists 1 column.*file has 3"):
        op.execute(make_context())


def test_operator_refuses_a_stated_compression_the_files_do_not_have(api, tmp_path):
    file_id = api.upload(tmp_path, CSV.encode(), "plain.csv")
    op = CivisImportCsvOperator(task_id="comp", table=table_name(), database=DB, file_ids=[file_id],
                                compression="gzip", **RUN)
    with pytest.raises(ValueError, match="'comp'.*compression is 'gzip' but the file.* are 'none'"):
        op.execute(make_context())
