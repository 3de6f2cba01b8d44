"""CivisRunJobOperator: run any existing Civis job (script, import, query, ...) by id and wait for it."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_civis.operators.jobs import CivisRunJobOperator
from airflow_civis.operators.scripts import CivisRunScriptOperator

with DAG(
    "civis_doc_run_job", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["civis"]
):
    # In real use the job already exists on Civis and you write its id: job_id=12345.
    # Here one is created first, so the example runs against an empty emulator too.
    make_job = CivisRunScriptOperator(
        task_id="make_job",
        script_type="python3",
        script={"source": "print('nightly refresh')"},
    )

    run_job = CivisRunJobOperator(
        task_id="run_job",
        job_id="{{ ti.xcom_pull(task_ids='make_job', key='job_id') }}",  # or a plain integer
        kind="job",  # generic /jobs/{id}/runs; or "python3", "import", "query", ... for that API
        retry={"max_attempts": 10, "max_total_seconds": 600},  # API call retries, not task retries
        retries=2,  # a retried task reattaches to the run its first try started
    )

    make_job >> run_job
