"""Lineage of the CivisML operators: training data -> model (and out-of-sample scores); model and data
scored -> scores table or files. Read from each operator's arguments and its public result."""

from __future__ import annotations

from typing import Any

from airflow_civis.lineage.facets import (
    civis_file,
    civis_model,
    database_name,
    namespace,
    ol_available,
    operator_lineage,
    operator_result,
    table_datasets,
)


def _tables(op: Any, ns: str, *names: Any) -> list[tuple[str, str]]:
    """The named tables, in the operator's database (``database_name``, else ``database_id`` by name);
    no lookup when there is no table."""
    if not any(isinstance(name, str) and name for name in names):
        return []
    return table_datasets(ns, op.database_name or database_name(op, op.database_id), names)


def _source(op: Any, ns: str) -> list[tuple[str, str]]:
    return [civis_file(ns, op.file_id)] if op.file_id is not None else _tables(op, ns, op.table_name)


def for_ml_train(op: Any) -> Any:
    """Training data (table or file) -> the model and its out-of-sample scores table."""
    if not ol_available():
        return None
    ns, res = namespace(op), operator_result(op)
    outputs = [civis_model(ns, res["job_id"])] if res.get("job_id") else []
    outputs += _tables(op, ns, op.oos_scores_table)
    return operator_lineage(_source(op, ns), outputs, ns=ns, run_id=res.get("run_id"))


def for_ml_predict(op: Any) -> Any:
    """The model and the data scored -> the scores table, else the scores' Civis files."""
    if not ol_available():
        return None
    ns, res = namespace(op), operator_result(op)
    inputs = [civis_model(ns, res.get("train_job_id") or op.train_job_id), *_source(op, ns)]
    outputs = _tables(op, ns, res.get("output_table") or op.output_table)
    if not outputs:
        outputs = [civis_file(ns, file_id) for file_id in res.get("output_file_ids") or []]
    return operator_lineage(inputs, outputs, ns=ns, run_id=res.get("run_id"))
