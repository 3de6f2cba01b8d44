"""The data-movement example DAG in real Airflow (`airflow dags test`) against an emulator process:
upload, import, table sensor, query preview and export, in one DAG run."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
import requests

from airflow_civis.testing import run_dag_test
from tests.conftest import API_KEY

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def test_civis_data_movement_end_to_end(emulator_process, tmp_path):
    result = run_dag_test(
        "civis_data_movement", dags_folder=ROOT / "example_dags", home=tmp_path, base_url=emulator_process,
        api_key=API_KEY, extra_env={"TMPDIR": str(tmp_path)},
    )
    assert result.succeeded, result.output[-3000:]
    assert API_KEY not in result.output
    headers = {"Authorization": f"Bearer {API_KEY}"}
    table = requests.get(f"{emulator_process}/databases/1/schemas/scratch/tables/civis_demo_sales",
                         headers=headers, timeout=10).json()
    assert table["rowCount"] == 500
    assert [c["name"] for c in table["columns"]] == ["id", "region", "amount", "sold_on"]
    (source,) = tmp_path.glob("civis_data_movement/*/sales.csv")
    exported = gzip.decompress((source.parent / "sales_export.csv.gz").read_bytes()).decode()
    assert sorted(exported.splitlines()[1:]) == sorted(source.read_text().splitlines()[1:])
    assert re.search(r"Imported 500 rows into scratch.civis_demo_sales", result.output)
    assert "[civis " in result.output
