"""docs/operators/*.md: one page per operator and sensor, each showing an example DAG that parses; a few
of the examples run for real in Airflow against an emulator process."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

import airflow_civis.operators
import airflow_civis.sensors
from airflow_civis.testing import run_dag_test
from tests.conftest import API_KEY

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "docs" / "operators"
EXAMPLES = ROOT / "example_dags" / "docs"
PAGE_EXAMPLE = {
    "cass-ncoa.md": "civis_doc_cass_ncoa.py",
    "download-file.md": "civis_doc_download_file.py",
    "export-table.md": "civis_doc_export_table.py",
    "geocode.md": "civis_doc_geocode.py",
    "import-csv.md": "civis_doc_import_csv.py",
    "job-event-trigger.md": "civis_doc_job_event_trigger.py",
    "ml-predict.md": "civis_doc_ml_predict.py",
    "ml-train.md": "civis_doc_ml_train.py",
    "query.md": "civis_doc_query.py",
    "run-job.md": "civis_doc_run_job.py",
    "run-script.md": "civis_doc_run_script.py",
    "run-sensor.md": "civis_doc_run_sensor.py",
    "run-workflow.md": "civis_doc_run_workflow.py",
    "table-sensor.md": "civis_doc_table_sensor.py",
    "task-civis.md": "civis_doc_task_civis.py",
    "upload-file.md": "civis_doc_upload_file.py",
    "workflow-sensor.md": "civis_doc_workflow_sensor.py",
}
#: Run for real by test_doc_examples_run_in_airflow: together upload, import, query, export and CivisML.
RUN_FOR_REAL = ("civis_doc_import_csv", "civis_doc_export_table", "civis_doc_ml_predict")
SECTIONS = ("## Arguments", "## XCom", "## Failure modes", "## Example")
HEAVY_MODULES = ("sklearn", "pandas", "numpy", "duckdb", "fastapi", "uvicorn", "httpx")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.models import DagBag

    return DagBag(dag_folder=str(EXAMPLES))


def test_examples_import_without_errors(dagbag):
    assert not dagbag.import_errors, dagbag.import_errors
    assert set(dagbag.dag_ids) == {path.removesuffix(".py") for path in PAGE_EXAMPLE.values()}


def test_every_operator_and_sensor_has_a_page():
    classes = [*airflow_civis.operators.__all__, *airflow_civis.sensors.__all__]
    titles = {page.read_text().splitlines()[0].removeprefix("# ") for page in PAGES.glob("*.md")}
    assert set(classes) <= titles


def test_every_page_has_its_sections_and_an_example():
    assert {page.name for page in PAGES.glob("*.md")} == set(PAGE_EXAMPLE)
    for page in PAGES.glob("*.md"):
        text = page.read_text()
        missing = [section for section in SECTIONS if f"\n{section}\n" not in text]
        assert not missing, f"{page.name} lacks {missing}"


@pytest.mark.parametrize(("page", "example"), sorted(PAGE_EXAMPLE.items()))
def test_page_shows_its_example_file_verbatim(page, example):
    """The snippet on the page is the file the DagBag test parses, so it cannot drift."""
    text = (PAGES / page).read_text()
    assert f"```python\n{(EXAMPLES / example).read_text()}```" in text


def test_importing_operators_stays_cheap():
    """A DAG file importing the operators and sensors must not pull in the emulator's heavy libraries
    (httpx counts only if Airflow's own task SDK did not already import it)."""
    code = (
        "import json, sys\n"
        "from airflow.sdk import BaseOperator, BaseSensorOperator\n"
        "before = set(sys.modules)\n"
        "import airflow_civis.operators, airflow_civis.sensors\n"
        f"heavy = {HEAVY_MODULES!r}\n"
        "print(json.dumps({'after': [m for m in heavy if m in sys.modules],\n"
        "                  'new': [m for m in heavy if m in sys.modules and m not in before]}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded["new"] == []
    assert not set(loaded["after"]) - {"httpx"}, loaded


# -- a few examples for real: airflow dags test against one emulator process --------------------------
def _table_rows(base_url: str, table: str) -> int:
    response = requests.get(f"{base_url}/databases/1/schemas/scratch/tables/{table}",
                            headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10)
    response.raise_for_status()
    return response.json()["rowCount"]


@pytest.mark.slow
def test_doc_examples_run_in_airflow(tmp_path):
    """Upload + import (with upsert), query + export (split, gzip), query + CivisML train + predict: three
    doc examples at once (each its own AIRFLOW_HOME), the rest are parse-checked above."""
    from civis_emulator.process import start_emulator_process, stop_emulator_process

    proc, base_url = start_emulator_process(API_KEY, data_dir=str(tmp_path / "emulator"))
    try:
        def run(dag_id: str):
            return run_dag_test(dag_id, dags_folder=EXAMPLES, home=tmp_path / dag_id, base_url=base_url,
                                api_key=API_KEY, extra_env={"TMPDIR": str(tmp_path)})

        with ThreadPoolExecutor(len(RUN_FOR_REAL)) as pool:
            results = dict(zip(RUN_FOR_REAL, pool.map(run, RUN_FOR_REAL)))
        for dag_id, result in results.items():
            assert result.succeeded, f"{dag_id}:\n{result.output[-4000:]}"
            assert API_KEY not in result.output
        rows = {t: _table_rows(base_url, t) for t in
                ("doc_import_orders", "doc_export_orders", "doc_predict_known", "doc_predict_scores")}
    finally:
        stop_emulator_process(proc)
    assert rows == {"doc_import_orders": 50, "doc_export_orders": 2000, "doc_predict_known": 240,
                    "doc_predict_scores": 60}
    imported = results["civis_doc_import_csv"].output
    assert "50 rows loaded, then 1 upserted" in imported
    exported = results["civis_doc_export_table"].output
    assert "orders.csv.gz" in exported and "totals" in exported
    assert list((tmp_path / "civis_doc_export_table").rglob("orders.csv.gz"))
    assert "CivisML sparse_logistic validation metrics" in results["civis_doc_ml_predict"].output
