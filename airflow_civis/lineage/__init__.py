"""Lineage (OpenLineage) and Airflow assets for the operators that move data.

**Assets.** A warehouse table is ``civis://<database>/<schema>/<table>``: the database's *name*
(percent-encoded: names may hold spaces), then schema and table, lower-cased as Redshift folds them.
:func:`civis_table_asset` builds one; :func:`sanitize_uri` is the URI normaliser registered for the
``civis`` scheme (``asset-uris`` in :func:`airflow_civis.get_provider_info`), so hand-written URIs in
another case compare equal and malformed ones fail when the DAG is parsed. The URI names no API host:
the same DAG schedules on the same asset against the emulator and against the platform.

Operators that write a table declare it in ``outlets`` when the DAG is parsed, and only then: the
table *and* the database are static (no ``{{ }}``) and the database is given by name (an id would
make a different asset from the same table named). Those are the CSV import's ``table``, the
query's write targets (a conservative regex over static SQL: ``INSERT INTO``, ``SELECT ... INTO``,
``CREATE TABLE``, ``UPDATE``, ``DELETE FROM``; never temporary tables), CivisML training's
``oos_scores_table`` and scoring's ``output_table``. Enhancements take a database id only, so they
declare none (pass ``outlets=[civis_table_asset(...)]`` yourself).

**OpenLineage.** ``get_openlineage_facets_on_complete`` on the import, query, export, CivisML and
enhancement operators reports, after the run succeeded:

=====================  ===============================  =============================================
dataset                namespace                        name
=====================  ===============================  =============================================
warehouse table        ``civis://<API host[:port]>``    ``<database>.<schema>.<table>``
Civis file             ``civis://<API host[:port]>``    ``files/<file id>``
CivisML model          ``civis://<API host[:port]>``    ``models/<training job id>``
local file             ``file``                         absolute path
=====================  ===============================  =============================================

following the OpenLineage naming spec for warehouses (``<scheme>://<authority>`` of the service, then
``database.schema.table``): the service is the Civis deployment, named by its API host
(``api.civisanalytics.com``, or ``127.0.0.1:PORT`` for the emulator), since Civis hides the Redshift
cluster's own endpoint. The database is its name (resolved through :mod:`airflow_civis.resolve` when an
operator was given an id or none); unqualified tables in SQL are in ``public``. Query SQL is read with the OpenLineage
provider's own parser (``openlineage-sql``, which that provider installs), else (or when it finds no
table at all) with the regex above.
Runs carry an ``externalQuery`` run facet (the Civis run id), queries an ``sql`` job facet.

The OpenLineage provider is optional: without it these methods return None and nothing is imported.

Each builder sits in the module of its operator family (``data``, ``ml``, ``enhancements``) and reads the
operator's arguments and its public result (``civis_result``, the XCom it returned), nothing private.
Shared pieces: ``assets`` (URIs, outlets), ``sql`` (tables a SQL string touches), ``facets`` (datasets).
"""

from __future__ import annotations

from airflow_civis.lineage.assets import (
    DEFAULT_SCHEMA,
    SCHEME,
    TableRef,
    civis_table_asset,
    declare_table_outlets,
    sanitize_uri,
    split_name,
    static_database_name,
)
from airflow_civis.lineage.data import for_export, for_import, for_query
from airflow_civis.lineage.enhancements import for_cass_ncoa, for_enhancement, for_geocode
from airflow_civis.lineage.facets import (
    LOCAL_FILE_NAMESPACE,
    civis_file,
    civis_model,
    database_name,
    local_path,
    namespace,
    operator_lineage,
    operator_result,
    table,
)
from airflow_civis.lineage.ml import for_ml_predict, for_ml_train
from airflow_civis.lineage.sql import sql_tables, sql_tables_regex, sql_write_outlets

__all__ = [
    "DEFAULT_SCHEMA", "LOCAL_FILE_NAMESPACE", "SCHEME", "TableRef", "civis_file", "civis_model", "civis_table_asset",
    "database_name", "declare_table_outlets", "for_cass_ncoa", "for_enhancement", "for_export", "for_geocode",
    "for_import", "for_ml_predict", "for_ml_train", "for_query", "local_path", "namespace", "operator_lineage",
    "operator_result", "sanitize_uri", "split_name", "sql_tables", "sql_tables_regex", "sql_write_outlets",
    "static_database_name", "table",
]
