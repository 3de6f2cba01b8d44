"""CivisCassNcoaOperator: standardise a table's mailing addresses (CASS), optionally with moves (NCOA)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_civis.operators.enhancements import CivisCassNcoaOperator
from airflow_civis.operators.queries import CivisQueryOperator

DATABASE = "Civis Emulator Warehouse"  # your Civis database's name (or its id)

with DAG(
    "civis_doc_cass_ncoa", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["civis"]
):
    # A mailing list with addresses as people typed them.
    mailing_list = CivisQueryOperator(
        task_id="mailing_list",
        database=DATABASE,
        sql="""
            CREATE SCHEMA IF NOT EXISTS scratch;
            DROP TABLE IF EXISTS scratch.doc_cass_members;
            CREATE TABLE scratch.doc_cass_members AS SELECT * FROM (VALUES
                (1, 'Ada Byron', '1600 pennsylvania avenue northwest', 'washington', 'dc', '20500'),
                (2, 'Alan Turing', '350 fifth avenue', 'new york', 'ny', '10118'),
                (3, 'Grace Hopper', '1 main street apartment 4', 'cambridge', 'ma', '02139')
            ) AS t(member_id, full_name, street, town, st, postcode);
        """,
    )

    standardise = CivisCassNcoaOperator(
        task_id="standardise",
        source_table="scratch.doc_cass_members",
        destination_table="scratch.doc_cass_members_{{ ds_nodash }}",  # templated
        # The table's column names are not the usual ones, so say which column is which.
        column_mapping={"name": "full_name", "address1": "street", "city": "town", "state": "st",
                        "zip": "postcode"},
        multipart_key=["member_id"],
        output_level="cass",  # "all" keeps every source column too
        perform_ncoa=False,  # True needs ncoa_credential_id (your NCOA licence's credential)
        poll_interval=2,
    )

    @task
    def report(result: dict) -> None:
        print(f"CASS job {result['job_id']} run {result['run_id']}: {result.get('summary')}")

    mailing_list >> standardise
    report(standardise.output)
