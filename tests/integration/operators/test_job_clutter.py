"""Jobs the provider creates are hidden: a daily DAG does not fill the user's Civis job lists.

Each task below runs twice (two DAG runs) against the real emulator; the user's visible lists
(``GET /jobs``, ``GET /scripts``, ``GET /exports``, ``GET /queries``: hidden items only with
``hidden=true``, as the spec says) must not grow, while the runs still happened and their "Civis Run"
link still opens. ``hidden=False`` keeps the old behaviour.
"""

from __future__ import annotations

import uuid

import pytest
import requests
from airflow.sdk import DAG

from airflow_civis.hooks.civis import CivisHook
from airflow_civis.links import RUN_URL_XCOM_KEY
from airflow_civis.operators import CivisExportTableOperator, CivisImportCsvOperator, CivisQueryOperator
from airflow_civis.operators.scripts import CivisRunScriptOperator
from airflow_civis.resolve import resolve_target
from tests.conftest import API_KEY
from tests.helpers import make_context

DB = "Civis Emulator Warehouse"
RUN = {"deferrable": False, "poll_interval": 0.05}
LISTS = ("/jobs", "/scripts", "/exports", "/queries")


def visible(hook: CivisHook, path: str, **params) -> int:
    """How many items the user's list shows (its pagination total)."""
    response = hook.request("GET", path, params={"limit": 1, **params})
    return int(response.headers["X-Pagination-Total-Entries"])


def counts(hook: CivisHook, **params) -> dict[str, int]:
    return {path: visible(hook, path, **params) for path in LISTS}


def run_twice(make_task) -> list[dict]:
    """The same task in two DAG runs: each ``execute`` is one DAG run's try."""
    results = []
    for _ in range(2):
        context = make_context()
        results.append(make_task().execute(context))
        results[-1]["run_url"] = context["ti"].xcom[RUN_URL_XCOM_KEY]
    return results


def in_dag(dag_id: str, build):
    def make():
        with DAG(dag_id, schedule=None):
            return build()
    return make


def a_table(tmp_path) -> str:
    table = f"scratch.clutter_{uuid.uuid4().hex[:10]}"
    src = tmp_path / "rows.csv"
    src.write_text("id\n1\n2\n")
    CivisImportCsvOperator(task_id="imp", table=table, database=DB, source_path=str(src), **RUN).execute(
        make_context()
    )
    return table


TASKS = {
    "script": lambda table: CivisRunScriptOperator(
        task_id="script", script={"source": "print('daily')"}, **RUN),
    "query": lambda table: CivisQueryOperator(task_id="query", sql=f"SELECT * FROM {table}", database=DB, **RUN),
    "export": lambda table: CivisExportTableOperator(task_id="export", table=table, database=DB, **RUN),
}


@pytest.mark.parametrize("kind", TASKS)
def test_running_a_dag_task_twice_leaves_the_users_job_lists_as_they_were(civis_conn, tmp_path, kind):
    hook = CivisHook()
    table = a_table(tmp_path)
    before, hidden_before = counts(hook), counts(hook, hidden="true")
    results = run_twice(in_dag("clutter_daily", lambda: TASKS[kind](table)))
    assert counts(hook) == before, "the user's visible lists grew"
    assert counts(hook, hidden="true")["/jobs"] == hidden_before["/jobs"] + 2  # the two jobs exist, hidden
    for result in results:
        job = hook.get_job(result["job_id"])
        assert job["hidden"] is True and job["name"] == f"clutter_daily.{kind}"
        assert job["lastRun"]["id"] == result["run_id"] and job["lastRun"]["state"] == "succeeded"
        page = requests.get(result["run_url"], headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10)
        assert page.status_code == 200 and str(result["run_id"]) in page.text  # the "Civis Run" link opens


def test_hidden_false_keeps_the_job_visible(civis_conn):
    hook = CivisHook()
    before = visible(hook, "/scripts")
    result = in_dag("clutter_visible", lambda: CivisRunScriptOperator(
        task_id="script", script={"source": "print(1)"}, hidden=False, **RUN))().execute(make_context())
    assert visible(hook, "/scripts") == before + 1
    assert hook.get_job(result["job_id"])["hidden"] is False


def test_hidden_is_checked_at_parse_time():
    with pytest.raises(ValueError, match="'q'.*hidden"):
        CivisQueryOperator(task_id="q", sql="select 1", database=1, hidden="no")


def test_emulator_lists_hidden_queries_and_exports_only_when_asked(civis_conn):
    hook = CivisHook()
    target = resolve_target(hook, DB)
    database = target.database_id
    query = hook.call("POST", "/queries", json={"database": database, "sql": "SELECT 1", "previewRows": 1,
                                                "hidden": True})
    source = {"sql": "SELECT 1", "remoteHostId": database, "credentialId": target.credential_id}
    export = hook.call("POST", "/exports/files/csv", json={
        "name": "hidden export", "hidden": True, "source": source, "destination": {"filenamePrefix": "x"}})
    for path, created in (("/queries", query), ("/exports", export)):
        assert created["id"] not in [item["id"] for item in hook.paginate(path)]
        assert created["id"] in [item["id"] for item in hook.paginate(path, {"hidden": "true"})]
