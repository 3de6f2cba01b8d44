"""@task.civis: a Python function that runs on Civis Platform; what it returns is the task's XCom."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

with DAG(
    "civis_doc_task_civis", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["civis"]
):

    @task.civis(requirements=["pyyaml>=5"], memory=2048)  # a python3 script; image=... runs a container
    def parse_config(text: str) -> dict:
        import yaml  # import inside: only the function's source travels to Civis

        config = yaml.safe_load(text)
        print("parsed", sorted(config))  # reaches the Airflow task log through the run's log
        return config  # JSON: back as a JSON value run output (a Civis file above 1 MiB)

    @task.civis(serializer="cloudpickle", retries=2)  # any picklable arguments and result
    def next_run(config: dict, after: datetime) -> datetime:
        from datetime import timedelta

        return after + timedelta(days=config["every_days"])

    @task
    def report(when: datetime) -> None:
        print("next run:", when.isoformat())

    config = parse_config("every_days: 7\nowner: data-team\n")
    report(next_run(config, datetime(2026, 1, 1)))
