"""A DAG whose Civis script fails, to check what an airflow user sees (error message, log tail)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_civis.operators.scripts import CivisRunScriptOperator

FAILING = """
import sys
for step in range(1, 6):
    print(f"step {step} of 5 ok")
print("could not reach the warehouse: connection reset", file=sys.stderr)
sys.exit(7)
"""

with DAG("civis_failing", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    CivisRunScriptOperator(
        task_id="doomed", script_type="python3", script={"source": FAILING}, poll_interval=0.5, retries=0
    )
