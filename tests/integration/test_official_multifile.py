"""The official client's ``civis.io.civis_to_multifile_csv`` against the emulator: a SQL script with
``csvSettings.forceMultifile`` unloads headerless CSV parts and outputs a manifest first, which the
client reads from run output 0 and returns."""

from __future__ import annotations

import gzip
import io
import urllib.request
import uuid

import civis
import pytest

from tests.conftest import API_KEY

DB = "Civis Emulator Warehouse"
POLL = 0.1
ROWS = 30_000  # a few MiB of CSV, so max_file_size=1 (MiB) splits it into several parts


@pytest.fixture(scope="module")
def client(emulator):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CIVIS_API_KEY", API_KEY)
        mp.setenv("CIVIS_API_ENDPOINT", emulator.base_url + "/")
        yield civis.APIClient(force_refresh_api_spec=True, user_agent="official-multifile")


@pytest.fixture(scope="module")
def table(client) -> str:
    name = f"scratch.multi_{uuid.uuid4().hex[:8]}"
    sql = (f"CREATE SCHEMA IF NOT EXISTS scratch; CREATE TABLE {name} AS "
           f"SELECT range AS id, 'value, with a comma ' || range AS val, range * 0.5 AS half FROM range({ROWS})")
    civis.io.query_civis(sql, DB, client=client, polling_interval=POLL).result(timeout=120)
    return name


def _download(client, file_id: int) -> bytes:
    buf = io.BytesIO()
    civis.io.civis_to_file(file_id, buf, client=client)
    return buf.getvalue()


def test_manifest_lists_headerless_parts_that_add_up_to_the_table(client, table):
    sql = f"SELECT * FROM {table} ORDER BY id"
    manifest = civis.io.civis_to_multifile_csv(sql, DB, client=client, polling_interval=POLL, max_file_size=1)

    assert set(manifest) == {"query", "header", "delimiter", "compression", "unquoted", "entries"}
    assert manifest["query"] == sql
    assert manifest["header"] == ["id", "val", "half"]
    assert (manifest["delimiter"], manifest["compression"], manifest["unquoted"]) == ("|", "none", False)
    entries = manifest["entries"]
    assert len(entries) > 1, "max_file_size=1 (MiB) should split a few MiB into several parts"
    rows = []
    for entry in entries:
        assert set(entry) == {"id", "name", "size", "url", "url_signed"}
        assert entry["url"].startswith("s3://") and entry["url_signed"].startswith("http://127.0.0.1")
        data = _download(client, entry["id"])
        assert len(data) == entry["size"] <= 1024 * 1024
        rows.extend(data.decode().splitlines())
    assert len(rows) == ROWS  # no part repeats the header
    assert rows[0].split("|")[0] == "0" and rows[-1].split("|")[0] == str(ROWS - 1)
    assert [int(r.split("|")[0]) for r in rows] == list(range(ROWS))


def test_signed_urls_download_without_the_api_key_and_gzip_parts(client, table):
    manifest = civis.io.civis_to_multifile_csv(f"SELECT id FROM {table}", DB, client=client, polling_interval=POLL,
                                               compression="gzip", delimiter=",", include_header=False)
    assert "header" not in manifest
    assert (manifest["delimiter"], manifest["compression"]) == (",", "gzip")
    total = 0
    for entry in manifest["entries"]:
        with urllib.request.urlopen(entry["url_signed"], timeout=30) as response:  # no Authorization header
            total += len(gzip.decompress(response.read()).decode().splitlines())
    assert total == ROWS


def test_run_has_the_manifest_as_its_only_output(client, table):
    job = client.scripts.post_sql(name="multifile", remote_host_id=client.get_database_id(DB),
                                  credential_id=client.default_database_credential_id, hidden=True,
                                  sql=f"SELECT * FROM {table}", csv_settings={"force_multifile": True})
    run = client.scripts.post_sql_runs(job.id)
    done = civis.futures.CivisFuture(client.scripts.get_sql_runs, (job.id, run.id), polling_interval=POLL,
                                     client=client).result(timeout=120)
    outputs = client.jobs.list_runs_outputs(job.id, run.id)
    assert [o.object_id for o in outputs] == [done["output"][0]["file_id"]]
    assert outputs[0].name.endswith("manifest.json")
