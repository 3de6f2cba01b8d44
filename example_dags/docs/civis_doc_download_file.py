"""CivisDownloadFileOperator: copy a Civis file (here: a query's result) to a local path on the worker."""

from __future__ import annotations

import csv
import os
import tempfile
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_civis.operators.files import CivisDownloadFileOperator
from airflow_civis.operators.queries import CivisQueryOperator

DATABASE = "Civis Emulator Warehouse"  # your Civis database's name (or its id)
INBOX = os.path.join(tempfile.gettempdir(), "civis_doc_download_file")

with DAG(
    "civis_doc_download_file", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["civis"]
):
    # A SQL run leaves its result on Civis as a CSV file; its id is in the task's XCom.
    regions = CivisQueryOperator(
        task_id="regions",
        database=DATABASE,
        sql="SELECT 'north' AS region, 120 AS customers UNION ALL SELECT 'south', 95 ORDER BY region",
    )

    download = CivisDownloadFileOperator(
        task_id="download",
        file_id="{{ ti.xcom_pull(task_ids='regions')['file_ids'][0] }}",  # templated
        local_path=INBOX + "/regions_{{ ds_nodash }}.csv",  # parent directories are created
    )

    @task
    def read_it(path: str) -> int:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
        print(f"{path}: {rows}")
        return len(rows)

    regions >> download
    read_it(download.output)  # the operator returns the local path
