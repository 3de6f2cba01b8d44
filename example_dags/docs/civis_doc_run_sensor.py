"""CivisRunSensor: wait for a Civis run that something else started."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_civis.operators.scripts import CivisRunScriptOperator
from airflow_civis.sensors.run import CivisRunSensor

with DAG(
    "civis_doc_run_sensor", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["civis"]
):
    # Stands in for a job a Civis schedule (or another team) runs.
    upstream = CivisRunScriptOperator(
        task_id="upstream",
        script_type="containers",
        script={"dockerCommand": "sleep 3 && echo loaded"},
        deferrable=False,
        poll_interval=1,
        timeout=60,
    )

    # Wait for one particular run ...
    wait_for_run = CivisRunSensor(
        task_id="wait_for_run",
        job_id="{{ ti.xcom_pull(task_ids='upstream', key='job_id') }}",
        run_id="{{ ti.xcom_pull(task_ids='upstream', key='run_id') }}",
        kind="containers",
        poke_interval=30,
        timeout=3600,
    )

    # ... or for whatever run of the job is the latest (run_id omitted).
    wait_for_latest = CivisRunSensor(
        task_id="wait_for_latest",
        job_id="{{ ti.xcom_pull(task_ids='upstream', key='job_id') }}",
        deferrable=True,
        poke_interval=30,
    )

    upstream >> [wait_for_run, wait_for_latest]
