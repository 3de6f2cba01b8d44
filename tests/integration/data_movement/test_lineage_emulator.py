"""OpenLineage facets of real runs on the emulator: CSV file -> table -> table (SQL) -> Civis file."""

from __future__ import annotations

import uuid

from airflow_civis.lineage import civis_table_asset
from airflow_civis.operators import CivisExportTableOperator, CivisImportCsvOperator
from airflow_civis.operators.queries import CivisQueryOperator
from tests.helpers import make_context

DB = "Civis Emulator Warehouse"
RUN = {"deferrable": False, "poll_interval": 0.05}


def pairs(datasets):
    return [(d.namespace, d.name) for d in datasets]


def test_import_query_export_lineage_chains(civis_conn, tmp_path):
    ns = "civis://" + civis_conn.base_url.split("://", 1)[1]
    raw, mart = f"scratch.raw_{uuid.uuid4().hex[:8]}", f"scratch.mart_{uuid.uuid4().hex[:8]}"
    source = tmp_path / "people.csv"
    source.write_text("id,name\n1,a\n2,b\n")

    load = CivisImportCsvOperator(task_id="load", table=raw, database=DB, source_path=str(source), **RUN)
    assert load.outlets == [civis_table_asset(DB, *raw.split("."))]
    load.execute(make_context())
    facets = load.get_openlineage_facets_on_complete(None)
    assert pairs(facets.inputs) == [("file", str(source))]
    assert pairs(facets.outputs) == [(ns, f"{DB}.{raw}")]

    sql = f"CREATE TABLE {mart} AS SELECT a.* FROM {raw} a JOIN {raw} b ON a.id = b.id"
    query = CivisQueryOperator(task_id="q", database=1, sql=sql, **RUN)  # by id: named by GET /databases
    query.execute(make_context())
    facets = query.get_openlineage_facets_on_complete(None)
    assert pairs(facets.inputs) == [(ns, f"{DB}.{raw}")] and pairs(facets.outputs) == [(ns, f"{DB}.{mart}")]
    assert facets.job_facets["sql"].query == sql

    out = tmp_path / "out.csv"
    export = CivisExportTableOperator(task_id="e", table=mart, database=DB, local_path=str(out), **RUN)
    result = export.execute(make_context())
    facets = export.get_openlineage_facets_on_complete(None)
    assert pairs(facets.inputs) == [(ns, f"{DB}.{mart}")]
    assert pairs(facets.outputs) == [(ns, f"files/{result['file_ids'][0]}"), ("file", str(out))]
    assert facets.run_facets["externalQuery"].externalQueryId == str(result["run_id"])
