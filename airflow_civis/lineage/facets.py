"""The OpenLineage pieces every builder shares: dataset names, the operator's public result, and the
``OperatorLineage`` itself (None without the OpenLineage provider)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from airflow_civis.lineage.assets import SCHEME, TableRef, split_name, static_database_name
from airflow_civis.lineage.sql import sql_tables
from airflow_civis.resolve import database_name as listed_database_name

LOCAL_FILE_NAMESPACE = "file"


def namespace(operator: Any) -> str:
    """``civis://<API host[:port]>``: the Civis deployment the operator's connection talks to."""
    return f"{SCHEME}://{urlsplit(operator.hook.settings.base_url).netloc}"


def database_name(operator: Any, database: Any) -> str:
    """The database's name: as the DAG gave it when it gave a name; else as the API lists the database the
    operator resolved (an id, or None: the only one visible), through the one resolver; failing that the
    id as text (``"unknown"`` for None)."""
    name = None if database is None else static_database_name(str(database))
    if name is not None:
        return name
    listed = listed_database_name(operator.hook, database)
    return listed if listed is not None else ("unknown" if database is None else str(database).strip())


def operator_result(operator: Any) -> dict[str, Any]:
    """What the operator returned (its XCom), kept public as ``civis_result``; empty before a run ended."""
    result = getattr(operator, "civis_result", None)
    return result if isinstance(result, dict) else {}


def ol_available() -> bool:
    """Whether the OpenLineage provider is installed (nothing of it is imported otherwise)."""
    try:
        import airflow.providers.openlineage.extractors  # noqa: F401
    except ImportError:
        return False
    return True


def local_path(path: str) -> tuple[str, str]:
    return LOCAL_FILE_NAMESPACE, os.path.abspath(path)


def civis_file(ns: str, file_id: Any) -> tuple[str, str]:
    return ns, f"files/{int(file_id)}"


def civis_model(ns: str, train_job_id: Any) -> tuple[str, str]:
    return ns, f"models/{int(train_job_id)}"


def table(ns: str, ref: TableRef) -> tuple[str, str]:
    return ns, ref.name


def operator_lineage(inputs: Iterable[tuple[str, str]], outputs: Iterable[tuple[str, str]], *,
                     ns: str | None = None, run_id: Any = None, sql: str | None = None) -> Any:
    """An ``OperatorLineage`` of ``(namespace, name)`` datasets; None without the OpenLineage provider."""
    try:
        from airflow.providers.openlineage.extractors import OperatorLineage
        from openlineage.client.event_v2 import Dataset
        from openlineage.client.facet_v2 import external_query_run, sql_job
    except ImportError:
        return None

    def datasets(pairs: Iterable[tuple[str, str]]) -> list[Any]:
        seen: list[tuple[str, str]] = []
        for pair in pairs:
            if pair not in seen:
                seen.append(pair)
        return [Dataset(namespace=n, name=name) for n, name in seen]

    run_facets = {}
    if ns is not None and run_id is not None:
        run_facets["externalQuery"] = external_query_run.ExternalQueryRunFacet(externalQueryId=str(run_id),
                                                                               source=ns)
    job_facets = {"sql": sql_job.SQLJobFacet(query=sql)} if sql else {}
    return OperatorLineage(inputs=datasets(inputs), outputs=datasets(outputs), run_facets=run_facets,
                           job_facets=job_facets)


def table_datasets(ns: str, db: str, names: Iterable[Any]) -> list[tuple[str, str]]:
    """The datasets of ``schema.table`` / ``db.schema.table`` names (others skipped), in database ``db``."""
    out = []
    for name in names:
        parsed = split_name(name) if isinstance(name, str) and name else None
        if parsed is not None:
            out.append(table(ns, TableRef.of(parsed[0] or db, parsed[1], parsed[2])))
    return out


def sql_datasets(ns: str, db: str, sql: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The tables ``sql`` reads and writes, as datasets in database ``db`` (unless the SQL names one)."""
    reads, writes, _ = sql_tables(sql)
    return ([table(ns, TableRef.of(d or db, s, t)) for d, s, t in reads],
            [table(ns, TableRef.of(d or db, s, t)) for d, s, t in writes])
