"""``civis.io.read_civis`` / ``civis_to_csv`` / ``civis_to_multifile_csv`` vs ``CivisExportTableOperator`` /
``CivisQueryOperator``: a table or a query's result as CSV, downloaded."""

from __future__ import annotations

import uuid

import pytest

from airflow_civis.operators.exports import CivisExportTableOperator
from airflow_civis.operators.queries import CivisQueryOperator
from tests.helpers import make_context
from tests.integration.differential.conftest import DB, POLL, RUN, civis

SQL = "SELECT 1 AS one, 'x' AS two"


@pytest.fixture
def table(official) -> str:
    name = f"scratch.diff_{uuid.uuid4().hex[:8]}"
    sql = (f"CREATE SCHEMA IF NOT EXISTS scratch; "
           f"CREATE TABLE {name} AS SELECT range AS id, 'v' || range AS val FROM range(50)")
    civis.io.query_civis(sql, DB, client=official, polling_interval=POLL).result(timeout=120)
    return name


def _rows(path) -> list[str]:
    return path.read_text().splitlines()


def test_civis_to_csv_vs_query_operator(official, differential, tmp_path):
    theirs_path, ours_path = tmp_path / "theirs.csv", tmp_path / "ours.csv"

    def theirs():
        civis.io.civis_to_csv(str(theirs_path), SQL, DB, client=official, polling_interval=POLL).result(timeout=120)

    def ours():
        return CivisQueryOperator(task_id="query", sql=SQL, database=DB, export_path=str(ours_path),
                                  **RUN).execute(make_context())

    differential("civis_to_csv", theirs, ours)
    assert _rows(theirs_path) == _rows(ours_path) == ["one,two", "1,x"]


def test_read_civis_vs_export_operator(official, differential, table, tmp_path):
    ours_path = tmp_path / "ours.csv"

    def theirs():
        return civis.io.read_civis(table, DB, client=official, use_pandas=False, polling_interval=POLL)

    def ours():
        return CivisExportTableOperator(task_id="export", table=table, database=DB, local_path=str(ours_path),
                                        **RUN).execute(make_context())

    rows, _, _ = differential("read_civis", theirs, ours)
    assert len(rows) == 51 and len(_rows(ours_path)) == 51


def test_civis_to_multifile_csv_vs_export_operator(official, differential, table, tmp_path):
    sql = f"SELECT * FROM {table}"

    def theirs():
        return civis.io.civis_to_multifile_csv(sql, DB, client=official, polling_interval=POLL)

    def ours():
        return CivisExportTableOperator(task_id="export", sql=sql, database=DB, max_file_size_mb=1,
                                        local_path=str(tmp_path / "parts"), **RUN).execute(make_context())

    manifest, result, _ = differential("civis_to_multifile_csv", theirs, ours)
    assert manifest["entries"] and result["file_ids"]
