"""Queries (preview, export), table exports (multi-file), and the table sensor's three modes."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from airflow_civis.exceptions import CivisRunError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.operators import CivisExportTableOperator, CivisImportCsvOperator, CivisQueryOperator
from airflow_civis.sensors import CivisTableSensor
from tests.helpers import make_context

DB = "Civis Emulator Warehouse"
RUN = {"deferrable": False, "poll_interval": 0.05}


def load(tmp_path, text: str, table: str | None = None, **kwargs) -> str:
    table = table or f"scratch.q_{uuid.uuid4().hex[:10]}"
    src = tmp_path / f"{uuid.uuid4().hex[:6]}.csv"
    src.write_text(text)
    CivisImportCsvOperator(task_id="imp", table=table, database=DB, source_path=str(src), **RUN,
                           **kwargs).execute(make_context())
    return table


def test_query_preview_is_bounded_and_export_is_complete(civis_conn, tmp_path):
    rows = "".join(f"{i},name{i}\n" for i in range(250))
    table = load(tmp_path, "id,name\n" + rows)
    out = tmp_path / "result.csv"
    result = CivisQueryOperator(task_id="q", sql=f"SELECT * FROM {table} ORDER BY id", database=DB,
                                preview_rows=5, export_path=str(out), **RUN).execute(make_context())
    assert result["preview"] == {"columns": ["id", "name"], "rows": [[str(i), f"name{i}"] for i in range(5)],
                                 "row_count": 250}
    assert out.read_text() == "id,name\n" + rows
    assert result["file_ids"] and result["local_path"] == str(out)


def test_query_without_result_and_with_gzip_preview(civis_conn, tmp_path):
    table = load(tmp_path, "id\n1\n2\n")
    result = CivisQueryOperator(task_id="q", sql=f"DELETE FROM {table} WHERE id = 1", database=1,
                                **RUN).execute(make_context())
    assert result["file_ids"] == [] and result["preview"] is None
    result = CivisQueryOperator(task_id="q", sql=f"SELECT count(*) AS n FROM {table}", database=DB,
                                preview_rows=10, compression="gzip", **RUN).execute(make_context())
    assert result["preview"] == {"columns": ["n"], "rows": [["1"]], "row_count": 1}


def test_bad_sql_fails_with_the_warehouse_message(civis_conn):
    with pytest.raises(CivisRunError, match="(?i)no_such_table.*does not exist|does not exist.*no_such_table"):
        CivisQueryOperator(task_id="q", sql="SELECT * FROM scratch.no_such_table", database=DB,
                           **RUN).execute(make_context())


def test_query_validation():
    with pytest.raises(ValueError, match="'q'.*preview_rows must be at most 1000"):
        CivisQueryOperator(task_id="q", sql="select 1", database=1, preview_rows=5000)
    with pytest.raises(ValueError, match="'q'.*preview_rows must be an integer >= 0"):
        CivisQueryOperator(task_id="q", sql="select 1", database=1, preview_rows=-1)
    with pytest.raises(ValueError, match="'q'.*sql is required"):
        CivisQueryOperator(task_id="q", sql="", database=1)


def test_export_table_split_into_several_files(civis_conn, tmp_path):
    body = "".join(f"{i},{'x' * 40}{i}\n" for i in range(60_000))
    table = load(tmp_path, "id,payload\n" + body)
    out_dir = tmp_path / "parts"
    result = CivisExportTableOperator(task_id="e", table=table, database=DB, local_path=str(out_dir),
                                      max_file_size_mb=1, **RUN).execute(make_context())
    assert len(result["file_ids"]) >= 2 and len(result["local_paths"]) == len(result["file_ids"])
    lines = []
    for path in result["local_paths"]:
        text = open(path).read().splitlines(keepends=True)
        assert text[0] == "id,payload\n"  # every part has its header
        lines += text[1:]
        assert len(open(path, "rb").read()) <= 1024 * 1024
    assert "".join(lines) == body


def test_export_of_a_missing_table_fails_clearly(civis_conn, tmp_path):
    with pytest.raises(CivisRunError, match="(?i)does not exist"):
        CivisExportTableOperator(task_id="e", table="scratch.missing_tbl", database=DB,
                                 local_path=str(tmp_path / "x.csv"), **RUN).execute(make_context())
    with pytest.raises(ValueError, match="'e'.*exactly one of table"):
        CivisExportTableOperator(task_id="e", database=DB)


def test_table_sensor_modes(civis_conn, tmp_path):
    table = f"scratch.s_{uuid.uuid4().hex[:10]}"
    exists = CivisTableSensor(task_id="s", table=table, database=DB)
    assert exists.poke({}) is False
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    load(tmp_path, "id\n1\n2\n", table)
    done = exists.poke({})
    assert done.is_done and done.xcom_value["row_count"] == 2
    assert CivisTableSensor(task_id="s", table=table, database=DB, min_rows=3).poke({}) is False
    assert CivisTableSensor(task_id="s", table=table, database=1, min_rows=2).poke({}).is_done
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1)
    refreshed = CivisTableSensor(task_id="s", table=table, database=DB, refreshed_after=later.isoformat())
    assert refreshed.poke({}) is False
    assert CivisTableSensor(task_id="s", table=table, database=DB, refreshed_after=before.isoformat()).poke({}).is_done
    table_id = done.xcom_value["table_id"]
    CivisHook().call("POST", f"/tables/{table_id}/refresh")
    stamp = CivisHook().call("GET", f"/tables/{table_id}")["lastRefresh"]
    assert CivisTableSensor(task_id="s", table=table, database=DB,
                            refreshed_after=stamp).poke({}) is False  # strictly after


def test_table_sensor_validation():
    with pytest.raises(ValueError, match="'s'.*min_rows"):
        CivisTableSensor(task_id="s", table="a.b", database=1, min_rows=-1)
    with pytest.raises(ValueError, match="'s'.*refreshed_after must be an ISO-8601"):
        CivisTableSensor(task_id="s", table="a.b", database=1, refreshed_after="yesterday")
    with pytest.raises(ValueError, match="'s'.*table must be 'schema.table'"):
        CivisTableSensor(task_id="s", table="ab", database=1)


def test_tables_api_lists_columns_and_schemas(civis_conn, tmp_path):
    table = load(tmp_path, "id,name\n1,a\n")
    hook = CivisHook()
    schema, name = table.split(".")
    (found,) = hook.call("GET", "/tables", params={"database_id": 1, "schema": schema, "name": name})
    columns = hook.call("GET", f"/tables/{found['id']}/columns")
    assert [c["name"] for c in columns] == ["id", "name"]
    assert {"schema": "scratch"} in hook.call("GET", "/databases/1/schemas")


def test_table_sensor_defers_and_the_trigger_fires_when_rows_arrive(civis_conn, tmp_path):
    from airflow.exceptions import TaskDeferred

    from airflow_civis.triggers.table import CivisTableTrigger
    from tests.helpers import first_event

    table = f"scratch.d_{uuid.uuid4().hex[:10]}"
    sensor = CivisTableSensor(task_id="s", table=table, database=DB, min_rows=2, poke_interval=0.05,
                              deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(make_context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, CivisTableTrigger)
    assert CivisTableTrigger(**trigger.serialize()[1]).serialize() == trigger.serialize()
    load(tmp_path, "id\n1\n2\n", table)
    event = first_event(trigger)
    assert event.payload["status"] == "done"
    result = sensor.execute_complete(make_context(), event.payload)
    assert result["row_count"] == 2 and result["table"] == table.split(".")[1]


def test_table_trigger_times_out_at_its_deadline(civis_conn):
    import time

    from airflow_civis.triggers.table import CivisTableTrigger
    from tests.helpers import first_event

    trigger = CivisTableTrigger(database_id=1, schema="scratch", table="never_there", poll_interval=5,
                                deadline=time.time() + 0.3)
    event = first_event(trigger)
    assert event.payload["status"] == "timeout" and "does not exist" in event.payload["message"]
