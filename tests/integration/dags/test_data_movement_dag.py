"""The data-movement example DAG in real Airflow (`airflow dags test`) against an emulator process:
upload, import, table sensor, query preview and export, in one DAG run (this session's, ``dag_run``)."""

from __future__ import annotations

import gzip
import re

import pytest

from tests.integration.conftest import SECRET

pytestmark = pytest.mark.slow


def test_civis_data_movement_end_to_end(dag_run, examples_emulator):
    run = dag_run("civis_data_movement")
    assert run.result.succeeded, run.result.output[-3000:]
    assert SECRET not in run.result.output
    table = examples_emulator.call("GET", "/databases/1/schemas/scratch/tables/civis_demo_sales")
    assert table["rowCount"] == 500
    assert [c["name"] for c in table["columns"]] == ["id", "region", "amount", "sold_on"]
    (source,) = run.home.glob("civis_data_movement/*/sales.csv")  # the DAG writes under TMPDIR (its home)
    exported = gzip.decompress((source.parent / "sales_export.csv.gz").read_bytes()).decode()
    assert sorted(exported.splitlines()[1:]) == sorted(source.read_text().splitlines()[1:])
    assert re.search(r"Imported 500 rows into scratch.civis_demo_sales", run.result.output)
    assert "[civis " in run.result.output
