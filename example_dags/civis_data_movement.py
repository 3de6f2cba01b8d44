"""
civis_data_movement: files, a CSV import, a query, an export and a table sensor on Civis Platform.

1. ``make_csv`` writes a small CSV on the worker (generated: no data files to ship).
2. ``upload`` streams it to a Civis file; ``import_csv`` loads that file into ``scratch.civis_demo_sales``
   (``if_exists="drop"``: each run starts afresh), returning the table's id and rows loaded.
3. ``wait_for_table`` waits until the table holds every row; ``summarise`` runs SQL on it and keeps a
   small preview in XCom; ``export`` writes the table back out as gzip CSV next to the input.

Point the ``civis_default`` connection at Civis Platform, or at the bundled emulator (``make demo``);
``DATABASE`` names the warehouse (the emulator's is "Civis Emulator Warehouse").
"""

from __future__ import annotations

import csv
import os
import tempfile
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_civis.operators import (
    CivisExportTableOperator,
    CivisImportCsvOperator,
    CivisQueryOperator,
    CivisUploadFileOperator,
)
from airflow_civis.sensors import CivisTableSensor

DATABASE = os.environ.get("CIVIS_DEMO_DATABASE", "Civis Emulator Warehouse")
TABLE = "scratch.civis_demo_sales"
ROWS = 500
WORKDIR = os.path.join(tempfile.gettempdir(), "civis_data_movement")

with DAG(
    dag_id="civis_data_movement",
    start_date=datetime(2024, 1, 1),
    schedule=None,
    catchup=False,
    tags=["civis", "example"],
    default_args={"poll_interval": 1},
) as dag:

    @task
    def make_csv(run_id: str | None = None) -> str:
        directory = os.path.join(WORKDIR, "".join(c if c.isalnum() else "_" for c in str(run_id)))
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, "sales.csv")
        with open(path, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "region", "amount", "sold_on"])
            for i in range(ROWS):
                writer.writerow([i, ("north", "south", "east", "west")[i % 4], f"{(i * 37) % 1000 / 10:.1f}",
                                 f"2024-01-{i % 28 + 1:02d}"])
        return path

    csv_path = make_csv()

    upload = CivisUploadFileOperator(task_id="upload", local_path="{{ ti.xcom_pull('make_csv') }}")

    import_csv = CivisImportCsvOperator(
        task_id="import_csv", table=TABLE, database=DATABASE, file_ids="{{ ti.xcom_pull('upload') }}",
        if_exists="drop",
    )

    wait_for_table = CivisTableSensor(
        task_id="wait_for_table", table=TABLE, database=DATABASE, min_rows=ROWS, poke_interval=1, timeout=120,
    )

    summarise = CivisQueryOperator(
        task_id="summarise", database=DATABASE, preview_rows=10,
        sql=f"SELECT region, count(*) AS sales, sum(amount) AS total FROM {TABLE} GROUP BY region ORDER BY region",
    )

    export = CivisExportTableOperator(
        task_id="export", table=TABLE, database=DATABASE, compression="gzip",
        local_path="{{ ti.xcom_pull('make_csv') | replace('sales.csv', 'sales_export.csv.gz') }}",
    )

    csv_path >> upload >> import_csv >> wait_for_table >> [summarise, export]
