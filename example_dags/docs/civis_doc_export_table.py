"""CivisExportTableOperator: a table, or a query's result, to CSV files on Civis and on the worker."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_civis.operators.exports import CivisExportTableOperator
from airflow_civis.operators.queries import CivisQueryOperator

DATABASE = "Civis Emulator Warehouse"  # your Civis database's name (or its id)
TABLE = "scratch.doc_export_orders"
OUTBOX = os.path.join(tempfile.gettempdir(), "civis_doc_export_table")

with DAG(
    "civis_doc_export_table", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["civis"]
):
    # The table to export (on Civis it would usually exist already).
    make_table = CivisQueryOperator(
        task_id="make_table",
        database=DATABASE,
        sql=f"""
            CREATE SCHEMA IF NOT EXISTS scratch;
            DROP TABLE IF EXISTS {TABLE};
            CREATE TABLE {TABLE} AS
                SELECT i AS id, 'customer ' || (i % 40) AS customer, round(i * 1.25, 2) AS amount
                FROM range(1, 2001) AS t(i);
        """,
    )

    # A whole table, gzipped, to one local file.
    export_table = CivisExportTableOperator(
        task_id="export_table",
        table=TABLE,
        database=DATABASE,
        compression="gzip",
        local_path=OUTBOX + "/{{ ds_nodash }}/orders.csv.gz",  # templated
    )

    # A query's result, split into files of at most 1 MB (each with its header), into a directory.
    export_query = CivisExportTableOperator(
        task_id="export_query",
        sql=f"SELECT customer, sum(amount) AS total FROM {TABLE} GROUP BY customer ORDER BY customer",
        database=DATABASE,
        max_file_size_mb=1,
        delimiter="|",
        filename_prefix="totals_{{ ds_nodash }}",
        local_path=OUTBOX + "/{{ ds_nodash }}/totals",
        deferrable=False,
        poll_interval=2,
    )

    @task
    def report(table: dict, query: dict) -> None:
        print(f"table: Civis files {table['file_ids']} -> {table['local_paths']}")
        print(f"query: Civis files {query['file_ids']} -> {query['local_paths']}")

    make_table >> [export_table, export_query]
    report(export_table.output, export_query.output)
