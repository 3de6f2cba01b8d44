"""CivisMLTrainOperator: train CivisML models on a warehouse table; metrics land in XCom and the log."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_civis.operators.ml import CivisMLTrainOperator
from airflow_civis.operators.queries import CivisQueryOperator

DATABASE = "Civis Emulator Warehouse"  # your Civis database's name
TRAINING = "scratch.doc_ml_customers"

with DAG(
    "civis_doc_ml_train", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["civis"]
):
    # Training data: one row per customer, whether they renewed and how much they spend.
    training_data = CivisQueryOperator(
        task_id="training_data",
        database=DATABASE,
        sql=f"""
            CREATE SCHEMA IF NOT EXISTS scratch;
            DROP TABLE IF EXISTS {TRAINING};
            CREATE TABLE {TRAINING} AS
                SELECT i AS id, 20 + (i * 7) % 50 AS age, (i * 13) % 72 AS tenure_months,
                       CASE i % 3 WHEN 0 THEN 'basic' WHEN 1 THEN 'plus' ELSE 'pro' END AS plan,
                       10 + (i * 37) % 90 AS monthly_spend,
                       CASE WHEN ((i * 13) % 72 > 30) != (i % 11 = 0) THEN 1 ELSE 0 END AS renewed
                FROM range(1, 301) AS t(i);
        """,
    )

    # A classifier: will the customer renew? Out-of-sample scores are written to a table too.
    train_renewal = CivisMLTrainOperator(
        task_id="train_renewal",
        model_type="random_forest_classifier",
        dependent_variable="renewed",
        table_name=TRAINING,
        database_name=DATABASE,
        primary_key="id",
        excluded_columns=["monthly_spend"],  # not known for new customers
        parameters={"n_estimators": 50, "max_depth": 4},
        oos_scores_table="scratch.doc_ml_renewal_oos",
        oos_scores_if_exists="drop",
        model_name="renewal {{ ds }}",
    )

    # A regressor, its hyperparameters chosen by cross-validation over a grid; waits in the worker.
    train_spend = CivisMLTrainOperator(
        task_id="train_spend",
        model_type="gradient_boosting_regressor",
        dependent_variable="monthly_spend",
        table_name=TRAINING,
        database_name=DATABASE,
        primary_key="id",
        excluded_columns=["renewed"],
        cross_validation_parameters={"max_depth": [2, 3], "n_estimators": [50, 100]},
        sql_where="tenure_months > 0",  # train on these rows only
        deferrable=False,
        poll_interval=5,
        timeout=3600,
    )

    @task
    def compare(renewal: dict, spend: dict) -> None:
        print(f"renewal (job {renewal['job_id']}): accuracy {renewal['metrics']['accuracy']:.3f}")
        print(f"spend (job {spend['job_id']}): R^2 {spend['metrics']['r_squared']}")

    training_data >> [train_renewal, train_spend]
    compare(train_renewal.output, train_spend.output)
