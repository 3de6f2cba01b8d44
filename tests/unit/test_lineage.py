"""Lineage and assets without a server: SQL table extraction (both parsers), asset URIs and their
normaliser, outlets declared at parse time, a DAG scheduled on a Civis table, and the OpenLineage
provider's own extractor and console transport reading an operator's facets."""

from __future__ import annotations

import json
import logging
import sys
import textwrap
from types import SimpleNamespace

import pytest
from airflow.sdk import Asset

from airflow_civis import get_provider_info, lineage
from airflow_civis.lineage import civis_table_asset, sql_tables, sql_tables_regex, sql_write_outlets
from airflow_civis.operators import CivisExportTableOperator, CivisImportCsvOperator
from airflow_civis.operators.enhancements import CivisGeocodeOperator
from airflow_civis.operators.ml import CivisMLPredictOperator, CivisMLTrainOperator
from airflow_civis.operators.queries import CivisQueryOperator

DB = "Civis Emulator Warehouse"
DB_URI = "civis://Civis%20Emulator%20Warehouse"

# (sql, reads, writes): what both parsers must agree on. Unqualified tables are in "public".
SQL_CASES = [
    ("SELECT * FROM sales.orders o JOIN Sales.Customers c ON o.cid = c.id",
     [(None, "sales", "orders"), (None, "sales", "customers")], []),
    ("INSERT INTO mart.daily SELECT day, count(*) FROM raw.events GROUP BY 1",
     [(None, "raw", "events")], [(None, "mart", "daily")]),
    ("CREATE TABLE scratch.t AS SELECT * FROM users -- FROM commented.out\n",
     [(None, "public", "users")], [(None, "scratch", "t")]),
    ("WITH recent AS (SELECT * FROM raw.events WHERE note <> 'FROM fake.table') SELECT * FROM recent",
     [(None, "raw", "events")], []),
    ('SELECT EXTRACT(year FROM created_at) FROM "Raw"."Events"', [(None, "raw", "events")], []),
]


@pytest.mark.parametrize("sql, reads, writes", SQL_CASES)
def test_regex_parser_finds_tables_read_and_written(sql, reads, writes):
    assert sql_tables_regex(sql) == (reads, writes)


@pytest.mark.parametrize("sql, reads, writes", SQL_CASES)
def test_openlineage_sql_parser_agrees_when_installed(sql, reads, writes):
    pytest.importorskip("openlineage_sql", reason="the OpenLineage provider (with openlineage-sql) is not installed")
    found_reads, found_writes, parser = sql_tables(sql)
    assert parser == ("regex" if sql.startswith("WITH") else "openlineage-sql")  # it finds nothing there
    assert sorted(found_reads) == sorted(reads) and found_writes == writes


def test_sql_tables_falls_back_to_the_regex_without_openlineage_sql(monkeypatch):
    monkeypatch.setitem(sys.modules, "openlineage_sql", None)  # import raises ImportError
    assert sql_tables("INSERT INTO a.b SELECT * FROM c.d") == ([(None, "c", "d")], [(None, "a", "b")], "regex")


def test_temporary_tables_are_not_outlets():
    sql = "CREATE TEMP TABLE staging AS SELECT * FROM raw.x; INSERT INTO mart.y SELECT * FROM staging"
    assert sql_write_outlets(sql) == ["mart.y"]
    assert sql_write_outlets("{{ var.value.sql }}") == [] and sql_write_outlets("queries/load.sql") == []


# -- assets ------------------------------------------------------------------------------------------
def test_asset_uri_encodes_the_database_and_folds_identifiers():
    asset = civis_table_asset(DB, "Sales", "Orders")
    assert asset.uri == asset.name == f"{DB_URI}/sales/orders"
    # hand-written URIs go through the registered normaliser: same URI, case folded
    assert Asset(uri=f"{DB_URI}/SALES/orders/").uri == asset.uri
    with pytest.raises(ValueError, match=r"civis://<database>/<schema>/<table>"):
        Asset(uri="civis://db/only_schema")
    with pytest.raises(ValueError, match="non-templated"):
        civis_table_asset("{{ params.db }}", "s", "t")


def test_provider_registers_the_civis_uri_normaliser():
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    handler = "airflow_civis.lineage.sanitize_uri"
    assert {"schemes": ["civis"], "handler": handler} in get_provider_info()["asset-uris"]
    assert ProvidersManagerTaskRuntime().asset_uri_handlers["civis"] is lineage.sanitize_uri


def test_operators_declare_static_tables_as_outlets():
    orders = civis_table_asset(DB, "sales", "orders")
    def imp(table, database):
        return CivisImportCsvOperator(task_id="i", table=table, database=database, source_path="x.csv")

    assert imp("sales.orders", DB).outlets == [orders]
    # templated table, database by id or templated: unknown at parse time, so no outlet
    assert imp("sales.{{ ds_nodash }}", DB).outlets == [] and imp("sales.orders", "{{ params.db }}").outlets == []
    assert imp("sales.orders", 7).outlets == [] and imp("sales.orders", "7").outlets == []
    query = CivisQueryOperator(task_id="q", database=DB, sql="INSERT INTO sales.orders SELECT * FROM raw.o")
    assert query.outlets == [orders]
    assert CivisQueryOperator(task_id="q", database=DB, sql="SELECT * FROM sales.orders").outlets == []
    train = CivisMLTrainOperator(task_id="t", model_type="sparse_logistic", dependent_variable="y",
                                 table_name="sales.orders", database_name=DB, oos_scores_table="ml.oos")
    assert train.outlets == [civis_table_asset(DB, "ml", "oos")]
    predict = CivisMLPredictOperator(task_id="p", train_job_id=1, table_name="sales.orders", database_name=DB,
                                     output_table="ml.scores")
    assert predict.outlets == [civis_table_asset(DB, "ml", "scores")]
    assert CivisExportTableOperator(task_id="e", table="sales.orders", database=DB).outlets == []  # writes files
    assert CivisGeocodeOperator(task_id="g", source_table="a.b", target_table="c").outlets == []  # database by id


def test_a_dag_scheduled_on_a_civis_table_parses(tmp_path):
    from airflow.dag_processing.dagbag import DagBag

    (tmp_path / "assets_dag.py").write_text(textwrap.dedent(f"""
        from datetime import datetime
        from airflow.sdk import DAG
        from airflow_civis.lineage import civis_table_asset
        from airflow_civis.operators import CivisImportCsvOperator

        with DAG("load_orders", schedule=None, start_date=datetime(2026, 1, 1)):
            CivisImportCsvOperator(task_id="load", table="sales.orders", database={DB!r}, source_path="o.csv")

        with DAG("report", schedule=[civis_table_asset({DB!r}, "sales", "orders")], start_date=datetime(2026, 1, 1)):
            pass
    """))
    bag = DagBag(dag_folder=str(tmp_path))
    assert bag.import_errors == {}
    produced = bag.dags["load_orders"].get_task("load").outlets
    consumed = list(bag.dags["report"].timetable.asset_condition.objects)
    assert produced == consumed == [civis_table_asset(DB, "sales", "orders")]
    # and both survive serialization, as the DAG processor stores them
    from airflow.serialization.serialized_objects import DagSerialization

    for dag_id in ("load_orders", "report"):
        assert f"{DB_URI}/sales/orders" in json.dumps(DagSerialization.to_dict(bag.dags[dag_id]))


# -- OpenLineage ---------------------------------------------------------------------------------------
class FakeHook:
    settings = SimpleNamespace(base_url="https://api.civisanalytics.com")

    def paginate(self, path, params=None):
        assert path == "/databases"
        return iter([{"id": 3, "name": "redshift-general"}])


def finished(op, result):
    """The operator as it is after a successful run: its hook and its result (what _complete keeps)."""
    op.__dict__["hook"] = FakeHook()
    op.civis_result = result
    return op


def pairs(datasets):
    return [(d.namespace, d.name) for d in datasets]


NS = "civis://api.civisanalytics.com"


def test_query_lineage_names_tables_by_database_name_and_keeps_the_sql():
    pytest.importorskip("airflow.providers.openlineage")
    sql = "INSERT INTO mart.daily SELECT * FROM raw.events e JOIN dim.users u ON e.uid = u.id"
    op = finished(CivisQueryOperator(task_id="q", database=3, sql=sql, export_path="/tmp/r.csv"),
                  {"job_id": 5, "run_id": 9, "file_ids": [11], "local_path": "/tmp/r.csv", "preview": None})
    facets = op.get_openlineage_facets_on_complete(None)
    assert sorted(pairs(facets.inputs)) == [(NS, "redshift-general.dim.users"), (NS, "redshift-general.raw.events")]
    assert pairs(facets.outputs) == [(NS, "redshift-general.mart.daily"), (NS, "files/11"), ("file", "/tmp/r.csv")]
    assert facets.job_facets["sql"].query == sql
    assert facets.run_facets["externalQuery"].externalQueryId == "9"


def test_ml_and_enhancement_lineage():
    pytest.importorskip("airflow.providers.openlineage")
    train = finished(CivisMLTrainOperator(task_id="t", model_type="sparse_logistic", dependent_variable="y",
                                          table_name="sales.orders", database_id=3, oos_scores_table="ml.oos"),
                     {"job_id": 40, "run_id": 41})
    facets = train.get_openlineage_facets_on_complete(None)
    assert pairs(facets.inputs) == [(NS, "redshift-general.sales.orders")]
    assert pairs(facets.outputs) == [(NS, "models/40"), (NS, "redshift-general.ml.oos")]
    predict = finished(CivisMLPredictOperator(task_id="p", train_job_id=40, file_id=77),
                       {"job_id": 50, "run_id": 51, "train_job_id": 40, "output_table": None,
                        "output_file_ids": [78]})
    facets = predict.get_openlineage_facets_on_complete(None)
    assert pairs(facets.inputs) == [(NS, "models/40"), (NS, "files/77")]
    assert pairs(facets.outputs) == [(NS, "files/78")]
    geocode = finished(CivisGeocodeOperator(task_id="g", source_table="crm.addresses"),
                       {"job_id": 60, "run_id": 61, "summary": {"output_table": "crm.addresses_geocoded"}})
    facets = geocode.get_openlineage_facets_on_complete(None)
    assert pairs(facets.inputs) == [(NS, "redshift-general.crm.addresses")]
    assert pairs(facets.outputs) == [(NS, "redshift-general.crm.addresses_geocoded")]


def test_without_the_openlineage_provider_facets_are_none(monkeypatch):
    monkeypatch.setitem(sys.modules, "airflow.providers.openlineage.extractors", None)
    op = finished(CivisImportCsvOperator(task_id="i", table="s.t", database=DB, source_path="x.csv"),
                  {"database_id": 1, "schema": "s", "table": "t", "job_id": 1, "run_id": 2})
    assert op.get_openlineage_facets_on_complete(None) is None
    assert lineage.operator_lineage([("file", "/x")], []) is None


def test_the_openlineage_provider_extracts_and_emits_our_datasets(caplog):
    """The provider's own extractor picks our method; its client's console transport emits the event."""
    pytest.importorskip("airflow.providers.openlineage")
    from airflow.providers.openlineage.extractors.manager import ExtractorManager
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.transport.console import ConsoleConfig, ConsoleTransport
    from openlineage.client.uuid import generate_new_uuid

    op = finished(CivisImportCsvOperator(task_id="i", table="Sales.Orders", database=DB, source_path="/data/o.csv"),
                  {"database_id": 1, "schema": "sales", "table": "orders", "job_id": 1, "run_id": 2})
    extractor = ExtractorManager()._get_extractor(op)
    assert type(extractor).__name__ == "DefaultExtractor"
    metadata = extractor.extract_on_complete(task_instance=None)
    event = RunEvent(
        eventType=RunState.COMPLETE, eventTime="2026-01-01T00:00:00Z", producer="tests",
        run=Run(runId=str(generate_new_uuid()), facets=metadata.run_facets),
        job=Job(namespace="airflow", name="load_orders.i", facets=metadata.job_facets),
        inputs=[InputDataset(namespace=d.namespace, name=d.name) for d in metadata.inputs],
        outputs=[OutputDataset(namespace=d.namespace, name=d.name) for d in metadata.outputs],
    )
    with caplog.at_level(logging.INFO, logger="openlineage.client.transport.console"):
        OpenLineageClient(transport=ConsoleTransport(ConsoleConfig())).emit(event)
    emitted = json.loads(caplog.records[-1].getMessage())
    assert [(d["namespace"], d["name"]) for d in emitted["inputs"]] == [("file", "/data/o.csv")]
    assert [(d["namespace"], d["name"]) for d in emitted["outputs"]] == [(NS, f"{DB}.sales.orders")]
    assert emitted["run"]["facets"]["externalQuery"]["externalQueryId"] == "2"


def test_builders_read_the_public_result_and_write_nothing_into_the_operator():
    pytest.importorskip("airflow.providers.openlineage")
    op = finished(CivisExportTableOperator(task_id="e", table="Sales.Orders", database=3),
                  {"job_id": 5, "run_id": 9, "file_ids": [11], "local_paths": []})
    before = dict(vars(op))
    facets = op.get_openlineage_facets_on_complete(None)
    assert pairs(facets.inputs) == [(NS, "redshift-general.sales.orders")]  # id 3 named through the resolver
    assert pairs(facets.outputs) == [(NS, "files/11")]
    assert vars(op) == before
    op.civis_result = None  # no result (the run did not succeed): no run facet, no files
    facets = op.get_openlineage_facets_on_complete(None)
    assert pairs(facets.outputs) == [] and facets.run_facets == {}


def test_an_unknown_database_id_is_named_by_its_id():
    pytest.importorskip("airflow.providers.openlineage")
    op = finished(CivisExportTableOperator(task_id="e", table="s.t", database="42"), {"run_id": 1})
    assert pairs(op.get_openlineage_facets_on_complete(None).inputs) == [(NS, "42.s.t")]
