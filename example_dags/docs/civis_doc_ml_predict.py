"""CivisMLPredictOperator: score a table with a CivisML model trained earlier in the DAG (or elsewhere)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_civis.operators.ml import CivisMLPredictOperator, CivisMLTrainOperator
from airflow_civis.operators.queries import CivisQueryOperator

DATABASE = "Civis Emulator Warehouse"  # your Civis database's name
SCHEMA = "scratch"

with DAG(
    "civis_doc_ml_predict", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["civis"]
):
    # Customers whose renewal we know (to train on), and new ones (to score).
    prepare = CivisQueryOperator(
        task_id="prepare",
        database=DATABASE,
        sql=f"""
            CREATE SCHEMA IF NOT EXISTS scratch;
            DROP TABLE IF EXISTS {SCHEMA}.doc_predict_known;
            CREATE TABLE {SCHEMA}.doc_predict_known AS
                SELECT i AS id, (i * 13) % 72 AS tenure_months, 10 + (i * 37) % 90 AS monthly_spend,
                       CASE WHEN (i * 13) % 72 > 30 THEN 1 ELSE 0 END AS renewed
                FROM range(1, 241) AS t(i);
            DROP TABLE IF EXISTS {SCHEMA}.doc_predict_new;
            CREATE TABLE {SCHEMA}.doc_predict_new AS
                SELECT i AS id, (i * 13) % 72 AS tenure_months, 10 + (i * 37) % 90 AS monthly_spend
                FROM range(241, 301) AS t(i);
        """,
    )

    train = CivisMLTrainOperator(
        task_id="train",
        model_type="sparse_logistic",
        dependent_variable="renewed",
        table_name=f"{SCHEMA}.doc_predict_known",
        database_name=DATABASE,
        primary_key="id",
        model_name="renewal",
        poll_interval=2,
    )

    # The model: the training task's job (from XCom); its latest run unless train_run_id is given.
    score = CivisMLPredictOperator(
        task_id="score",
        train_job_id="{{ ti.xcom_pull(task_ids='train')['job_id'] }}",
        train_run_id="{{ ti.xcom_pull(task_ids='train')['run_id'] }}",
        table_name=f"{SCHEMA}.doc_predict_new",
        database_name=DATABASE,
        output_table=f"{SCHEMA}.doc_predict_scores",  # primary_key defaults to the training one (id)
        if_output_exists="drop",
        poll_interval=2,
    )

    # The scores are an ordinary table: read them with SQL.
    likely_to_leave = CivisQueryOperator(
        task_id="likely_to_leave",
        database=DATABASE,
        sql=f"SELECT count(*) AS customers FROM {SCHEMA}.doc_predict_scores WHERE renewed_1 < 0.5",
        preview_rows=1,
        poll_interval=2,
    )

    prepare >> train >> score >> likely_to_leave
