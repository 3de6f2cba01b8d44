"""CivisRunWorkflowOperator: start an execution of an existing Civis workflow and wait for it."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_civis.operators.workflows import CivisRunWorkflowOperator

with DAG(
    "civis_doc_run_workflow", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["civis"]
):
    CivisRunWorkflowOperator(
        task_id="nightly_refresh",
        workflow_id=12345,  # or "{{ var.value.refresh_workflow_id }}"
        input={"run_date": "{{ ds }}"},  # the workflow's `input` values, rendered per DAG run
        included_tasks=None,  # or ["load", "report"]: run only these tasks
        retry_strategy="retry_execution",  # an Airflow retry re-runs only the failed tasks
        retries=2,
        retry_delay=timedelta(minutes=5),
        timeout=3 * 3600,  # then the execution is cancelled
    )
