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
cluster's own endpoint. The database is its name (looked up with ``GET /databases`` when an operator
was given an id); unqualified tables in SQL are in ``public``. Query SQL is read with the OpenLineage
provider's own parser (``openlineage-sql``, which that provider installs), else (or when it finds no
table at all) with the regex above.
Runs carry an ``externalQuery`` run facet (the Civis run id), queries an ``sql`` job facet.

The OpenLineage provider is optional: without it these methods return None and nothing is imported.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

if TYPE_CHECKING:
    from urllib.parse import SplitResult

    from airflow.sdk import Asset

SCHEME = "civis"
DEFAULT_SCHEMA = "public"
LOCAL_FILE_NAMESPACE = "file"


# -- tables and assets ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableRef:
    """One warehouse table; ``database`` is the database's name (or, failing that, its id as text)."""

    database: str
    schema: str
    table: str

    @classmethod
    def of(cls, database: Any, schema: str, table: str) -> TableRef:
        return cls(str(database).strip(), _ident(schema), _ident(table))

    @property
    def name(self) -> str:
        """The OpenLineage dataset name."""
        return f"{self.database}.{self.schema}.{self.table}"

    @property
    def uri(self) -> str:
        """The Airflow asset URI."""
        return f"{SCHEME}://{quote(self.database, safe='')}/{quote(self.schema, safe='')}/{quote(self.table, safe='')}"


def _ident(part: str) -> str:
    return str(part).strip().strip('"').lower()


def civis_table_asset(database: str, schema: str, table: str) -> Asset:
    """The asset of a warehouse table, ``civis://<database>/<schema>/<table>``, to schedule DAGs on."""
    from airflow.sdk import Asset

    for field, value in (("database", database), ("schema", schema), ("table", table)):
        if not isinstance(value, str) or not value.strip() or "{{" in value:
            raise ValueError(f"civis_table_asset: {field} must be a non-empty, non-templated name, got {value!r}")
    return Asset(uri=TableRef.of(database, schema, table).uri)


def sanitize_uri(uri: SplitResult) -> SplitResult:
    """Airflow's URI normaliser for ``civis://``: three parts, schema and table lower-cased."""
    parts = [unquote(p) for p in uri.path.split("/") if p]
    if not uri.netloc or len(parts) != 2:
        raise ValueError(f"A civis asset URI is civis://<database>/<schema>/<table>, got {uri.geturl()!r}")
    ref = TableRef.of(unquote(uri.netloc), *parts)
    return uri._replace(netloc=quote(ref.database, safe=""), path=f"/{quote(ref.schema, safe='')}/"
                        f"{quote(ref.table, safe='')}", query="", fragment="")


def _static(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and "{{" not in value


def static_database_name(database: Any) -> str | None:
    """The database's name when the DAG gives it by name, untemplated; else None (ids, templates)."""
    return database.strip() if _static(database) and not database.strip().isdigit() else None


def split_name(name: str, default_schema: str = DEFAULT_SCHEMA) -> tuple[str | None, str, str] | None:
    """``"schema.table"`` / ``"db.schema.table"`` / ``"table"`` -> ``(database, schema, table)``."""
    parts = [p.strip().strip('"') for p in re.split(r"\s*\.\s*", name.strip())]
    if not parts or not all(parts) or len(parts) > 3:
        return None
    if len(parts) == 1:
        return None, _ident(default_schema), _ident(parts[0])
    if len(parts) == 2:
        return None, _ident(parts[0]), _ident(parts[1])
    return parts[0], _ident(parts[1]), _ident(parts[2])


def declare_table_outlets(operator: Any, database: Any, tables: Iterable[Any]) -> None:
    """Add the assets of the static ``schema.table`` names among ``tables`` to ``operator.outlets``."""
    db = static_database_name(database)
    if db is None:
        return
    for table in tables:
        parsed = split_name(table) if _static(table) and "." in table else None
        if parsed is None:
            continue
        asset = civis_table_asset(parsed[0] or db, parsed[1], parsed[2])
        if asset not in operator.outlets:
            operator.outlets.append(asset)


# -- SQL ---------------------------------------------------------------------------------------------
_IDENT_RE = r'(?:"[^"]+"|[A-Za-z_][\w$]*)'
_NAME_RE = rf"{_IDENT_RE}(?:\s*\.\s*{_IDENT_RE}){{0,2}}"
_TEMP = r"(?:(?:LOCAL\s+|GLOBAL\s+)?(?:TEMP|TEMPORARY)\s+)"
_WRITE_RE = re.compile(
    rf"\b(?:INTO|UPDATE|DELETE\s+FROM|CREATE\s+(?P<temp>{_TEMP})?TABLE(?:\s+IF\s+NOT\s+EXISTS)?)\s+(?P<name>{_NAME_RE})",
    re.IGNORECASE)
_READ_RE = re.compile(rf"\b(?:FROM|JOIN)\s+(?P<name>{_NAME_RE})", re.IGNORECASE)
_CTE_RE = re.compile(rf"(?:\bWITH(?:\s+RECURSIVE)?|,)\s*(?P<name>{_IDENT_RE})\s+AS\s*\(", re.IGNORECASE)
_NOISE_RE = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.DOTALL)
# FROM inside these functions is not a table: EXTRACT(YEAR FROM d), TRIM(BOTH 'x' FROM s), ...
_FROM_FUNCS_RE = re.compile(r"\b(?:EXTRACT|TRIM|SUBSTRING|POSITION|OVERLAY)\s*\([^()]*\)", re.IGNORECASE)
_KEYWORDS = {"select", "lateral", "unnest", "values", "only"}


def sql_tables_regex(sql: str, default_schema: str = DEFAULT_SCHEMA) -> tuple[list[tuple], list[tuple]]:
    """Tables read and written, ``(database | None, schema, table)``, by a conservative regex."""
    text = _FROM_FUNCS_RE.sub(" ", _NOISE_RE.sub(" ", sql))
    ctes = {_ident(m.group("name")) for m in _CTE_RE.finditer(text)}
    temps: set[str] = set()
    writes: list[tuple] = []
    write_spans = set()
    for match in _WRITE_RE.finditer(text):
        write_spans.add(match.start("name"))
        parsed = split_name(match.group("name"), default_schema)
        if parsed is None:
            continue
        if match.group("temp"):
            temps.add(parsed[2])
        elif parsed not in writes:
            writes.append(parsed)
    reads: list[tuple] = []
    for match in _READ_RE.finditer(text):
        name = match.group("name")
        if match.start("name") in write_spans or name.lower() in _KEYWORDS:
            continue
        parsed = split_name(name, default_schema)
        if parsed is None or ("." not in name and (_ident(name) in ctes or _ident(name) in temps)):
            continue
        if parsed not in reads:
            reads.append(parsed)
    writes = [w for w in writes if not (w[2] in temps and w[1] == _ident(default_schema))]
    return reads, writes


def sql_tables(sql: str, default_schema: str = DEFAULT_SCHEMA) -> tuple[list[tuple], list[tuple], str]:
    """Tables read and written, and which parser said so: ``openlineage-sql`` when installed, else regex."""
    try:
        import openlineage_sql
    except ImportError:
        return (*sql_tables_regex(sql, default_schema), "regex")
    meta = openlineage_sql.parse([sql], dialect="redshift", default_schema=default_schema)
    if meta is None or not (meta.in_tables or meta.out_tables):
        # unparsable, or nothing found (openlineage-sql 1.54 reports no tables for WITH ... SELECT)
        return (*sql_tables_regex(sql, default_schema), "regex")

    def tables(found: Iterable[Any]) -> list[tuple]:
        out: list[tuple] = []
        for t in found:
            ref = (t.database, _ident(t.schema or default_schema), _ident(t.name))
            if ref not in out:
                out.append(ref)
        return out

    return tables(meta.in_tables), tables(meta.out_tables), "openlineage-sql"


def sql_write_outlets(sql: Any) -> list[str]:
    """``schema.table`` (or ``db.schema.table``) names a static SQL string writes, for outlets."""
    if not _static(sql) or sql.strip().lower().endswith(".sql"):
        return []
    _, writes = sql_tables_regex(sql)
    return [".".join(p for p in w if p) for w in writes]


# -- OpenLineage -------------------------------------------------------------------------------------
def namespace(operator: Any) -> str:
    """``civis://<API host[:port]>``: the Civis deployment the operator's connection talks to."""
    return f"{SCHEME}://{urlsplit(operator.hook.settings.base_url).netloc}"


def database_name(operator: Any, database: Any) -> str:
    """A database's name from a name or an id (``GET /databases``); the id as text if it cannot be found.

    None means the operator's default: the first database visible."""
    if database is None:  # the operators then use the first (for CivisML: the only) database visible
        databases = list(operator.hook.paginate("/databases"))
        return str(databases[0]["name"]) if databases else "unknown"
    name = static_database_name(str(database))
    if name is not None:
        return name
    cache = operator.__dict__.setdefault("_civis_database_names", {})
    if database not in cache:
        found = {str(d.get("id")): d.get("name") for d in operator.hook.paginate("/databases")}
        cache[database] = str(found.get(str(database).strip()) or database)
    return cache[database]


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


def _result(operator: Any) -> dict[str, Any]:
    result = getattr(operator, "_civis_result", None)
    return result if isinstance(result, dict) else {}


def _ol_available() -> bool:
    try:
        import airflow.providers.openlineage.extractors  # noqa: F401
    except ImportError:
        return False
    return True


def _sql_datasets(ns: str, db: str, sql: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    reads, writes, _ = sql_tables(sql)
    return ([table(ns, TableRef.of(d or db, s, t)) for d, s, t in reads],
            [table(ns, TableRef.of(d or db, s, t)) for d, s, t in writes])


# One function per operator: what it read and wrote, from its arguments and its result.
def for_import(op: Any) -> Any:
    if not _ol_available():
        return None
    ns, res = namespace(op), _result(op)
    db = database_name(op, op.database)
    schema, name = (res["schema"], res["table"]) if res.get("table") else op.table.split(".", 1)
    if op.source_path is not None:
        inputs = [local_path(op.source_path)]
    else:
        inputs = [civis_file(ns, file_id) for file_id in op._file_ids()]
    return operator_lineage(inputs, [table(ns, TableRef.of(db, schema, name))], ns=ns, run_id=res.get("run_id"))


def for_query(op: Any) -> Any:
    if not _ol_available():
        return None
    ns, res = namespace(op), _result(op)
    inputs, outputs = _sql_datasets(ns, database_name(op, op.database), op.sql)
    outputs += [civis_file(ns, file_id) for file_id in res.get("file_ids") or []]
    if res.get("local_path"):
        outputs.append(local_path(res["local_path"]))
    return operator_lineage(inputs, outputs, ns=ns, run_id=res.get("run_id"), sql=op.sql)


def for_export(op: Any) -> Any:
    if not _ol_available():
        return None
    ns, res = namespace(op), _result(op)
    db = database_name(op, op.database)
    if op.table is not None:
        schema, name = op.table.split(".", 1)
        inputs = [table(ns, TableRef.of(db, schema, name))]
    else:
        inputs, _ = _sql_datasets(ns, db, op.sql)
    outputs = [civis_file(ns, file_id) for file_id in res.get("file_ids") or []]
    outputs += [local_path(p) for p in res.get("local_paths") or []]
    return operator_lineage(inputs, outputs, ns=ns, run_id=res.get("run_id"), sql=op.sql)


def _ml_source(op: Any, ns: str) -> list[tuple[str, str]]:
    if op.file_id is not None:
        return [civis_file(ns, op.file_id)]
    db = op.database_name or database_name(op, op.database_id)
    parsed = split_name(op.table_name)
    return [] if parsed is None else [table(ns, TableRef.of(parsed[0] or db, parsed[1], parsed[2]))]


def _ml_table(op: Any, ns: str, name: Any) -> list[tuple[str, str]]:
    parsed = split_name(name) if isinstance(name, str) and name else None
    if parsed is None:
        return []
    db = op.database_name or database_name(op, op.database_id)
    return [table(ns, TableRef.of(parsed[0] or db, parsed[1], parsed[2]))]


def for_ml_train(op: Any) -> Any:
    if not _ol_available():
        return None
    ns, res = namespace(op), _result(op)
    outputs = [civis_model(ns, res["job_id"])] if res.get("job_id") else []
    outputs += _ml_table(op, ns, op.oos_scores_table)
    return operator_lineage(_ml_source(op, ns), outputs, ns=ns, run_id=res.get("run_id"))


def for_ml_predict(op: Any) -> Any:
    if not _ol_available():
        return None
    ns, res = namespace(op), _result(op)
    inputs = [civis_model(ns, res.get("train_job_id") or op.train_job_id), *_ml_source(op, ns)]
    outputs = _ml_table(op, ns, res.get("output_table") or op.output_table)
    if not outputs:
        outputs = [civis_file(ns, file_id) for file_id in res.get("output_file_ids") or []]
    return operator_lineage(inputs, outputs, ns=ns, run_id=res.get("run_id"))


def for_enhancement(op: Any, source: str, target: str | None) -> Any:
    """``target``: what the run reported (summary, Table output), else the ``schema.table`` the DAG named."""
    if not _ol_available():
        return None
    ns, res = namespace(op), _result(op) or {}
    db = database_name(op, op.database)  # a name or an id; None: the only database visible
    summary = res.get("summary")
    summary = summary if isinstance(summary, dict) else {}
    reported = [k for k, v in (res.get("outputs") or {}).items() if isinstance(v, dict) and "table_id" in v]
    target = summary.get("output_table") or (reported[0] if reported else None) or target
    outputs = []
    for name in [target] if target else []:
        parsed = split_name(name)
        if parsed is not None:
            outputs.append(table(ns, TableRef.of(parsed[0] or db, parsed[1], parsed[2])))
    parsed = split_name(source)
    inputs = [] if parsed is None else [table(ns, TableRef.of(parsed[0] or db, parsed[1], parsed[2]))]
    return operator_lineage(inputs, outputs, ns=ns, run_id=res.get("run_id"))
