"""CivisWorkflowExecutionSensor: wait for a Civis workflow execution that something else started."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_civis.sensors.workflows import CivisWorkflowExecutionSensor

with DAG(
    "civis_doc_workflow_sensor", schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False, tags=["civis"]
):
    CivisWorkflowExecutionSensor(
        task_id="wait_for_scheduled_workflow",
        workflow_id=12345,  # a workflow Civis Platform runs on its own schedule
        execution_id=None,  # None: its latest execution; or an id, e.g. from XCom
        poke_interval=60,
        timeout=6 * 3600,
    )
