"""The official ``civis`` client, unmodified, against a running emulator: what a user would do
inside a PythonOperator (``civis.APIClient()`` from CIVIS_API_KEY / CIVIS_API_ENDPOINT).
A resource the emulator stops serving (501) fails these tests; none is skipped.
"""

from __future__ import annotations

import io
import json
import textwrap
import uuid
import warnings

import civis
import pytest

from civis_emulator.server import EmulatorServer

API_KEY = "official-client-key-2b7e"
POLL = 0.2


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with EmulatorServer(api_key=API_KEY, data_dir=str(tmp_path_factory.mktemp("official"))) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server):
    """``civis.APIClient()`` configured only through the environment, as inside a PythonOperator."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CIVIS_API_KEY", API_KEY)
        mp.setenv("CIVIS_API_ENDPOINT", server.base_url + "/")
        # force_refresh: download GET /endpoints from this emulator, not a cached spec.
        yield civis.APIClient(force_refresh_api_spec=True)


def _run_python(client, source: str, **kwargs):
    job = client.scripts.post_python3(name=f"official-{uuid.uuid4().hex[:6]}", source=source, **kwargs)
    future = civis.utils.run_job(job.id, client=client, polling_interval=POLL)
    return job, future


def test_client_builds_its_resources_from_get_endpoints(client):
    for resource in ("scripts", "jobs", "users", "files", "imports", "queries", "tables", "databases"):
        assert hasattr(client, resource)
    assert callable(client.scripts.post_python3)


def test_users_me(client):
    me = client.users.get_me()
    assert me.id and me.username
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # list_me is the deprecated alias
        assert client.users.list_me().id == me.id


def test_wrong_key_is_rejected(server, monkeypatch):
    monkeypatch.setenv("CIVIS_API_KEY", "not-the-key")
    monkeypatch.setenv("CIVIS_API_ENDPOINT", server.base_url + "/")
    with pytest.raises(Exception, match="401"):
        civis.APIClient()  # a new key: the spec is downloaded again, and refused


def test_python_script_run_with_logs(client):
    job, future = _run_python(client, "print('hello from the emulator')\n")
    run = future.result(timeout=120)
    assert run.state == "succeeded"
    assert future.job_id == job.id and future.run_id == run.id
    logs = client.scripts.list_python3_runs_logs(job.id, run.id)
    assert any("hello from the emulator" in line.message for line in logs)
    assert client.scripts.get_python3_runs(job.id, run.id).state == "succeeded"
    assert client.jobs.get_runs(job.id, run.id).state == "succeeded"


def test_python_script_run_via_post_runs_and_civis_future(client):
    job = client.scripts.post_python3(name="official-future", source="print(6 * 7)\n")
    run = client.scripts.post_python3_runs(job.id)
    future = civis.futures.CivisFuture(
        client.scripts.get_python3_runs, (job.id, run.id), client=client, polling_interval=POLL
    )
    assert future.result(timeout=120).state == "succeeded"
    assert any("42" in line.message for line in client.scripts.list_python3_runs_logs(job.id, run.id))


def test_python_script_outputs(client):
    source = textwrap.dedent(
        """
        import json, os, civis
        client = civis.APIClient()
        value = client.json_values.post(json.dumps({"rows": 3, "ok": True}), name="result")
        client.scripts.post_python3_runs_outputs(
            int(os.environ["CIVIS_JOB_ID"]), int(os.environ["CIVIS_RUN_ID"]),
            object_type="JSONValue", object_id=value.id,
        )
        """
    )
    job, future = _run_python(client, source)
    run = future.result(timeout=120)
    assert run.state == "succeeded", client.scripts.list_python3_runs_logs(job.id, run.id)
    outputs = client.scripts.list_python3_runs_outputs(job.id, run.id)
    (output,) = [o for o in outputs if o.name == "result"]
    assert output.object_type == "JSONValue"
    assert client.json_values.get(output.object_id).value == {"rows": 3, "ok": True}


def test_failed_script_raises_with_the_error(client):
    job, future = _run_python(client, "raise SystemExit('boom')\n")
    with pytest.raises(civis.base.CivisJobFailure):
        future.result(timeout=120)
    assert client.scripts.get_python3_runs(job.id, future.run_id).state == "failed"


def test_file_round_trip(client):
    payload = b"id,name\n1,alpha\n2,beta\n"
    file_id = civis.io.file_to_civis(io.BytesIO(payload), "round-trip.csv", client=client)
    buf = io.BytesIO()
    civis.io.civis_to_file(file_id, buf, client=client)
    assert buf.getvalue() == payload
    assert client.files.get(file_id).name == "round-trip.csv"


def _database(client):
    databases = client.databases.list()
    assert databases, "the emulator should expose its warehouse as a database"
    return databases[0].name


def test_csv_to_civis_then_read_civis(client, tmp_path):
    database = _database(client)
    table = f"scratch.official_{uuid.uuid4().hex[:8]}"
    path = tmp_path / "data.csv"
    path.write_text("id,name\n1,alpha\n2,beta\n")
    future = civis.io.csv_to_civis(
        str(path), database, table, client=client, existing_table_rows="drop", polling_interval=POLL
    )
    assert future.result(timeout=120).state == "succeeded"
    rows = civis.io.read_civis(table, database, client=client, use_pandas=False, polling_interval=POLL)
    assert rows[0] == ["id", "name"]
    assert sorted(rows[1:]) == [["1", "alpha"], ["2", "beta"]]


def test_query_civis(client):
    database = _database(client)
    future = civis.io.query_civis("SELECT 1 AS one", database, client=client, polling_interval=POLL)
    assert future.result(timeout=120).state == "succeeded"


def test_civis_to_csv(client, tmp_path):
    database = _database(client)
    out = tmp_path / "out.csv"
    future = civis.io.civis_to_csv(
        str(out), "SELECT 1 AS one, 'x' AS two", database, client=client, polling_interval=POLL
    )
    future.result(timeout=120)
    assert out.read_text().splitlines() == ["one,two", "1,x"]


def test_bad_request_gets_the_api_error_shape(client):
    # The official client raises CivisAPIError with the API's error body; the contract answers 400.
    with pytest.raises(civis.base.CivisAPIError) as info:
        client.scripts.post_python3(name="no source", source=None)  # `source` is required by the spec
    assert info.value.status_code == 400
    assert "source" in info.value.error_message


def test_contract_report_is_collected(server):
    """Hand this module's emulator report to the suite-wide tally (it is in-process, so the plugin
    would also find it on its own; collecting explicitly shows the subprocess path works too)."""
    from tests.contract_plugin import collect_contract_report

    snapshot = collect_contract_report(server.base_url, API_KEY)
    assert snapshot is not None and snapshot["responsesChecked"] > 0
    assert snapshot["violations"] == [], json.dumps(snapshot["violations"], indent=1)
