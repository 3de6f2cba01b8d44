"""Character sets: Civis imports UTF-8 text only; ``POST /files/preprocess/csv`` converts a file to UTF-8
(``forceCharacterSetConversion``), and the operator preprocesses every import, as civis-python does, so a
Latin-1, UTF-16 or BOM-prefixed CSV loads the characters it holds, into a new or an existing table."""

from __future__ import annotations

import codecs
import gzip
import time
import uuid

import pytest
import requests

from airflow_civis.exceptions import CivisRunError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.operators import CivisImportCsvOperator, CivisQueryOperator
from tests.helpers import make_context

DB = "Civis Emulator Warehouse"
RUN = {"deferrable": False, "poll_interval": 0.05}
TEXT = "id,name\n2,caf\u00e9\n3,na\u00efve \u20ac\n"
ENCODINGS = {
    "latin-1": lambda text: text.replace("\u20ac", "EUR").encode("latin-1"),
    "cp1252": lambda text: text.encode("cp1252"),
    "utf-16": lambda text: text.encode("utf-16"),  # with its byte order mark
    "utf-8 with BOM": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
}


def table_name() -> str:
    return f"scratch.enc_{uuid.uuid4().hex[:10]}"


def existing_table(tmp_path) -> str:
    """A table with an id and a name column, holding one row (1, 'plain')."""
    table = table_name()
    source = tmp_path / "first.csv"
    source.write_text("id,name\n1,plain\n", encoding="utf-8")
    CivisImportCsvOperator(task_id="create", table=table, database=DB, source_path=str(source),
                           column_types=[{"name": "id", "sql_type": "INTEGER"},
                                         {"name": "name", "sql_type": "VARCHAR(64)"}],
                           **RUN).execute(make_context())
    return table


def names(api, table: str) -> list[str]:
    """The table's name column, in id order, read back through a SQL script's CSV output."""
    result = CivisQueryOperator(task_id="read", sql=f"SELECT name FROM {table} ORDER BY id", database=DB,
                                preview_rows=100, **RUN).execute(make_context())
    return [row[0] for row in result["preview"]["rows"]]


# -- the emulator: an import takes UTF-8 only ------------------------------------------------------------
@pytest.mark.parametrize("max_errors", [None, 5])
def test_an_import_of_a_file_that_is_not_utf8_fails_naming_the_fix(api, tmp_path, max_errors):
    table = existing_table(tmp_path)
    file_id = api.upload(tmp_path, ENCODINGS["latin-1"](TEXT), "latin1.csv")
    schema, name = table.split(".")
    body = {"source": {"fileIds": [file_id]}, "firstRowIsHeader": True, "existingTableRows": "append",
            "destination": {"schema": schema, "table": name, "remoteHostId": 1, "credentialId": 1},
            **({"maxErrors": max_errors} if max_errors is not None else {})}
    created = api.post("/imports/files/csv", json=body)
    assert created.status_code == 201, created.text
    run = api.run_job(created.json()["id"])
    assert run["state"] == "failed", run
    for needle in ("latin1.csv", "not valid UTF-8", "line 2", "forceCharacterSetConversion"):
        assert needle in run["error"], run["error"]
    assert "encoding='UTF-16'" not in run["error"]  # DuckDB's advice is not the API's
    logs = api.get(f"/jobs/{created.json()['id']}/runs/{run['id']}/logs").json()
    assert any("not valid UTF-8" in line["message"] for line in logs), logs
    assert names(api, table) == ["plain"]  # nothing loaded


# -- the emulator: /files/preprocess/csv converts to UTF-8 ------------------------------------------------
def preprocess(api, file_id: int, force: bool) -> bytes:
    job = api.post("/files/preprocess/csv", json={"fileId": file_id, "inPlace": False,
                                                  "forceCharacterSetConversion": force}).json()
    run = api.run_job(job["id"])
    assert run["state"] == "succeeded", run
    outputs = api.get(f"/jobs/{job['id']}/runs/{run['id']}/outputs").json()
    meta = api.get(f"/files/{outputs[0]['objectId']}").json()
    return requests.get(meta["downloadUrl"], timeout=30).content


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16"])
@pytest.mark.parametrize("force", [True, False])
def test_preprocess_converts_a_file_in_another_character_set_either_way(api, tmp_path, encoding, force):
    """The spec: without forceCharacterSetConversion the conversion still runs when the detected character set
    is not compatible with UTF-8."""
    data = ENCODINGS[encoding](TEXT)
    expected = data.decode("utf-16") if encoding == "utf-16" else data.decode("cp1252")
    assert preprocess(api, api.upload(tmp_path, data), force).decode("utf-8") == expected


def test_preprocess_leaves_utf8_alone_unless_forced_which_drops_the_bom(api, tmp_path):
    data = ENCODINGS["utf-8 with BOM"](TEXT)
    file_id = api.upload(tmp_path, data)
    assert preprocess(api, file_id, force=False) == data
    assert preprocess(api, file_id, force=True) == TEXT.encode("utf-8")


# -- the operator: every import is preprocessed with the conversion on --------------------------------------
@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_appending_a_csv_in_another_character_set_reads_back_its_characters(api, tmp_path, encoding):
    table = existing_table(tmp_path)
    source = tmp_path / "more.csv"
    data = ENCODINGS[encoding](TEXT)
    source.write_bytes(data)
    result = CivisImportCsvOperator(task_id="append", table=table, database=DB, source_path=str(source),
                                    if_exists="append", **RUN).execute(make_context())
    assert result["rows_loaded"] == 2
    expected = (data[3:] if encoding.endswith("BOM") else data).decode(
        "utf-16" if encoding == "utf-16" else "utf-8" if encoding.endswith("BOM") else "cp1252")
    assert names(api, table) == ["plain", *[line.split(",")[1] for line in expected.splitlines()[1:]]]
    assert names(api, table)[1] == "caf\u00e9"
    job = CivisHook().call("GET", f"/imports/files/csv/{result['job_id']}")
    assert "tableColumns" not in job or not job["tableColumns"]  # an existing table: nothing detected


def test_upserting_a_latin1_csv_reads_back_its_characters(api, tmp_path):
    table = existing_table(tmp_path)
    source = tmp_path / "upsert.csv"
    source.write_bytes("id,name\n1,d\u00e9j\u00e0 vu\n2,caf\u00e9\n".encode("latin-1"))
    CivisImportCsvOperator(task_id="upsert", table=table, database=DB, source_path=str(source),
                           if_exists="upsert", primary_keys=["id"], **RUN).execute(make_context())
    assert names(api, table) == ["d\u00e9j\u00e0 vu", "caf\u00e9"]


def test_a_failed_conversion_names_the_file(api, tmp_path):
    """An empty file cannot be preprocessed: the task fails with the preprocess run's error, before any import."""
    table = existing_table(tmp_path)
    source = tmp_path / "empty.csv"
    source.write_bytes(b"")
    op = CivisImportCsvOperator(task_id="append", table=table, database=DB, source_path=str(source),
                                if_exists="append", **RUN)
    with pytest.raises(CivisRunError, match="CSV preprocess of file .* failed.*empty"):
        op.execute(make_context())


def test_a_gzipped_latin1_csv_from_civis_files_is_converted_and_stays_gzipped(api, tmp_path):
    table = existing_table(tmp_path)
    file_id = api.upload(tmp_path, gzip.compress(ENCODINGS["latin-1"](TEXT)), "more.csv.gz")
    result = CivisImportCsvOperator(task_id="append", table=table, database=DB, file_ids=[file_id],
                                    if_exists="append", compression="gzip", **RUN).execute(make_context())
    job = CivisHook().call("GET", f"/imports/files/csv/{result['job_id']}")
    assert job["compression"] == "gzip" and job["source"]["fileIds"] != [file_id]  # the cleaned copy
    assert names(api, table) == ["plain", "caf\u00e9", "na\u00efve EUR"]


def test_a_generic_import_of_a_file_that_is_not_utf8_fails_naming_the_file(api, tmp_path):
    file_id = api.upload(tmp_path, ENCODINGS["cp1252"](TEXT), "cp1252.csv")
    host = {"remoteHostId": 1, "credentialId": 1}
    imp = api.post("/imports", json={"name": "auto", "syncType": "AutoImport", "isOutbound": False,
                                     "source": host, "destination": host}).json()["id"]
    table = table_name().split(".")
    api.post(f"/imports/{imp}/syncs", json={"source": {"file": {"id": file_id}}, "destination": {
        "databaseTable": {"schema": table[0], "table": table[1]}}}).raise_for_status()
    run_id = api.post(f"/imports/{imp}/runs").json()["runId"]
    deadline = time.monotonic() + 30
    while (run := api.get(f"/jobs/{imp}/runs/{run_id}").json())["state"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, run
        time.sleep(0.05)
    assert run["state"] == "failed" and f"file {file_id} is not valid UTF-8 at line 2" in run["error"], run
