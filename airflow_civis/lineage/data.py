"""Lineage of the data-movement operators (CSV import, query, export): what each read and wrote, from its
arguments and its public result (``civis_result``)."""

from __future__ import annotations

from typing import Any

from airflow_civis.lineage.assets import TableRef
from airflow_civis.lineage.facets import (
    civis_file,
    database_name,
    local_path,
    namespace,
    ol_available,
    operator_lineage,
    operator_result,
    sql_datasets,
    table,
)
from airflow_civis.resolve import split_table


def _file_ids(value: Any) -> list[int]:
    """The import's ``file_ids`` argument (rendered): one id, a list, or ``"1,2"``."""
    ids = value if isinstance(value, list) else str(value).strip("[]").split(",")
    return [int(str(i).strip()) for i in ids]


def for_import(op: Any) -> Any:
    """A local file or Civis files -> the table loaded."""
    if not ol_available():
        return None
    ns, res = namespace(op), operator_result(op)
    db = database_name(op, op.database)
    schema, name = (res["schema"], res["table"]) if res.get("table") else split_table(op.table)
    if op.source_path is not None:
        inputs = [local_path(op.source_path)]
    else:
        inputs = [civis_file(ns, file_id) for file_id in _file_ids(op.file_ids)]
    return operator_lineage(inputs, [table(ns, TableRef.of(db, schema, name))], ns=ns, run_id=res.get("run_id"))


def for_query(op: Any) -> Any:
    """Tables the SQL reads -> tables it writes, the result's Civis files and local copy."""
    if not ol_available():
        return None
    ns, res = namespace(op), operator_result(op)
    inputs, outputs = sql_datasets(ns, database_name(op, op.database), op.sql)
    outputs += [civis_file(ns, file_id) for file_id in res.get("file_ids") or []]
    if res.get("local_path"):
        outputs.append(local_path(res["local_path"]))
    return operator_lineage(inputs, outputs, ns=ns, run_id=res.get("run_id"), sql=op.sql)


def for_export(op: Any) -> Any:
    """A table (or the tables a query reads) -> Civis files and local copies."""
    if not ol_available():
        return None
    ns, res = namespace(op), operator_result(op)
    db = database_name(op, op.database)
    if op.table is not None:
        inputs = [table(ns, TableRef.of(db, *split_table(op.table)))]
    else:
        inputs, _ = sql_datasets(ns, db, op.sql)
    outputs = [civis_file(ns, file_id) for file_id in res.get("file_ids") or []]
    outputs += [local_path(p) for p in res.get("local_paths") or []]
    return operator_lineage(inputs, outputs, ns=ns, run_id=res.get("run_id"), sql=op.sql)
