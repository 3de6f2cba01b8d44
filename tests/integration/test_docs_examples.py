"""docs/operators/*.md: one page per operator and sensor, each showing an example DAG that parses."""

from __future__ import annotations

from pathlib import Path

import pytest

import airflow_civis.operators
import airflow_civis.sensors

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "docs" / "operators"
EXAMPLES = ROOT / "example_dags" / "docs"
PAGE_EXAMPLE = {
    "run-script.md": "civis_doc_run_script.py",
    "run-job.md": "civis_doc_run_job.py",
    "run-sensor.md": "civis_doc_run_sensor.py",
}


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


@pytest.mark.parametrize(("page", "example"), sorted(PAGE_EXAMPLE.items()))
def test_page_shows_its_example_file_verbatim(page, example):
    """The snippet on the page is the file the DagBag test parses, so it cannot drift."""
    text = (PAGES / page).read_text()
    assert f"```python\n{(EXAMPLES / example).read_text()}```" in text
