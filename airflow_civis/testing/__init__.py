"""Helpers for testing DAGs that use this provider: run them in real Airflow against the emulator."""

from airflow_civis.testing.dagrun import DagTestResult, airflow_env, civis_connection_env, run_dag_test

__all__ = ["DagTestResult", "airflow_env", "civis_connection_env", "run_dag_test"]
