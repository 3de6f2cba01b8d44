"""The emulator's DuckDB warehouse: imports, queries, exports, table metadata."""

from __future__ import annotations

import gzip
import os
import threading
import time
import tracemalloc

import pytest

from civis_emulator.warehouse import ImportResult, QueryResult, Warehouse, WarehouseError

PEOPLE = "id,name,score\n1,alice,1.5\n2,bob,2.25\n3,carol,-7.0\n"


@pytest.fixture
def csv_file(tmp_path):
    counter = iter(range(10_000))

    def write(text: str, *, gz: bool = False, name: str | None = None) -> str:
        path = tmp_path / (name or f"src{next(counter)}.csv{'.gz' if gz else ''}")
        data = text.encode()
        path.write_bytes(gzip.compress(data) if gz else data)
        return str(path)

    return write


def rows(wh: Warehouse, sql: str) -> list[list[str | None]]:
    return wh.query(sql, preview_rows=None).rows


def types(wh: Warehouse, table: str, schema: str = "public") -> dict[str, str]:
    return {c["name"]: c["sqlType"] for c in wh.describe(schema, table)["columns"]}


# ---------------------------------------------------------------------- type detection and declaration
def test_detected_types_are_civis_style(wh, csv_file):
    src = csv_file(
        "i,big,f,s,b,d,ts,empty\n"
        "1,9000000000,1.5,hello,true,2024-01-01,2024-01-01 10:00:00,\n"
        "-2,1,2,hi,f,2024-02-29,2024-01-02T11:30:00,\n"
    )
    result = wh.import_csv([src], "public", "t")
    assert isinstance(result, ImportResult)
    assert result.rows_inserted == 2 and result.rows_rejected == 0
    assert {c["name"]: c["sqlType"] for c in result.columns} == {
        "i": "INTEGER", "big": "BIGINT", "f": "DOUBLE PRECISION", "s": "VARCHAR(5)", "b": "BOOLEAN",
        "d": "DATE", "ts": "TIMESTAMP", "empty": "VARCHAR(256)",
    }
    assert rows(wh, "SELECT i + 1, b, d FROM t ORDER BY i") == [["-1", "false", "2024-02-29"],
                                                                  ["2", "true", "2024-01-01"]]


def test_detection_is_strict_about_integers(wh, csv_file):
    # DuckDB would happily cast '1.5' to INTEGER 2 or '0x10' to 16; detection must not.
    wh.import_csv([csv_file("a,b,c\n1.5,0x10,007\n2,1_000,8\n")], "public", "t")
    assert types(wh, "t") == {"a": "DOUBLE PRECISION", "b": "VARCHAR(5)", "c": "INTEGER"}
    assert rows(wh, "SELECT b FROM t ORDER BY b") == [["0x10"], ["1_000"]]


def test_explicit_types_and_names_override_header(wh, csv_file):
    src = csv_file("x,y,z,w\n1,abc,3.14159,2024-01-01 00:00:00\n")
    wh.import_csv([src], "public", "t", column_types=[
        {"name": "id", "sqlType": "int8"}, {"name": "label", "sqlType": "character varying(10)"},
        {"name": "amount", "sqlType": "numeric(10,2)"}, {"name": "at", "sqlType": "timestamp"},
    ])
    assert types(wh, "t") == {"id": "BIGINT", "label": "VARCHAR(10)", "amount": "NUMERIC(10,2)",
                              "at": "TIMESTAMP"}
    assert rows(wh, "SELECT * FROM t") == [["1", "abc", "3.14", "2024-01-01 00:00:00"]]


def test_explicit_type_without_sqltype_is_detected(wh, csv_file):
    wh.import_csv([csv_file("a,b\n1,x\n")], "public", "t",
                  column_types=[{"name": "a"}, {"name": "b", "sqlType": "VARCHAR(4)"}])
    assert types(wh, "t") == {"a": "INTEGER", "b": "VARCHAR(4)"}


def test_unsupported_type_is_rejected(wh, csv_file):
    with pytest.raises(WarehouseError, match="unsupported sqlType"):
        wh.import_csv([csv_file("a\n1\n")], "public", "t", column_types=[{"name": "a", "sqlType": "int; drop"}])
    assert not wh.table_exists("public", "t")


def test_type_mismatch_fails_and_creates_nothing(wh, csv_file):
    src = csv_file("a,b\n1,x\n2.5,y\n")
    with pytest.raises(WarehouseError, match=r"Row 2 of src\d\.csv, column 'a'.*'2\.5'"):
        wh.import_csv([src], "public", "t", column_types=[{"name": "a", "sqlType": "INTEGER"},
                                                          {"name": "b", "sqlType": "VARCHAR"}])
    assert not wh.table_exists("public", "t")


def test_declared_varchar_length_is_enforced(wh, csv_file):
    wh.import_csv([csv_file("s\nabc\n")], "public", "t", column_types=[{"name": "s", "sqlType": "VARCHAR(3)"}])
    with pytest.raises(WarehouseError, match="value too long for type VARCHAR"):
        wh.import_csv([csv_file("s\nabcd\n")], "public", "t", if_exists="append")
    assert rows(wh, "SELECT s FROM t") == [["abc"]]


def test_detected_varchar_length_grows_on_append(wh, csv_file):
    wh.import_csv([csv_file("s\nab\n")], "public", "t")
    wh.import_csv([csv_file("s\nabcdef\n")], "public", "t", if_exists="append")
    assert types(wh, "t") == {"s": "VARCHAR(6)"}


# ---------------------------------------------------------------------- existing table modes
def test_fail_mode_raises_when_table_exists(wh, csv_file):
    wh.import_csv([csv_file(PEOPLE)], "public", "people")
    with pytest.raises(WarehouseError, match="already exists"):
        wh.import_csv([csv_file("id,name,score\n9,zed,0\n")], "public", "people")
    assert wh.describe("public", "people")["rowCount"] == 3


def test_append_adds_rows_matching_columns_by_name(wh, csv_file):
    wh.import_csv([csv_file(PEOPLE)], "public", "people")
    result = wh.import_csv([csv_file("score,id\n9.5,4\n")], "public", "people", if_exists="append")
    assert result.rows_inserted == 1
    assert rows(wh, "SELECT id, name, score FROM people WHERE id = 4") == [["4", None, "9.5"]]
    assert wh.describe("public", "people")["rowCount"] == 4


def test_append_without_header_is_positional(wh, csv_file):
    wh.import_csv([csv_file(PEOPLE)], "public", "people")
    wh.import_csv([csv_file("4,dan,1\n")], "public", "people", if_exists="append", header=False)
    assert rows(wh, "SELECT name FROM people WHERE id = 4") == [["dan"]]
    with pytest.raises(WarehouseError, match="2 columns but table public.people has 3"):
        wh.import_csv([csv_file("5,eve\n")], "public", "people", if_exists="append", header=False)


@pytest.mark.parametrize("mode", ["append", "truncate"])
def test_missing_table_is_created_like_civis(wh, csv_file, mode):
    # Civis: existingTableRows only says what to do when the table *already exists*;
    # R's write_civis documents `if_exists="append"` as "Create new table, append if already exists".
    result = wh.import_csv([csv_file(PEOPLE)], "public", "new_table", if_exists=mode)
    assert result.rows_inserted == 3
    assert wh.describe("public", "new_table")["rowCount"] == 3


@pytest.mark.parametrize("mode", ["append", "truncate", "upsert"])
def test_missing_table_raises_when_creation_is_off(wh, csv_file, mode):
    with pytest.raises(WarehouseError, match="Table public.nope does not exist"):
        wh.import_csv([csv_file(PEOPLE)], "public", "nope", if_exists=mode, create_missing=False,
                      primary_keys=["id"], last_modified_keys=["score"])
    assert not wh.table_exists("public", "nope")


def test_truncate_replaces_rows_keeps_definition(wh, csv_file):
    wh.import_csv([csv_file(PEOPLE)], "public", "people",
                  column_types=[{"name": "id", "sqlType": "BIGINT"}, {"name": "name", "sqlType": "VARCHAR(20)"},
                                {"name": "score", "sqlType": "DOUBLE PRECISION"}])
    table_id = wh.table_id("public", "people")
    result = wh.import_csv([csv_file("id,name,score\n10,zed,0\n")], "public", "people", if_exists="truncate")
    assert result.rows_inserted == 1
    assert rows(wh, "SELECT * FROM people") == [["10", "zed", "0.0"]]
    assert types(wh, "people")["name"] == "VARCHAR(20)"
    assert wh.table_id("public", "people") == table_id


def test_drop_replaces_table_with_new_columns(wh, csv_file):
    wh.import_csv([csv_file(PEOPLE)], "public", "people")
    table_id = wh.table_id("public", "people")
    wh.import_csv([csv_file("other\nx\ny\n")], "public", "people", if_exists="drop")
    assert types(wh, "people") == {"other": "VARCHAR(1)"}
    assert wh.describe("public", "people")["rowCount"] == 2
    assert wh.table_id("public", "people") == table_id


def test_invalid_mode_rejected(wh, csv_file):
    with pytest.raises(WarehouseError, match="existing table rows mode 'merge'"):
        wh.import_csv([csv_file(PEOPLE)], "public", "t", if_exists="merge")


# ---------------------------------------------------------------------- upsert
def test_upsert_without_last_modified_key(wh, csv_file):
    wh.import_csv([csv_file(PEOPLE)], "public", "people")
    src = csv_file("id,name,score\n2,bobby,9\n4,dan,4\n4,dan2,5\n")  # duplicate key: last one wins
    result = wh.import_csv([src], "public", "people", if_exists="upsert", primary_keys=["id"])
    assert (result.rows_inserted, result.rows_updated) == (2, 1)
    assert rows(wh, "SELECT id, name, score FROM people ORDER BY id") == [
        ["1", "alice", "1.5"], ["2", "bobby", "9.0"], ["3", "carol", "-7.0"], ["4", "dan2", "5.0"]]
    assert wh.describe("public", "people")["primaryKeys"] == ["id"]


def test_upsert_keeps_newer_row_by_last_modified_key(wh, csv_file):
    wh.import_csv([csv_file("id,v,updated\n1,a,2024-01-05\n2,b,2024-01-05\n")], "public", "t",
                  if_exists="upsert", primary_keys=["id"], last_modified_keys=["updated"])
    src = csv_file("id,v,updated\n1,older,2024-01-01\n2,newer,2024-01-09\n3,new,2024-01-01\n")
    result = wh.import_csv([src], "public", "t", if_exists="upsert", primary_keys=["id"],
                           last_modified_keys=["updated"])
    assert result.rows_updated == 1
    assert rows(wh, "SELECT id, v FROM t ORDER BY id") == [["1", "a"], ["2", "newer"], ["3", "new"]]
    described = wh.describe("public", "t")
    assert described["lastModifiedKeys"] == ["updated"]
    # keys are remembered: a later upsert may omit them
    wh.import_csv([csv_file("id,v,updated\n3,newest,2024-02-01\n")], "public", "t", if_exists="upsert")
    assert rows(wh, "SELECT v FROM t WHERE id = 3") == [["newest"]]


def test_upsert_with_composite_keys(wh, csv_file):
    wh.import_csv([csv_file("a,b,v,m1,m2\n1,1,x,1,1\n1,2,y,1,1\n")], "public", "t", if_exists="upsert",
                  primary_keys=["a", "b"], last_modified_keys=["m1", "m2"])
    wh.import_csv([csv_file("a,b,v,m1,m2\n1,1,new,1,2\n1,2,old,1,0\n")], "public", "t", if_exists="upsert",
                  primary_keys=["a", "b"], last_modified_keys=["m1", "m2"])
    assert rows(wh, "SELECT v FROM t ORDER BY b") == [["new"], ["y"]]


def test_upsert_needs_keys(wh, csv_file):
    wh.import_csv([csv_file(PEOPLE)], "public", "people")
    with pytest.raises(WarehouseError, match="needs primary keys"):
        wh.import_csv([csv_file(PEOPLE)], "public", "people", if_exists="upsert")
    with pytest.raises(WarehouseError, match="Primary key 'nope'"):
        wh.import_csv([csv_file(PEOPLE)], "public", "people", if_exists="upsert", primary_keys=["nope"])
    # the API spec: lastModifiedKeys is required when upserting into a table that does not exist
    with pytest.raises(WarehouseError, match="new table needs last modified keys"):
        wh.import_csv([csv_file(PEOPLE)], "public", "fresh", if_exists="upsert", primary_keys=["id"])


def test_upsert_null_primary_key_is_a_bad_row(wh, csv_file):
    wh.import_csv([csv_file(PEOPLE)], "public", "people")
    src = csv_file("id,name,score\n,ghost,1\n5,eve,2\n")
    with pytest.raises(WarehouseError, match="primary key column must not be NULL"):
        wh.import_csv([src], "public", "people", if_exists="upsert", primary_keys=["id"])
    result = wh.import_csv([src], "public", "people", if_exists="upsert", primary_keys=["id"], max_errors=1)
    assert (result.rows_inserted, result.rows_rejected) == (1, 1)


# ---------------------------------------------------------------------- atomicity and max_errors
def snapshot(wh: Warehouse, table: str):
    return rows(wh, f"SELECT * FROM {table} ORDER BY ALL"), types(wh, table)


@pytest.mark.parametrize("mode", ["append", "truncate", "drop", "upsert"])
def test_bad_value_fails_atomically(wh, csv_file, mode):
    wh.import_csv([csv_file(PEOPLE)], "public", "people")
    before = snapshot(wh, "people")
    src = csv_file("id,name,score\n7,gus,1\n8,hal,not-a-number\n")
    with pytest.raises(WarehouseError, match=r"Row 2 of .*column 'score'.*not-a-number"):
        wh.import_csv([src], "public", "people", if_exists=mode, primary_keys=["id"],
                      column_types=None if mode != "drop" else [
                          {"name": "id", "sqlType": "INTEGER"}, {"name": "name", "sqlType": "VARCHAR"},
                          {"name": "score", "sqlType": "DOUBLE PRECISION"}])
    assert snapshot(wh, "people") == before


def test_max_errors_skips_and_counts_bad_rows(wh, csv_file):
    wh.import_csv([csv_file(PEOPLE)], "public", "people")
    src = csv_file("id,name,score\n7,gus,1\n8,hal,oops\nnine,ivy,2\n10,jo,3\n")
    with pytest.raises(WarehouseError, match="2 rows rejected, more than max_errors = 1"):
        wh.import_csv([src], "public", "people", if_exists="append", max_errors=1)
    assert wh.describe("public", "people")["rowCount"] == 3
    result = wh.import_csv([src], "public", "people", if_exists="append", max_errors=2)
    assert (result.rows_inserted, result.rows_rejected) == (2, 2)
    assert rows(wh, "SELECT id FROM people WHERE id > 3 ORDER BY id") == [["7"], ["10"]]


def test_malformed_csv_row_fails_atomically_or_is_skipped(wh, csv_file):
    wh.import_csv([csv_file(PEOPLE)], "public", "people")
    src = csv_file("id,name,score\n7,gus,1\n8,hal,2,extra\n9,ivy\n10,jo,3\n")
    with pytest.raises(WarehouseError, match="CSV Error on Line: 3") as info:
        wh.import_csv([src], "public", "people", if_exists="append")
    assert "Possible fixes" not in str(info.value)
    assert wh.describe("public", "people")["rowCount"] == 3
    result = wh.import_csv([src], "public", "people", if_exists="append", max_errors=2)
    assert (result.rows_inserted, result.rows_rejected) == (2, 2)


def test_unknown_column_names_the_column(wh, csv_file):
    wh.import_csv([csv_file(PEOPLE)], "public", "people")
    with pytest.raises(WarehouseError, match="Column 'age' does not exist in table public.people"):
        wh.import_csv([csv_file("id,age\n1,30\n")], "public", "people", if_exists="append")
    assert wh.describe("public", "people")["rowCount"] == 3


def test_column_count_must_match_table_columns(wh, csv_file):
    with pytest.raises(WarehouseError, match="3 columns but 2 table columns"):
        wh.import_csv([csv_file(PEOPLE)], "public", "t", column_types=[{"name": "a"}, {"name": "b"}])


def test_duplicate_header_names_rejected(wh, csv_file):
    with pytest.raises(WarehouseError, match="Duplicate column name 'A'"):
        wh.import_csv([csv_file("a,A\n1,2\n")], "public", "t")


# ---------------------------------------------------------------------- sources: gzip, delimiters, several files
def test_gzip_source(wh, csv_file):
    result = wh.import_csv([csv_file(PEOPLE, gz=True)], "public", "people", compression="gzip")
    assert result.rows_inserted == 3
    with pytest.raises(WarehouseError, match="Cannot read source file"):
        wh.import_csv([csv_file(PEOPLE)], "public", "other", compression="gzip")


@pytest.mark.parametrize("delimiter,char", [("tab", "\t"), ("pipe", "|"), ("|", "|"), ("comma", ",")])
def test_delimiters(wh, csv_file, delimiter, char):
    src = csv_file(PEOPLE.replace(",", char).replace("alice", '"al,ice"'))
    wh.import_csv([src], "public", "people", delimiter=delimiter)
    assert rows(wh, "SELECT name FROM people WHERE id = 1") == [["al,ice"]]


def test_several_files_are_one_import(wh, csv_file):
    files = [csv_file(PEOPLE), csv_file("id,name,score\n4,dan,1\n", gz=False), csv_file("id,name,score\n")]
    result = wh.import_csv(files, "public", "people")
    assert result.rows_inserted == 4


def test_several_files_fail_together(wh, csv_file):
    files = [csv_file(PEOPLE), csv_file("id,name,score\n4,dan,bad\n")]
    with pytest.raises(WarehouseError, match=r"Row 1 of src1\.csv"):
        wh.import_csv(files, "public", "people", column_types=[
            {"name": "id", "sqlType": "INTEGER"}, {"name": "name", "sqlType": "VARCHAR"},
            {"name": "score", "sqlType": "DOUBLE PRECISION"}])
    assert not wh.table_exists("public", "people")
    # without declared types the column is detected as text and both files load
    assert wh.import_csv(files, "public", "people").rows_inserted == 4
    assert types(wh, "people")["score"] == "VARCHAR(4)"


def test_several_files_without_header(wh, csv_file):
    files = [csv_file("1,a\n2,b\n"), csv_file("3,c\n")]
    wh.import_csv(files, "public", "t", header=False,
                  column_types=[{"name": "n", "sqlType": "INTEGER"}, {"name": "s", "sqlType": "VARCHAR(1)"}])
    assert rows(wh, "SELECT n, s FROM t ORDER BY n") == [["1", "a"], ["2", "b"], ["3", "c"]]
    wh.import_csv(files, "public", "auto", header=False)
    assert types(wh, "auto") == {"column0": "INTEGER", "column1": "VARCHAR(1)"}


def test_several_files_must_share_the_header(wh, csv_file):
    with pytest.raises(WarehouseError, match="does not have the same header"):
        wh.import_csv([csv_file(PEOPLE), csv_file("id,nom,score\n4,x,1\n")], "public", "people")


def test_missing_and_empty_sources(wh, csv_file, tmp_path):
    with pytest.raises(WarehouseError, match="Source file not found: nope.csv"):
        wh.import_csv([str(tmp_path / "nope.csv")], "public", "t")
    with pytest.raises(WarehouseError, match="empty"):
        wh.import_csv([csv_file("")], "public", "t")
    with pytest.raises(WarehouseError, match="No source files"):
        wh.import_csv([], "public", "t")


def test_bom_crlf_and_trailing_blank_line(wh, tmp_path):
    path = tmp_path / "win.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b\r\n1,x\r\n2,y\r\n\r\n")
    result = wh.import_csv([str(path)], "public", "t")
    assert [c["name"] for c in result.columns] == ["a", "b"] and result.rows_inserted == 2


def test_escaped_quotes(wh, csv_file):
    wh.import_csv([csv_file('a,b\n1,"say \\"hi\\""\n')], "public", "t", escaped=True)
    assert rows(wh, "SELECT b FROM t") == [['say "hi"']]


# ---------------------------------------------------------------------- identifiers
@pytest.mark.parametrize("schema,table,bad", [
    ("public", "t; DROP TABLE x", "t; DROP TABLE x"), ("my schema", "t", "my schema"),
    ("public", "1abc", "1abc"), ("public", "", ""), ("_emulator_meta", "tables", "_emulator_meta"),
    ("public", 'a"b', 'a"b'),
])
def test_invalid_identifiers_are_rejected(wh, csv_file, schema, table, bad):
    with pytest.raises(WarehouseError, match="Invalid (schema|table) name") as info:
        wh.import_csv([csv_file(PEOPLE)], schema, table)
    assert repr(bad) in str(info.value)
    with pytest.raises(WarehouseError):
        wh.describe(schema, table)


def test_names_fold_to_lower_case_and_schemas_are_created(wh, csv_file):
    wh.import_csv([csv_file(PEOPLE)], "Staging", "People")
    assert wh.table_exists("staging", "people")
    assert [(t["schema"], t["name"]) for t in wh.list_tables("staging")] == [("staging", "people")]


def test_odd_column_names_are_quoted(wh, csv_file):
    wh.import_csv([csv_file('"first name","select","a""b"\nx,y,z\n')], "public", "t")
    assert list(types(wh, "t")) == ["first name", "select", 'a"b']


# ---------------------------------------------------------------------- query
def test_query_preview_and_count(wh):
    result = wh.query("SELECT range AS n, 'x' || range AS s FROM range(250) ORDER BY n DESC", preview_rows=10)
    assert isinstance(result, QueryResult)
    assert result.columns == [{"name": "n", "sqlType": "BIGINT"}, {"name": "s", "sqlType": "VARCHAR"}]
    assert result.row_count == 250
    assert result.rows[:2] == [["249", "x249"], ["248", "x248"]] and len(result.rows) == 10


def test_query_with_trailing_comment_and_empty_result(wh):
    result = wh.query("SELECT 1 AS a WHERE false -- nothing", preview_rows=5)
    assert (result.columns, result.rows, result.row_count) == ([{"name": "a", "sqlType": "INTEGER"}], [], 0)


def test_query_multiple_statements(wh):
    result = wh.query("CREATE TABLE s (a INT); INSERT INTO s VALUES (1), (2); SELECT sum(a) AS total FROM s;")
    assert result.rows == [["3"]]
    assert wh.table_exists("public", "s")
    assert wh.query("UPDATE s SET a = a + 1").row_count == 2
    assert wh.query("SHOW TABLES").row_count >= 1


def test_query_errors_are_atomic_and_use_the_database_message(wh):
    with pytest.raises(WarehouseError, match="Catalog Error.*missing") as info:
        wh.query("CREATE TABLE partial (a INT); SELECT * FROM missing")
    assert "LINE" not in str(info.value)
    assert not wh.table_exists("public", "partial")
    with pytest.raises(WarehouseError, match="Parser Error"):
        wh.query("SELEC 1")
    with pytest.raises(WarehouseError, match="empty"):
        wh.query("   ")


def test_query_values_render_as_text(wh):
    result = wh.query("SELECT true, NULL, DATE '2024-01-02', TIMESTAMP '2024-01-02 03:04:05', 1.25::DECIMAL(5,2)")
    assert result.rows == [["true", None, "2024-01-02", "2024-01-02 03:04:05", "1.25"]]


# ---------------------------------------------------------------------- export
def test_export_round_trip_is_byte_identical(wh, csv_file, tmp_path):
    text = ("id,name,score,day,flag\n1,alice,1.5,2024-01-01,true\n2,\"b,ob\",2.25,2024-01-02,false\n"
            "3,,-7.0,,\n")
    wh.import_csv([csv_file(text)], "public", "t")
    [path] = wh.export_csv("SELECT * FROM t ORDER BY id", tmp_path / "out")
    assert open(path, "rb").read() == text.encode()
    [path] = wh.export_csv("public.t", tmp_path / "out2")
    assert sorted(open(path).read().splitlines()) == sorted(text.splitlines())


def test_export_round_trip_pipe_without_header_gzip(wh, csv_file, tmp_path):
    text = "1|x\n2|y\n"
    wh.import_csv([csv_file(text, gz=True)], "public", "t", header=False, delimiter="pipe", compression="gzip")
    [path] = wh.export_csv("t", tmp_path / "out", header=False, delimiter="pipe", compression="gzip")
    assert path.endswith(".csv.gz")
    assert gzip.open(path).read() == text.encode()


def test_export_split_into_parts(wh, tmp_path):
    wh.query("CREATE TABLE big AS SELECT range AS id, 'name-' || range AS name FROM range(20000)")
    max_bytes = 40_000
    paths = wh.export_csv("SELECT * FROM big ORDER BY id", tmp_path / "parts", max_file_size_bytes=max_bytes)
    assert len(paths) > 5
    assert all(os.path.getsize(p) <= max_bytes for p in paths)
    exported = []
    for p in paths:
        lines = open(p).read().splitlines()
        assert lines[0] == "id,name"
        exported += lines[1:]
    assert exported == [f"{i},name-{i}" for i in range(20000)]


def test_export_split_gzip_and_empty(wh, tmp_path):
    wh.query("CREATE TABLE big AS SELECT range AS id FROM range(50000)")
    paths = wh.export_csv("big", tmp_path / "gz", compression="gzip", max_file_size_bytes=20_000)
    assert len(paths) > 1 and all(os.path.getsize(p) <= 20_000 for p in paths)
    ids = [line for p in paths for line in gzip.open(p).read().decode().splitlines()[1:]]
    assert ids == [str(i) for i in range(50000)]
    [empty] = wh.export_csv("SELECT * FROM big WHERE id < 0", tmp_path / "e", max_file_size_bytes=100)
    assert open(empty).read() == "id\n"


def test_export_sql_with_setup_statements(wh, tmp_path):
    [path] = wh.export_csv("CREATE TABLE tmp_x AS SELECT 42 AS v; SELECT v FROM tmp_x", tmp_path / "o")
    assert open(path).read() == "v\n42\n"


def test_export_errors(wh, tmp_path):
    with pytest.raises(WarehouseError, match="Table public.nope does not exist"):
        wh.export_csv("nope", tmp_path / "o")
    with pytest.raises(WarehouseError, match="must end with a SELECT"):
        wh.export_csv("CREATE TABLE q (a INT)", tmp_path / "o")
    with pytest.raises(WarehouseError, match="Unsupported compression"):
        wh.export_csv("SELECT 1", tmp_path / "o", compression="zip")


# ---------------------------------------------------------------------- table metadata
def test_describe_list_refresh_and_ids(wh, csv_file):
    wh.import_csv([csv_file(PEOPLE)], "public", "people")
    wh.query("CREATE SCHEMA s2; CREATE TABLE s2.other (a INT); CREATE VIEW v AS SELECT id FROM people")
    listing = wh.list_tables()
    assert [(t["schema"], t["name"], t["isView"], t["rowCount"]) for t in listing] == [
        ("public", "people", False, 3), ("public", "v", True, None), ("s2", "other", False, 0)]
    ids = {t["id"] for t in listing}
    assert len(ids) == 3
    people_id = wh.table_id("public", "people")
    assert wh.table_by_id(people_id) == ("public", "people")

    described = wh.describe("public", "people")
    assert described["id"] == people_id and described["rowCount"] == 3 and described["columnCount"] == 3
    assert described["sizeMb"] > 0
    assert described["columns"][1] == {"name": "name", "sqlType": "VARCHAR(5)", "civisDataType": "string",
                                       "order": 2, "nullCount": 0, "coverageCount": 3}
    assert wh.describe("public", "v")["isView"] is True

    before = described["lastRefresh"]
    time.sleep(0.002)
    refreshed = wh.refresh("public", "people")
    assert refreshed["lastRefresh"] > before
    assert refreshed["lastRefresh"].endswith("Z")


def test_drop_table_keeps_the_id(wh, csv_file):
    wh.import_csv([csv_file(PEOPLE)], "public", "people")
    table_id = wh.table_id("public", "people")
    assert wh.drop_table("public", "people") is True
    assert not wh.table_exists("public", "people")
    with pytest.raises(WarehouseError, match=f"Table {table_id} does not exist"):
        wh.table_by_id(table_id)
    assert wh.drop_table("public", "people", missing_ok=True) is False
    with pytest.raises(WarehouseError, match="does not exist"):
        wh.drop_table("public", "people")
    wh.import_csv([csv_file(PEOPLE)], "public", "people")
    assert wh.table_id("public", "people") == table_id
    with pytest.raises(WarehouseError, match="does not exist"):
        wh.refresh("public", "ghost")


def test_persistence_across_reopen(tmp_path, csv_file):
    path = tmp_path / "data" / "warehouse.duckdb"
    with Warehouse(str(path)) as first:
        first.import_csv([csv_file(PEOPLE)], "public", "people",
                         column_types=[{"name": "id", "sqlType": "INTEGER"}, {"name": "name", "sqlType": "VARCHAR(9)"},
                                       {"name": "score", "sqlType": "FLOAT"}])
        first.import_csv([csv_file("x\n1\n")], "other", "t")
        refreshed = first.refresh("public", "people")
        ids = (first.table_id("public", "people"), first.table_id("other", "t"))
    with Warehouse(str(path)) as second:
        assert (second.table_id("public", "people"), second.table_id("other", "t")) == ids
        again = second.describe("public", "people")
        assert again["lastRefresh"] == refreshed["lastRefresh"]
        assert again["columns"][1]["sqlType"] == "VARCHAR(9)"
        assert rows(second, "SELECT count(*) FROM people") == [["3"]]
    with pytest.raises(WarehouseError, match="closed"):
        second.query("SELECT 1")


# ---------------------------------------------------------------------- threads and memory
def test_concurrent_imports_from_threads(wh, csv_file):
    wh.import_csv([csv_file("id,v\n0,0\n")], "public", "shared")
    sources = [csv_file("id,v\n" + "".join(f"{t * 1000 + i},{i}\n" for i in range(200))) for t in range(8)]
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            wh.import_csv([sources[t]], "public", f"own_{t}")
            wh.import_csv([sources[t]], "public", "shared", if_exists="append")
            wh.query(f"SELECT count(*) FROM own_{t}")
            wh.describe("public", "shared")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert wh.describe("public", "shared")["rowCount"] == 1 + 8 * 200
    assert len({wh.table_id("public", f"own_{t}") for t in range(8)}) == 8


@pytest.mark.slow
def test_big_import_and_export_stream_with_flat_python_memory(tmp_path):
    src = tmp_path / "big.csv"
    line_count = 300_000
    with open(src, "w") as out:
        out.write("id,name,amount,created\n")
        for start in range(0, line_count, 50_000):
            out.write("".join(f"{i},customer number {i:08d} of the big import,{i * 0.25},"
                              f"2024-01-01 00:00:{i % 60:02d}\n"
                              for i in range(start, start + 50_000)))
    size = os.path.getsize(src)
    assert size > 20 * 1024 * 1024
    with Warehouse(str(tmp_path / "wh.duckdb")) as wh:
        tracemalloc.start()
        try:
            result = wh.import_csv([str(src)], "public", "big")
            import_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            paths = wh.export_csv("SELECT * FROM big ORDER BY id", tmp_path / "out",
                                  max_file_size_bytes=8 * 1024 * 1024)
            export_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert result.rows_inserted == line_count
        assert [c["sqlType"] for c in result.columns] == ["INTEGER", "VARCHAR(42)", "DOUBLE PRECISION",
                                                          "TIMESTAMP"]
        # Python-side memory stays tiny (DuckDB streams the file); the file is > 20 MB.
        assert import_peak < 2 * 1024 * 1024, import_peak
        assert export_peak < 2 * 1024 * 1024, export_peak
        assert len(paths) >= 3
        assert sum(os.path.getsize(p) for p in paths) > size * 0.9
