"""Geocoding and CASS/NCOA through the API with the official client (``client.enhancements.post_*`` +
``post_*_runs`` + a ``CivisFuture``), vs ``CivisGeocodeOperator`` / ``CivisCassNcoaOperator``.

civis-python has no helper here, so the official side is what its users write: the same arguments our
operator takes, through the generated client, the run polled by ``CivisFuture``.
"""

from __future__ import annotations

import pandas as pd

from airflow_civis.operators.enhancements import CivisCassNcoaOperator, CivisGeocodeOperator
from tests.helpers import make_context
from tests.integration.differential.conftest import DB, POLL, RUN, civis

ADDRESSES = pd.DataFrame({"id": [1, 2], "address": ["350 fifth avenue", "1 main street"],
                          "city": ["New York", "Cambridge"], "state": ["NY", "MA"], "zip": ["10118", "02139"]})


def _wait(official, get_runs, job_id: int, run_id: int):
    return civis.futures.CivisFuture(get_runs, (job_id, run_id), client=official,
                                     polling_interval=POLL).result(timeout=120)


def test_geocode(official, differential, load_table):
    table = load_table(ADDRESSES, "addr")
    schema, name = table.split(".")
    host, credential = official.get_database_id(DB), official.default_database_credential_id

    def theirs():
        job = official.enhancements.post_geocode(
            name="geocode", remote_host_id=host, credential_id=credential, source_schema_and_table=table,
            target_schema=schema, target_table=f"{name}_theirs", country="us", provider="postgis",
            output_address=False, existing_table_rows="drop")
        run = official.enhancements.post_geocode_runs(job.id)
        return _wait(official, official.enhancements.get_geocode_runs, job.id, run.id)

    def ours():
        return CivisGeocodeOperator(task_id="geocode", source_table=table, target_schema=schema,
                                    target_table=f"{name}_ours", existing_table_rows="drop", **RUN,
                                    ).execute(make_context())

    their_run, result, _ = differential("geocode", theirs, ours)
    assert their_run.state == "succeeded" and result["state"] == "succeeded"


def test_cass_ncoa(official, differential, load_table):
    table = load_table(ADDRESSES, "addr_cass")
    schema, name = table.split(".")
    host, credential = official.get_database_id(DB), official.default_database_credential_id

    def theirs():
        job = official.enhancements.post_cass_ncoa(
            name="cass",
            source={"database_table": {"schema": schema, "table": name, "remote_host_id": host,
                                       "credential_id": credential, "multipart_key": ["id"]}},
            destination={"database_table": {"schema": schema, "table": f"{name}_theirs"}},
            perform_ncoa=False, output_level="all", use_default_column_mapping=True)
        run = official.enhancements.post_cass_ncoa_runs(job.id)
        return _wait(official, official.enhancements.get_cass_ncoa_runs, job.id, run.id)

    def ours():
        return CivisCassNcoaOperator(task_id="cass", source_table=table, destination_table=f"{table}_ours",
                                     multipart_key=["id"], **RUN).execute(make_context())

    their_run, result, _ = differential("cass_ncoa", theirs, ours)
    assert their_run.state == "succeeded" and result["state"] == "succeeded"
