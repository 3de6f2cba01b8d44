"""Creates (a job made before its run starts) are repeated after an ambiguous failure as often as the
connection's retry policy allows, without ever starting a run twice."""

from __future__ import annotations

import uuid

from airflow_civis.hooks.civis import CivisHook
from airflow_civis.hooks.files import CivisFileTransfer
from airflow_civis.operators import CivisImportCsvOperator
from airflow_civis.operators.scripts import CivisRunScriptOperator
from tests.helpers import make_context


def test_import_create_failing_ambiguously_after_preprocessing_is_repeated(conn, tmp_path):
    source = tmp_path / "data.csv"
    source.write_text("id,name\n1,a\n2,b\n")
    file_id = CivisFileTransfer(CivisHook()).upload(str(source))
    # Half of POST /imports/files/csv answer 502 (seed 1: the first one does, the second not), nothing else.
    conn.faults({"route": "/imports/files/csv", "methods": ["POST"], "status": 502, "rate": 0.5}, seed=1)
    table = f"scratch.t_{uuid.uuid4().hex[:10]}"
    task = CivisImportCsvOperator(task_id="imp", table=table, database="Civis Emulator Warehouse",
                                  file_ids=[file_id], deferrable=False, poll_interval=0.05,
                                  retry={"backoff_initial": 0.01})
    result = task.execute(make_context())
    assert result["rows_loaded"] == 2
    assert conn.call("GET", "/_emulator/faults")["total_injected"] >= 1  # the create did fail at least once
    started = conn.runs_started()
    assert all(count == 1 for count in started.values()), started  # one preprocessing run, one import run


def test_a_create_is_done_over_as_often_as_the_policy_allows(conn):
    """Six ambiguous failures of an inline script's create in a row (more than the 5 run-start POSTs),
    then success: the start is done over as the connection's policy (10 attempts) allows, never a run twice."""
    # seed 4: the first six of these POSTs draw under 0.9 (502), the seventh not.
    conn.faults({"route": "/scripts/python3", "methods": ["POST"], "status": 502, "rate": 0.9}, seed=4)
    task = CivisRunScriptOperator(task_id="t", script_type="python3", script={"source": "print('made it')"},
                                  deferrable=False, poll_interval=0.05, retry={"backoff_initial": 0.01})
    result = task.execute(make_context())
    assert result["state"] == "succeeded"
    assert conn.call("GET", "/_emulator/faults")["injected"] == {"status_502": 6}
    assert conn.runs_started()[str(result["job_id"])] == 1
