"""Geocoding and CASS/NCOA through the operators against the emulator, checked row by row."""

from __future__ import annotations

import pandas as pd
import pytest

from airflow_civis.exceptions import CivisRunError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.operators.enhancements import CivisCassNcoaOperator, CivisGeocodeOperator
from airflow_civis.runs import RunRef
from tests.helpers import make_context

ADDRESSES = pd.DataFrame({
    "id": [1, 2, 3, 4, 5],
    "address": ["1600 pennsylvania avenue northwest", "350 fifth avenue", "233 south wacker drive suite 100",
                "nowhere at all", "1 main street"],
    "city": ["Washington", "New York", "Chicago", "Springfield", "Cambridge"],
    "state": ["DC", "NY", "IL", "IL", "MA"],
    "zip": ["20500", "10118", "60606", None, "02139"],
})


def test_geocode_zip_centroids_row_by_row(civis_conn, load_table, read_table):
    table = load_table(ADDRESSES, "addr")
    schema, name = table.split(".")
    result = CivisGeocodeOperator(task_id="geocode", source_table=table, target_schema=schema,
                                  target_table=f"{name}_geo", existing_table_rows="drop", deferrable=False,
                                  poll_interval=0.1).execute(make_context())
    out = read_table(f"{table}_geo", order_by="id")
    assert out["id"].tolist() == ["1", "2", "3", "4", "5"]
    assert out["geocode_precision"].tolist() == ["zip5_centroid"] * 3 + ["city_centroid", "zip5_centroid"]
    assert out["geocode_zip5"].tolist() == ["20500", "10118", "60606", "", "02139"]  # leading zero kept
    lat, lon = out["latitude"].astype(float), out["longitude"].astype(float)
    expected = [(38.9, -77.0), (40.7, -74.0), (41.9, -87.6), (39.8, -89.6), (42.4, -71.1)]
    for (want_lat, want_lon), got_lat, got_lon in zip(expected, lat, lon):
        assert abs(got_lat - want_lat) < 0.2 and abs(got_lon - want_lon) < 0.2
    summary = result["summary"]
    assert summary["zip5_centroid"] == 4 and summary["city_centroid"] == 1 and summary["unmatched"] == 0
    assert "no street or rooftop precision" in summary["precision_note"]
    logs = CivisHook().get_run_logs(RunRef("geocode", result["job_id"], result["run_id"]))
    assert any("ZIP-code centroid" in line["message"] for line in logs)


def test_cass_ncoa_standardises_row_by_row(civis_conn, load_table, read_table):
    table = load_table(ADDRESSES, "addr_cass")
    result = CivisCassNcoaOperator(task_id="cass", source_table=table, destination_table=f"{table}_cass",
                                   multipart_key=["id"], perform_ncoa=True, ncoa_credential_id=1,
                                   output_level="coalesced", deferrable=False, poll_interval=0.1,
                                   ).execute(make_context())
    out = read_table(f"{table}_cass", order_by="id")
    assert list(out.columns[:2]) == ["id", "cass_address1"]  # key columns + enhanced ones only
    assert out["cass_address1"].tolist() == ["1600 PENNSYLVANIA AVE NW", "350 FIFTH AVE", "233 S WACKER DR", "",
                                             "1 MAIN ST"]
    assert out["cass_address2"].tolist() == ["", "", "STE 100", "", ""]
    assert out["cass_zip5"].tolist() == ["20500", "10118", "60606", "", "02139"]
    assert out["cass_status"].tolist() == ["standardized", "standardized", "standardized", "unparseable",
                                           "standardized"]
    assert set(out["ncoa_status"]) == {"not_checked"}
    summary = result["summary"]
    assert summary["standardized"] == 4 and summary["unparseable"] == 1
    assert "no National Change of Address move data" in summary["ncoa"]
    assert "no delivery-point validation" in summary["precision_note"]


def test_cass_flags_a_zip_in_another_state(civis_conn, load_table, read_table):
    frame = pd.DataFrame({"id": [1], "street": ["10 elm street"], "town": ["Chicago"], "st": ["IL"],
                          "postcode": ["10118"]})
    table = load_table(frame, "addr_bad")
    CivisCassNcoaOperator(task_id="cass", source_table=table, destination_table=f"{table}_out",
                          column_mapping={"address1": "street", "city": "town", "state": "st", "zip": "postcode"},
                          deferrable=False, poll_interval=0.1).execute(make_context())
    row = read_table(f"{table}_out").iloc[0]
    assert row["cass_status"] == "zip_mismatch" and row["cass_note"] == "ZIP 10118 is in NY, not IL"
    assert row["street"] == "10 elm street"  # output_level all keeps the source columns


def test_geocode_without_address_columns_fails_clearly(civis_conn, load_table):
    table = load_table(pd.DataFrame({"id": [1], "name": ["x"]}), "noaddr")
    with pytest.raises(CivisRunError, match="needs a zip column"):
        CivisGeocodeOperator(task_id="g", source_table=table, deferrable=False, poll_interval=0.1).execute(
            make_context())


def test_enhancement_jobs_are_readable_and_other_types_answer_501(civis_conn):
    hook = CivisHook()
    created = hook.call("POST", "/enhancements/geocode", json={
        "name": "g", "remoteHostId": 1, "credentialId": 1, "sourceSchemaAndTable": "public.x"})
    got = hook.call("GET", f"/enhancements/geocode/{created['id']}")
    assert got["type"] == "Geocode" and got["country"] == "us" and got["existingTableRows"] == "fail"
    from airflow_civis.exceptions import CivisAPIError

    with pytest.raises(CivisAPIError) as info:
        hook.call("GET", "/enhancements/identity-resolution/1")
    assert info.value.status == 501


def test_enhancements_use_the_default_database_credential_not_the_first_default(civis_conn, load_table):
    """An account's newest default credential can be of another type (S3 here): the operators resolve the
    database and credential like every other operator (``type=Database``), by name or id."""
    hook = CivisHook()
    first_default = hook.call("GET", "/credentials", params={"default": "true"})
    assert [c["type"] for c in first_default] == ["Amazon Web Services S3"]
    database_default = hook.call("GET", "/credentials", params={"default": "true", "type": "Database"})
    assert [c["type"] for c in database_default] == ["Database"]
    table = load_table(ADDRESSES, "addr_db")
    schema, name = table.split(".")
    result = CivisGeocodeOperator(task_id="geocode", source_table=table, target_table=f"{name}_g",
                                  database="Civis Emulator Warehouse", deferrable=False,
                                  poll_interval=0.1).execute(make_context())
    job = hook.call("GET", f"/enhancements/geocode/{result['job_id']}")
    assert (job["remoteHostId"], job["credentialId"]) == (1, database_default[0]["id"])
    with pytest.warns(DeprecationWarning, match="remote_host_id is deprecated"):
        cass = CivisCassNcoaOperator(task_id="cass", source_table=table, destination_table=f"{table}_c",
                                     remote_host_id=1, deferrable=False, poll_interval=0.1)
    job = hook.call("GET", f"/enhancements/cass-ncoa/{cass.execute(make_context())['job_id']}")
    assert job["source"]["databaseTable"]["credentialId"] == database_default[0]["id"]


def test_a_credential_that_is_no_database_login_fails_the_run(civis_conn, load_table):
    table = load_table(ADDRESSES, "addr_s3")
    s3 = CivisHook().call("GET", "/credentials", params={"default": "true"})[0]["id"]
    with pytest.raises(CivisRunError, match="not a Database one"):
        CivisGeocodeOperator(task_id="g", source_table=table, database=1, credential_id=s3, deferrable=False,
                             poll_interval=0.1).execute(make_context())
