"""Stop the emulator and start a new one on the same data directory: jobs, runs, files and tables survive."""

from __future__ import annotations

import json

import requests

from civis_emulator.server import EmulatorServer
from tests.helpers import make_context

KEY = "restart-test-key-0a9d"


def use(server: EmulatorServer, monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CIVIS_DEFAULT", json.dumps(
        {"conn_type": "civis", "host": server.base_url, "password": KEY, "extra": {"emulator": True}}))


def get(server: EmulatorServer, path: str, **params):
    response = requests.get(server.base_url + path, params=params, timeout=10,
                            headers={"Authorization": f"Bearer {KEY}"})
    response.raise_for_status()
    return response


def test_restart_with_data_dir_keeps_jobs_runs_files_and_tables(tmp_path, monkeypatch):
    from airflow_civis.operators.files import CivisUploadFileOperator
    from airflow_civis.operators.queries import CivisQueryOperator
    from airflow_civis.operators.scripts import CivisRunScriptOperator

    data = tmp_path / "data"
    local = tmp_path / "people.csv"
    local.write_text("name,age\nada,36\ngrace,45\n")
    with EmulatorServer(api_key=KEY, data_dir=str(data)) as first:
        use(first, monkeypatch)
        script = CivisRunScriptOperator(task_id="s", script={"source": "print('kept log line')"},
                                        deferrable=False, poll_interval=0.1).execute(make_context())
        file_id = CivisUploadFileOperator(task_id="u", local_path=str(local), name="people.csv").execute(
            make_context())
        CivisQueryOperator(task_id="q", database=1, deferrable=False, poll_interval=0.1,
                           sql="CREATE SCHEMA IF NOT EXISTS keep; "
                               "CREATE TABLE keep.people AS SELECT 'ada' AS name, 36 AS age").execute(make_context())
        tables_before = get(first, "/tables", schema="keep").json()
    assert tables_before

    with EmulatorServer(api_key=KEY, data_dir=str(data)) as second:
        job = get(second, f"/jobs/{script['job_id']}").json()
        assert job["lastRun"]["id"] == script["run_id"] and job["lastRun"]["state"] == "succeeded"
        logs = get(second, f"/jobs/{script['job_id']}/runs/{script['run_id']}/logs").json()
        assert any("kept log line" in line["message"] for line in logs)
        assert get(second, f"/files/{file_id}").json()["name"] == "people.csv"
        assert get(second, "/tables", schema="keep").json() == tables_before
        table = get(second, f"/tables/{tables_before[0]['id']}").json()
        assert [c["name"] for c in table["columns"]] == ["name", "age"]
