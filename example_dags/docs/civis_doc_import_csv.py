"""CivisImportCsvOperator: load CSV into a warehouse table, from a local file or from Civis files."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_civis.operators.files import CivisUploadFileOperator
from airflow_civis.operators.imports import CivisImportCsvOperator

DATABASE = "Civis Emulator Warehouse"  # your Civis database's name (or its id)
TABLE = "scratch.doc_import_orders"
WORKDIR = os.path.join(tempfile.gettempdir(), "civis_doc_import_csv")

with DAG(
    "civis_doc_import_csv", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["civis"]
):

    @task
    def write_csvs(run_id: str | None = None) -> dict[str, str]:
        """Two CSVs on the worker: the orders so far, and a later batch correcting order 3."""
        folder = os.path.join(WORKDIR, "".join(c if c.isalnum() else "_" for c in str(run_id)))
        os.makedirs(folder, exist_ok=True)
        paths = {"orders": os.path.join(folder, "orders.csv"), "changes": os.path.join(folder, "changes.csv")}
        with open(paths["orders"], "w") as fh:
            fh.write("id,customer,amount,updated_at\n")
            fh.writelines(f"{i},customer {i % 7},{i * 3.5:.2f},2026-01-01 00:00:00\n" for i in range(1, 51))
        with open(paths["changes"], "w") as fh:
            fh.write("id,customer,amount,updated_at\n3,customer 3,99.00,2026-01-02 00:00:00\n")
        return paths

    csvs = write_csvs()

    # 1. A local CSV: uploaded to Civis first, then imported. Each run starts the table afresh.
    load_orders = CivisImportCsvOperator(
        task_id="load_orders",
        table=TABLE,
        database=DATABASE,
        source_path="{{ ti.xcom_pull(task_ids='write_csvs')['orders'] }}",
        if_exists="drop",
        column_types=[
            {"name": "id", "sql_type": "INTEGER"},
            {"name": "customer", "sql_type": "VARCHAR(64)"},
            {"name": "amount", "sql_type": "DECIMAL(10,2)"},
            {"name": "updated_at", "sql_type": "TIMESTAMP"},
        ],
        deferrable=False,  # wait in the worker, polling every poll_interval seconds
        poll_interval=2,
    )

    # 2. Civis files (an upload here; often another system's export): upserted on the primary key.
    upload_changes = CivisUploadFileOperator(
        task_id="upload_changes", local_path="{{ ti.xcom_pull(task_ids='write_csvs')['changes'] }}"
    )
    apply_changes = CivisImportCsvOperator(
        task_id="apply_changes",
        table=TABLE,
        database=DATABASE,
        file_ids="{{ ti.xcom_pull(task_ids='upload_changes') }}",  # one id, or a list of ids
        if_exists="upsert",
        primary_keys=["id"],
        last_modified_keys=["updated_at"],
        max_errors=0,  # no row may be rejected
        deferrable=True,  # wait in the triggerer (the default; [civis] default_deferrable = False turns it off)
        poll_interval=2,
    )

    @task
    def report(loaded: dict, changed: dict) -> None:
        print(f"{loaded['schema']}.{loaded['table']}: {loaded['rows_loaded']} rows loaded, "
              f"then {changed['rows_loaded']} upserted")

    csvs >> [load_orders, upload_changes]
    [load_orders, upload_changes] >> apply_changes
    report(load_orders.output, apply_changes.output)
