"""CivisTableSensor: wait until a warehouse table exists, holds enough rows, or was refreshed."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_civis.operators.imports import CivisImportCsvOperator
from airflow_civis.sensors.table import CivisTableSensor

DATABASE = "Civis Emulator Warehouse"  # your Civis database's name (or its id)
TABLE = "scratch.doc_sensor_events"

with DAG(
    "civis_doc_table_sensor", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["civis"]
):

    @task
    def vendor_file() -> str:
        path = os.path.join(tempfile.gettempdir(), "civis_doc_table_sensor_events.csv")
        with open(path, "w") as fh:
            fh.write("id,name\n")
            fh.writelines(f"{i},event {i}\n" for i in range(1, 1001))
        return path

    # Stands in for a load another system runs (a Civis import on a schedule, a vendor's sync...).
    vendor_load = CivisImportCsvOperator(
        task_id="vendor_load",
        table=TABLE,
        database=DATABASE,
        source_path="{{ ti.xcom_pull(task_ids='vendor_file') }}",
        if_exists="drop",
    )

    # Deferred: the triggerer checks the table every poke_interval seconds, no worker slot is held.
    wait_for_rows = CivisTableSensor(
        task_id="wait_for_rows",
        table=TABLE,
        database=DATABASE,
        min_rows=1000,
        deferrable=True,
        poke_interval=5,
        timeout=3600,  # fail after an hour
    )

    # In the worker, releasing its slot between checks: loaded or refreshed since this DAG run began.
    wait_for_refresh = CivisTableSensor(
        task_id="wait_for_refresh",
        table=TABLE,
        database=DATABASE,
        refreshed_after="{{ dag_run.start_date.isoformat() }}",  # templated; any ISO-8601 time
        deferrable=False,
        mode="reschedule",
        poke_interval=60,
        timeout=3600,
    )

    vendor_file() >> vendor_load >> [wait_for_rows, wait_for_refresh]
