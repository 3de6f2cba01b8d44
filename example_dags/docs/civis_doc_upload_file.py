"""CivisUploadFileOperator: stream a local file to a new Civis file; the file's id is the task's XCom."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_civis.operators.files import CivisUploadFileOperator

OUTBOX = os.path.join(tempfile.gettempdir(), "civis_doc_upload_file")

with DAG(
    "civis_doc_upload_file", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["civis"]
):

    @task
    def write_report(ds: str | None = None) -> str:
        """Stands in for whatever produces the file on the worker."""
        os.makedirs(OUTBOX, exist_ok=True)
        path = os.path.join(OUTBOX, f"visits_{ds}.csv")
        with open(path, "w") as fh:
            fh.write("day,page,visits\n")
            fh.writelines(f"{ds},/page/{i},{i * 7 % 50}\n" for i in range(100))
        return path

    upload = CivisUploadFileOperator(
        task_id="upload",
        local_path="{{ ti.xcom_pull(task_ids='write_report') }}",  # templated
        name="visits_{{ ds_nodash }}.csv",  # the Civis file's name (default: the local file's)
        expires_at=None,  # keep it; leave expires_at out for Civis' default (30 days)
        description="Daily page visits, uploaded by Airflow",
        multipart_threshold_mb=50,  # bigger files go up in parts of part_size_mb, max_workers at once
    )

    @task
    def announce(file_id: int) -> None:
        print(f"uploaded as Civis file {file_id}")

    write_report() >> upload
    announce(upload.output)
