"""Civis Workflows in real Airflow (``airflow dags test``) against an emulator process: the example DAG,
and an Airflow retry that retries the failed execution (only its failed task runs again)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from airflow_civis.testing import run_dag_test
from tests.conftest import API_KEY

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def api(base_url: str, path: str):
    response = requests.get(base_url + path, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10)
    response.raise_for_status()
    return response.json()


def workflow_named(base_url: str, name: str) -> dict:
    return next(w for w in api(base_url, "/workflows") if w["name"] == name)


def test_example_workflow_dag_runs_three_jobs_one_joining_two(emulator_process, tmp_path):
    result = run_dag_test("civis_workflow", dags_folder=ROOT / "example_dags", home=tmp_path,
                          base_url=emulator_process, api_key=API_KEY)
    assert result.succeeded, result.output[-3000:]
    workflow = workflow_named(emulator_process, "civis_workflow example")
    executions = api(emulator_process, f"/workflows/{workflow['id']}/executions")
    assert [e["state"] for e in executions] == ["succeeded"]  # exactly one execution
    execution = api(emulator_process, f"/workflows/{workflow['id']}/executions/{executions[0]['id']}")
    tasks = {t["name"]: t for t in execution["tasks"]}
    assert set(tasks) == {"extract_a", "extract_b", "combine"}
    assert all(len(t["runs"]) == 1 and t["runs"][0]["state"] == "succeeded" for t in tasks.values())
    assert tasks["combine"]["runs"][0]["startedAt"] >= max(
        tasks[n]["runs"][0]["finishedAt"] for n in ("extract_a", "extract_b"))
    assert "combined A and B: 200 rows" in result.output  # a task run's log reached the Airflow task log
    assert "[civis workflow] task 'combine'" in result.output
    assert API_KEY not in result.output


def test_airflow_retry_retries_the_failed_execution_not_a_new_one(emulator_process, tmp_path):
    result = run_dag_test("civis_workflow_retry", dags_folder=ROOT / "tests" / "dags", home=tmp_path,
                          base_url=emulator_process, api_key=API_KEY)
    assert result.succeeded, result.output[-4000:]
    workflow = workflow_named(emulator_process, "flaky")
    executions = api(emulator_process, f"/workflows/{workflow['id']}/executions")
    assert len(executions) == 1 and executions[0]["state"] == "succeeded"  # retried, not started again
    execution = api(emulator_process, f"/workflows/{workflow['id']}/executions/{executions[0]['id']}")
    runs = {t["name"]: [r["state"] for r in t["runs"]] for t in execution["tasks"]}
    assert runs == {"first": ["succeeded"], "flaky": ["succeeded", "failed"], "last": ["succeeded"]}
    assert "Retrying the failed tasks of workflow" in result.output
    assert "flaky: upstream not ready" in result.output  # the failed try showed the task's log tail
