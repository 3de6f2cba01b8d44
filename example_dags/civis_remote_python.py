"""
civis_remote_python: a plain Python function that runs on Civis Platform, with ``@task.civis``.

1. ``create_sales`` makes a small table in the warehouse (a ``CivisQueryOperator``).
2. ``summarise_sales`` is an ``@task.civis`` function: it runs on Civis (a hidden python3 script named
   ``civis_remote_python.summarise_sales``) and reads the table with the official ``civis`` client, which finds
   the run's own ``CIVIS_API_KEY`` in its environment. Its ``print`` lines reach this task's log; what it returns
   comes back as the task's XCom (through a JSON value run output).
3. ``check_summary`` is a plain ``@task`` on the Airflow worker that checks the returned summary.

The function is sent as source: import what it needs inside it. Point the ``civis_default`` connection at
Civis Platform, or at the bundled emulator (``make demo``).
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_civis.operators.queries import CivisQueryOperator

DATABASE = os.environ.get("CIVIS_DEMO_DATABASE", "Civis Emulator Warehouse")
TABLE = "scratch.remote_python_sales"

with DAG(
    dag_id="civis_remote_python",
    description="Run a Python function on Civis with @task.civis and check what it returns",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["civis", "example"],
) as dag:
    create_sales = CivisQueryOperator(
        task_id="create_sales", database=DATABASE, poll_interval=1,
        sql=f"""
            CREATE SCHEMA IF NOT EXISTS scratch;
            DROP TABLE IF EXISTS {TABLE};
            CREATE TABLE {TABLE} (region VARCHAR, amount INTEGER);
            INSERT INTO {TABLE} VALUES ('north', 120), ('north', 80), ('south', 50), ('east', 75), ('east', 25);
        """,
    )

    @task.civis(poll_interval=1, requirements=["civis"])
    def summarise_sales(table: str, database: str) -> dict:
        import civis

        rows = civis.io.read_civis(table, database, use_pandas=False)  # header first, values as text
        totals: dict[str, int] = {}
        for region, amount in rows[1:]:
            totals[region] = totals.get(region, 0) + int(amount)
        print(f"read {len(rows) - 1} rows from {table}: {totals}")
        return {"rows": len(rows) - 1, "total": sum(totals.values()), "by_region": totals}

    @task
    def check_summary(summary: dict) -> None:
        assert summary == {
            "rows": 5, "total": 350, "by_region": {"north": 200, "south": 50, "east": 100},
        }, summary
        print("summary from Civis:", summary)

    summary = summarise_sales(TABLE, DATABASE)
    create_sales >> summary
    check_summary(summary)
