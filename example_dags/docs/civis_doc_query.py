"""CivisQueryOperator: run SQL on a Civis database; keep a small preview in XCom, or the result as CSV."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_civis.operators.queries import CivisQueryOperator

DATABASE = "Civis Emulator Warehouse"  # your Civis database's name (or its id)
RESULTS = os.path.join(tempfile.gettempdir(), "civis_doc_query")

with DAG(
    "civis_doc_query", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["civis"]
):
    # Statements run in order, as one SQL script run; templated, so {{ ds }} is the run's date.
    build = CivisQueryOperator(
        task_id="build",
        database=DATABASE,
        sql="""
            CREATE SCHEMA IF NOT EXISTS scratch;
            DROP TABLE IF EXISTS scratch.doc_query_visits;
            CREATE TABLE scratch.doc_query_visits AS
                SELECT i AS id, CASE WHEN i % 3 = 0 THEN 'email' ELSE 'search' END AS channel,
                       DATE '{{ ds }}' - CAST(i % 7 AS INTEGER) AS day
                FROM range(1, 301) AS t(i);
        """,
    )

    # A SELECT: the first rows in XCom (preview_rows, at most 1000), the whole result as a local CSV.
    by_channel = CivisQueryOperator(
        task_id="by_channel",
        database=DATABASE,
        sql="SELECT channel, count(*) AS visits FROM scratch.doc_query_visits GROUP BY channel ORDER BY channel",
        preview_rows=10,
        export_path=RESULTS + "/by_channel_{{ ds_nodash }}.csv",  # templated
        deferrable=False,  # poll from the worker instead of the triggerer
        poll_interval=2,
    )

    @task
    def show(result: dict) -> dict:
        preview = result["preview"]  # {"columns": [...], "rows": [[...], ...], "row_count": n}
        for row in preview["rows"]:
            print(dict(zip(preview["columns"], row)))
        return {row[0]: int(row[1]) for row in preview["rows"]}

    build >> by_channel
    show(by_channel.output)
