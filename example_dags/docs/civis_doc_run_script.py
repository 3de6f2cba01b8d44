"""CivisRunScriptOperator: create a script inline and run it, or run an existing one with new arguments."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_civis.operators.scripts import CivisRunScriptOperator

with DAG(
    "civis_doc_run_script", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["civis"]
):
    # A Python 3 script created on Civis from this source, then run; the task waits in the triggerer.
    python_report = CivisRunScriptOperator(
        task_id="python_report",
        script_type="python3",
        script={
            "source": "import os\nprint('report for', os.environ['DAY'])",
            "params": [{"name": "DAY", "type": "string", "required": True}],
        },
        arguments={"DAY": "{{ ds }}"},  # templated: rendered when the task runs
        deferrable=True,
    )

    # A container script: dockerCommand runs in the image (in the emulator: in bash on your machine).
    container_step = CivisRunScriptOperator(
        task_id="container_step",
        script_type="containers",
        script={
            "dockerCommand": 'echo "step for $DAG_ID"',
            "dockerImageName": "civisanalytics/datascience-python",
            "params": [{"name": "DAG_ID", "type": "string"}],
        },
        arguments={"DAG_ID": "{{ dag.dag_id }}"},
        deferrable=False,  # wait in the worker, polling every poll_interval seconds
        poll_interval=5,
        timeout=600,  # cancel the run and fail the task after 10 minutes
    )

    # Run the script python_report created again, by id, with a new argument value.
    rerun_report = CivisRunScriptOperator(
        task_id="rerun_report",
        script_type="python3",
        script_id="{{ ti.xcom_pull(task_ids='python_report', key='job_id') }}",
        arguments={"DAY": "{{ macros.ds_add(ds, -1) }}"},
    )

    python_report >> container_step >> rerun_report
