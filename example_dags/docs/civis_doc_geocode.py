"""CivisGeocodeOperator: add latitude and longitude to the addresses in a table, into a new table."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_civis.operators.enhancements import CivisGeocodeOperator
from airflow_civis.operators.queries import CivisQueryOperator

DATABASE = "Civis Emulator Warehouse"  # your Civis database's name (or its id)

with DAG(
    "civis_doc_geocode", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["civis"]
):
    # The addresses to geocode (on Civis they would usually be loaded already).
    stores = CivisQueryOperator(
        task_id="stores",
        database=DATABASE,
        sql="""
            CREATE SCHEMA IF NOT EXISTS scratch;
            DROP TABLE IF EXISTS scratch.doc_geocode_stores;
            CREATE TABLE scratch.doc_geocode_stores AS SELECT * FROM (VALUES
                (1, '350 5th Ave', 'New York', 'NY', '10118', 'open'),
                (2, '233 S Wacker Dr', 'Chicago', 'IL', '60606', 'open'),
                (3, '600 Montgomery St', 'San Francisco', 'CA', '94111', 'closed')
            ) AS t(store_id, address, city, state, zip, status);
        """,
    )

    geocode = CivisGeocodeOperator(
        task_id="geocode",
        source_table="scratch.doc_geocode_stores",
        target_schema="scratch",
        target_table="doc_geocode_stores_{{ ds_nodash }}",  # templated
        multipart_key=["store_id"],
        limiting_sql="status = 'open'",  # only these rows
        output_address=True,  # also the parsed address columns
        existing_table_rows="drop",
        poll_interval=2,
    )

    stores >> geocode
