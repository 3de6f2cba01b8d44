"""A workflow whose middle task fails on its first execution: the Airflow retry retries the *execution*,
so only that task runs again, and the DAG ends green (tests/integration/dags/test_workflow_dag.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from airflow_civis.operators.workflows import CivisRunWorkflowOperator

DEFINITION = """\
version: '2.0'
flaky_flow:
  tasks:
    first:
      action: civis.run_job
      input: {{job_id: {first}}}
      on-success: [flaky]
    flaky:
      action: civis.run_job
      input: {{job_id: {flaky}}}
      on-success: [last]
    last:
      action: civis.run_job
      input: {{job_id: {last}}}
"""

with DAG("civis_workflow_retry", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:

    @task
    def create_workflow() -> int:
        import tempfile

        from airflow_civis.hooks.civis import CivisHook

        marker = f"{tempfile.mkdtemp(prefix='civis-flaky-')}/failed-once"
        commands = {
            "first": "echo first ok",
            "flaky": f'if [ -e {marker} ]; then echo "flaky ok on its second run"; '
                     f'else touch {marker}; echo "flaky: upstream not ready" >&2; exit 3; fi',
            "last": "echo last ok",
        }
        hook = CivisHook()
        jobs = {name: hook.create("/scripts/containers", json={
            "name": f"civis_workflow_retry.{name}", "dockerCommand": command,
            "requiredResources": {"cpu": 256, "memory": 512}})["id"] for name, command in commands.items()}
        return hook.create("/workflows", json={"name": "flaky", "definition": DEFINITION.format(**jobs)})["id"]

    create_workflow() >> CivisRunWorkflowOperator(
        task_id="run_workflow",
        workflow_id="{{ ti.xcom_pull(task_ids='create_workflow') }}",
        poll_interval=0.5,
        retries=1,
        retry_delay=timedelta(seconds=1),
    )
