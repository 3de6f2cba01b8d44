"""Lineage of the enhancement operators (geocode, CASS/NCOA): source table -> output table."""

from __future__ import annotations

from typing import Any

from airflow_civis.lineage import facets
from airflow_civis.resolve import split_table


def for_enhancement(op: Any, source: str, target: str | None) -> Any:
    """``target``: what the run reported (summary, Table output), else the ``schema.table`` the DAG named."""
    if not facets.ol_available():
        return None
    ns, res = facets.namespace(op), facets.operator_result(op)
    db = facets.database_name(op, op.database)  # a name or an id; None: the only database visible
    summary = res.get("summary")
    summary = summary if isinstance(summary, dict) else {}
    reported = [k for k, v in (res.get("outputs") or {}).items() if isinstance(v, dict) and "table_id" in v]
    target = summary.get("output_table") or (reported[0] if reported else None) or target
    return facets.operator_lineage(facets.table_datasets(ns, db, [source]), facets.table_datasets(ns, db, [target]),
                                   ns=ns, run_id=res.get("run_id"))


def for_geocode(op: Any) -> Any:
    """Source table -> geocoded table (``target_schema`` defaults to the source's schema)."""
    schema = op.target_schema or split_table(op.source_table, "source_table", op.task_id)[0]
    return for_enhancement(op, op.source_table, f"{schema}.{op.target_table}" if op.target_table else None)


def for_cass_ncoa(op: Any) -> Any:
    """Source table -> standardised table."""
    return for_enhancement(op, op.source_table, op.destination_table)
