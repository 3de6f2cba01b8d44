"""
civis_pipeline: from a CSV to a scored, geocoded, standardised customer table on Civis Platform.

1. ``make_csv`` writes a small customer CSV on the worker (generated from formulas: no files to ship,
   no random numbers, the same every run); ``upload`` sends it to Civis, ``import_csv`` loads it.
2. ``transform`` splits it with SQL: customers whose renewal we know (training) and new customers.
3. ``train`` fits a CivisML random forest on the training table (metrics in XCom and the task log);
   ``score`` scores the new customers with that model into a table.
4. ``geocode`` adds latitude/longitude; ``standardise`` puts the addresses in USPS form (CASS).
5. ``count_rows`` counts every table; ``summary`` prints the model's metrics and the row counts.

Point the ``civis_default`` connection at Civis Platform, or at the bundled emulator (``make demo``);
``DATABASE`` names the warehouse (the emulator's is "Civis Emulator Warehouse"). In the emulator,
geocodes are ZIP-code centroids and CASS is USPS Pub 28 normalisation only (each run says so).
"""

from __future__ import annotations

import csv
import os
import tempfile
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_civis.operators.enhancements import CivisCassNcoaOperator, CivisGeocodeOperator
from airflow_civis.operators.files import CivisUploadFileOperator
from airflow_civis.operators.imports import CivisImportCsvOperator
from airflow_civis.operators.ml import CivisMLPredictOperator, CivisMLTrainOperator
from airflow_civis.operators.queries import CivisQueryOperator

DATABASE = os.environ.get("CIVIS_DEMO_DATABASE", "Civis Emulator Warehouse")
SCHEMA = "scratch"
CUSTOMERS, TRAINING, NEW, SCORES = (f"{SCHEMA}.pipeline_{t}" for t in ("customers", "training", "new", "scores"))
ROWS, KNOWN = 300, 240  # customers 0..239 have a known outcome; 240..299 are scored
WORKDIR = os.path.join(tempfile.gettempdir(), "civis_pipeline")
PLACES = [  # (street, city, state, zip): real places, so geocoding and CASS have something to find
    ("1600 pennsylvania avenue northwest", "Washington", "DC", "20500"),
    ("350 fifth avenue", "New York", "NY", "10118"),
    ("233 south wacker drive", "Chicago", "IL", "60606"),
    ("1 main street", "Cambridge", "MA", "02139"),
    ("400 broad street", "Seattle", "WA", "98109"),
    ("600 montgomery street", "San Francisco", "CA", "94111"),
]

with DAG(
    dag_id="civis_pipeline",
    description="Upload, import, transform, train, score, geocode and standardise on Civis, then summarise",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["civis", "example", "civisml"],
    default_args={"poll_interval": 1},
) as dag:

    @task
    def make_csv(run_id: str | None = None) -> str:
        directory = os.path.join(WORKDIR, "".join(c if c.isalnum() else "_" for c in str(run_id)))
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, "customers.csv")
        with open(path, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "age", "tenure_months", "monthly_spend", "plan", "address", "city", "state",
                             "zip", "renewed"])
            for i in range(ROWS):
                age, tenure, spend = 20 + (i * 7) % 50, (i * 13) % 72, 10 + (i * 37) % 90
                plan = ("basic", "plus", "pro")[i % 3]
                # Long, well-spent tenures renew; every 11th customer goes against the rule.
                renewed = int((tenure > 30) ^ (spend < 25) ^ (i % 11 == 0))
                street, city, state, zip_code = PLACES[i % len(PLACES)]
                writer.writerow([i, age, tenure, spend, plan, f"{10 + i} {street.split(' ', 1)[1]}", city, state,
                                 zip_code, renewed])
        return path

    upload = CivisUploadFileOperator(task_id="upload", local_path="{{ ti.xcom_pull('make_csv') }}")

    import_csv = CivisImportCsvOperator(
        task_id="import_csv", table=CUSTOMERS, database=DATABASE, file_ids="{{ ti.xcom_pull('upload') }}",
        if_exists="drop",
    )

    transform = CivisQueryOperator(
        task_id="transform", database=DATABASE,
        sql=f"""
            DROP TABLE IF EXISTS {TRAINING};
            CREATE TABLE {TRAINING} AS
                SELECT id, age, tenure_months, monthly_spend, plan, renewed FROM {CUSTOMERS} WHERE id < {KNOWN};
            DROP TABLE IF EXISTS {NEW};
            CREATE TABLE {NEW} AS
                SELECT id, age, tenure_months, monthly_spend, plan FROM {CUSTOMERS} WHERE id >= {KNOWN};
        """,
    )

    train = CivisMLTrainOperator(
        task_id="train", model_type="random_forest_classifier", dependent_variable="renewed",
        table_name=TRAINING, database_name=DATABASE, primary_key="id", parameters={"n_estimators": 100},
        oos_scores_table=f"{SCHEMA}.pipeline_oos_scores", oos_scores_if_exists="drop", model_name="renewal",
    )

    score = CivisMLPredictOperator(
        task_id="score", train_job_id="{{ ti.xcom_pull(task_ids='train')['job_id'] }}", table_name=NEW,
        database_name=DATABASE, output_table=SCORES, if_output_exists="drop",
    )

    geocode = CivisGeocodeOperator(
        task_id="geocode", source_table=CUSTOMERS, target_schema=SCHEMA, target_table="pipeline_geocoded",
        multipart_key=["id"], existing_table_rows="drop",
    )

    standardise = CivisCassNcoaOperator(
        task_id="standardise", source_table=CUSTOMERS, destination_table=f"{SCHEMA}.pipeline_cass",
        multipart_key=["id"], output_level="cass",
    )

    count_rows = CivisQueryOperator(
        task_id="count_rows", database=DATABASE, preview_rows=10,
        sql=" UNION ALL ".join(
            f"SELECT '{t}' AS table_name, count(*) AS row_count FROM {SCHEMA}.pipeline_{t}"
            for t in ("customers", "training", "new", "scores", "geocoded", "cass")
        ),
    )

    @task
    def summary(model: dict, scored: dict, counts: dict, geocoded: dict, cass: dict) -> dict:
        metrics = model.get("metrics") or {}
        print(f"Model: CivisML {model['model_type']} job {model['job_id']} run {model['run_id']}")
        for name in ("accuracy", "roc_auc", "log_loss", "brier_score"):
            if metrics.get(name) is not None:
                print(f"  {name:<12} {metrics[name]:.4f}")
        if metrics.get("confusion_matrix"):
            print(f"  confusion matrix (classes {metrics['class_names']}): {metrics['confusion_matrix']}")
        rows = {row[0]: int(row[1]) for row in (counts.get("preview") or {}).get("rows", [])}
        print("Row counts:")
        for table_name, count in rows.items():
            print(f"  {SCHEMA}.pipeline_{table_name:<10} {count}")
        print(f"Scored {scored['row_count']} new customers into {scored['output_table']}")
        for label, result in (("Geocoding", geocoded), ("CASS", cass)):
            note = (result.get("summary") or {}).get("precision_note")
            if note:
                print(f"{label}: {note}")
        return {"metrics": {k: metrics.get(k) for k in ("accuracy", "roc_auc")}, "row_counts": rows}

    csv_path = make_csv()
    csv_path >> upload >> import_csv >> [transform, geocode, standardise]
    transform >> train >> score
    [score, geocode, standardise] >> count_rows
    summary(train.output, score.output, count_rows.output, geocode.output, standardise.output)
