"""Files and CSV imports, in-process operators against the session emulator: bytes and rows round trip."""

from __future__ import annotations

import gzip
import os
import uuid

import pytest

from airflow_civis.exceptions import CivisAPIError, CivisRunError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.hooks.files import CivisFileTransfer
from airflow_civis.operators import (
    CivisDownloadFileOperator,
    CivisExportTableOperator,
    CivisImportCsvOperator,
    CivisUploadFileOperator,
)
from tests.helpers import make_context

DB = "Civis Emulator Warehouse"
RUN = {"deferrable": False, "poll_interval": 0.05}


def table_name() -> str:
    return f"scratch.t_{uuid.uuid4().hex[:10]}"


def write(path, text: str) -> str:
    path.write_text(text)
    return str(path)


def import_csv(source, table, **kwargs):
    op = CivisImportCsvOperator(task_id=kwargs.pop("task_id", "imp"), table=table, database=DB,
                                source_path=source, **RUN, **kwargs)
    return op.execute(make_context())


def export_sql(sql, local_path, **kwargs):
    op = CivisExportTableOperator(task_id="exp", sql=sql, database=DB, local_path=str(local_path), **RUN, **kwargs)
    return op.execute(make_context())


# -- files ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size, threshold_mb", [(0, 50), (123_457, 50), (11 * 1024 * 1024 + 17, 5)])
def test_upload_then_download_is_byte_identical(civis_conn, tmp_path, size, threshold_mb):
    data = os.urandom(size)
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    file_id = CivisUploadFileOperator(task_id="up", local_path=str(src), multipart_threshold_mb=threshold_mb,
                                      part_size_mb=5, expires_at=None).execute(make_context())
    out = tmp_path / "sub" / "out.bin"
    assert CivisDownloadFileOperator(task_id="down", file_id=file_id, local_path=str(out)).execute({}) == str(out)
    assert out.read_bytes() == data
    info = CivisHook().call("GET", f"/files/{file_id}")
    assert info["fileSize"] == size and info["name"] == "in.bin" and info["expiresAt"] is None


def test_multipart_plan_and_unknown_file(civis_conn, tmp_path):
    transfer = CivisFileTransfer(CivisHook(), part_size=5 * 2**20)
    assert transfer.plan_parts(11 * 2**20) == (5 * 2**20, 3)
    with pytest.raises(CivisAPIError, match="404"):
        transfer.download(987654, str(tmp_path / "x"))
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_file_operators_validate_at_parse_time():
    with pytest.raises(ValueError, match="'d'.*file_id"):
        CivisDownloadFileOperator(task_id="d", file_id=-3, local_path="/tmp/x")
    with pytest.raises(ValueError, match="'u'.*local_path is required"):
        CivisUploadFileOperator(task_id="u", local_path="")
    with pytest.raises(ValueError, match="part_size_mb"):
        CivisUploadFileOperator(task_id="u", local_path="a", part_size_mb=0)


# -- imports -------------------------------------------------------------------------------------------
CSV = "id,name,score\n1,alpha,1.5\n2,beta,2.25\n3,gamma,\n"


def test_import_then_export_equals_input(civis_conn, tmp_path):
    table = table_name()
    result = import_csv(write(tmp_path / "in.csv", CSV), table)
    schema, name = table.split(".")
    assert result["rows_loaded"] == 3 and result["rows_rejected"] == 0
    assert (result["schema"], result["table"], result["database_id"]) == (schema, name, 1)
    assert isinstance(result["table_id"], int) and result["job_id"] and result["run_id"]
    out = tmp_path / "out.csv"
    export_sql(f"SELECT * FROM {table} ORDER BY id", out)
    assert out.read_text() == CSV


def test_gzip_import_and_gzip_export(civis_conn, tmp_path):
    src = tmp_path / "in.csv.gz"
    src.write_bytes(gzip.compress(CSV.encode()))
    table = table_name()
    assert import_csv(str(src), table)["rows_loaded"] == 3  # compression inferred from .gz
    out = tmp_path / "out.csv.gz"
    export_sql(f"SELECT * FROM {table} ORDER BY id", out, compression="gzip")
    assert gzip.decompress(out.read_bytes()).decode() == CSV


def test_import_from_several_civis_files(civis_conn, tmp_path):
    ids = [CivisFileTransfer(CivisHook()).upload(write(tmp_path / f"p{i}.csv", f"id,name\n{i},n{i}\n"))
           for i in range(3)]
    table = table_name()
    op = CivisImportCsvOperator(task_id="imp", table=table, database=1, file_ids=ids, **RUN)
    assert op.execute(make_context())["rows_loaded"] == 3


def test_every_if_exists_mode(civis_conn, tmp_path):
    table = table_name()
    first = write(tmp_path / "a.csv", "id,name,ts\n1,a,2024-01-01 00:00:00\n2,b,2024-01-01 00:00:00\n")
    assert import_csv(first, table)["rows_loaded"] == 2
    with pytest.raises(CivisRunError, match="already exists"):
        import_csv(first, table, if_exists="fail")
    assert import_csv(first, table, if_exists="append")["rows_loaded"] == 2
    count = lambda: CivisHook().call("GET", f"/databases/1/schemas/{table.split('.')[0]}/tables/"  # noqa: E731
                                            f"{table.split('.')[1]}")["rowCount"]
    assert count() == 4
    assert import_csv(first, table, if_exists="truncate")["rows_loaded"] == 2 and count() == 2
    upsert = write(tmp_path / "u.csv", "id,name,ts\n2,B,2024-02-01 00:00:00\n3,c,2024-02-01 00:00:00\n")
    import_csv(upsert, table, if_exists="upsert", primary_keys=["id"], last_modified_keys=["ts"])
    out = tmp_path / "o.csv"
    export_sql(f"SELECT id, name FROM {table} ORDER BY id", out)
    assert out.read_text() == "id,name\n1,a\n2,B\n3,c\n"
    other = write(tmp_path / "d.csv", "x\nhello\n")
    assert import_csv(other, table, if_exists="drop")["rows_loaded"] == 1
    export_sql(f"SELECT * FROM {table}", out)
    assert out.read_text() == "x\nhello\n"


def test_explicit_column_types_tab_delimiter_and_no_header(civis_conn, tmp_path):
    table = table_name()
    src = write(tmp_path / "t.tsv", "1\t007\n2\t008\n")
    import_csv(src, table, header=False, delimiter="\t",
               column_types=[{"name": "id", "sql_type": "BIGINT"}, {"name": "code", "sql_type": "VARCHAR(3)"}])
    info = CivisHook().call("GET", f"/databases/1/schemas/scratch/tables/{table.split('.')[1]}")
    assert [(c["name"], c["sqlType"]) for c in info["columns"]] == [("id", "BIGINT"), ("code", "VARCHAR(3)")]
    out = tmp_path / "o.csv"
    export_sql(f"SELECT code FROM {table} ORDER BY id", out)
    assert out.read_text() == "code\n007\n008\n"  # kept as text: leading zeros survive


def test_bad_rows_fail_with_the_warehouse_message_and_load_nothing(civis_conn, tmp_path):
    table = table_name()
    import_csv(write(tmp_path / "a.csv", "id,n\n1,2\n"), table)
    bad = write(tmp_path / "b.csv", "id,n\n2,3\n3,not-a-number\n4,5\n")
    with pytest.raises(CivisRunError) as info:
        import_csv(bad, table, if_exists="append")
    assert "not-a-number" in str(info.value) and "Row 2 of" in str(info.value)
    schema, name = table.split(".")
    assert CivisHook().call("GET", f"/databases/1/schemas/{schema}/tables/{name}")["rowCount"] == 1
    result = import_csv(bad, table, if_exists="append", max_errors=1)
    assert (result["rows_loaded"], result["rows_rejected"]) == (2, 1)


def test_unknown_column_and_ragged_rows_fail_clearly(civis_conn, tmp_path):
    table = table_name()
    import_csv(write(tmp_path / "a.csv", "id,n\n1,2\n"), table)
    with pytest.raises(CivisRunError, match="Column 'zzz' does not exist"):
        import_csv(write(tmp_path / "b.csv", "id,zzz\n1,2\n"), table, if_exists="append")
    with pytest.raises(CivisRunError, match="(?i)csv error|expected"):
        import_csv(write(tmp_path / "c.csv", "id,n\n1,2\n3,4,5\n"), table_name())


def test_import_validation_names_task_and_field():
    ok = {"table": "s.t", "database": 1, "source_path": "x.csv"}
    for bad, message in [
        ({"if_exists": "replace"}, "'v'.*if_exists must be one of"),
        ({"table": "no_schema"}, "'v'.*table must be 'schema.table'"),
        ({"max_errors": -1}, "'v'.*max_errors must be an integer >= 0"),
        ({"source_path": None}, "'v'.*exactly one of source_path"),
        ({"if_exists": "upsert"}, "'v'.*upsert' needs primary_keys"),
        ({"delimiter": ";"}, "'v'.*delimiter"),
        ({"database": None}, "'v'.*database is required"),
    ]:
        with pytest.raises(ValueError, match=message):
            CivisImportCsvOperator(task_id="v", **{**ok, **bad})


def test_unknown_database_is_named(civis_conn, tmp_path):
    with pytest.raises(Exception, match="Database 'nope' not found.*Civis Emulator Warehouse"):
        CivisImportCsvOperator(task_id="x", table="s.t", database="nope", source_path=write(tmp_path / "a.csv", CSV),
                               **RUN).execute(make_context())
