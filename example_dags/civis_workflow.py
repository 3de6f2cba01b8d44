"""
civis_workflow: run a Civis Workflow (Mistral v2 YAML whose tasks run Civis jobs) from Airflow.

1. ``create_workflow`` makes three container jobs and a workflow through the API: ``extract_a`` and
   ``extract_b`` run side by side, ``combine`` joins them (it starts once both succeeded). In real use the
   workflow already exists on Civis and you give its id.
2. ``run_workflow`` starts an execution, waits for it in the triggerer, and copies each task's run logs
   to the task log. Were it to fail and Airflow retry it, the *execution* is retried: only its failed
   tasks run again.
3. ``wait_for_execution`` is the sensor form: it waits for an execution something else started (here,
   the one ``run_workflow`` started).

Point the ``civis_default`` connection at Civis Platform, or at the bundled emulator (``make demo``).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_civis.operators.workflows import CivisRunWorkflowOperator
from airflow_civis.sensors.workflows import CivisWorkflowExecutionSensor

DEFINITION = """\
version: '2.0'
civis_workflow_example:
  input:
    - combine_job
  tasks:
    extract_a:
      action: civis.run_job
      input: {{job_id: {extract_a}}}
      on-success: [combine]
    extract_b:
      action: civis.run_job
      input: {{job_id: {extract_b}}}
      on-success: [combine]
    combine:
      join: all
      action: civis.run_job
      input:
        job_id: <% $.combine_job %>
"""

with DAG(
    dag_id="civis_workflow",
    description="Create a three-job Civis workflow (one job joins the other two), run it and wait for it",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["civis", "example"],
    default_args={"retries": 1},
) as dag:

    @task
    def create_workflow() -> dict[str, int]:
        """Three container jobs and the workflow that runs them, created through the Civis API."""
        from airflow_civis.hooks.civis import CivisHook

        hook = CivisHook()
        commands = {
            "extract_a": 'echo "extracted 120 rows from source A"',
            "extract_b": 'echo "extracted 80 rows from source B"',
            "combine": 'echo "combined A and B: 200 rows"',
        }
        jobs = {
            name: hook.create("/scripts/containers", json={
                "name": f"civis_workflow.{name}", "dockerCommand": command,
                "dockerImageName": "civisanalytics/datascience-python",
                "requiredResources": {"cpu": 256, "memory": 512},
            })["id"]
            for name, command in commands.items()
        }
        workflow = hook.create("/workflows", json={
            "name": "civis_workflow example",
            "definition": DEFINITION.format(extract_a=jobs["extract_a"], extract_b=jobs["extract_b"]),
        })
        return {"workflow_id": workflow["id"], "combine_job": jobs["combine"]}

    created = create_workflow()

    run_workflow = CivisRunWorkflowOperator(
        task_id="run_workflow",
        workflow_id="{{ ti.xcom_pull(task_ids='create_workflow')['workflow_id'] }}",
        input={"combine_job": "{{ ti.xcom_pull(task_ids='create_workflow')['combine_job'] }}"},
        poll_interval=1,
    )

    wait_for_execution = CivisWorkflowExecutionSensor(
        task_id="wait_for_execution",
        workflow_id="{{ ti.xcom_pull(task_ids='run_workflow', key='workflow_id') }}",
        execution_id="{{ ti.xcom_pull(task_ids='run_workflow', key='execution_id') }}",
        poke_interval=1,
    )

    created >> run_workflow >> wait_for_execution
