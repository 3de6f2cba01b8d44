"""Which tables a SQL string reads and writes: the OpenLineage provider's parser (``openlineage-sql``) when
installed, else (or when it finds no table at all) a conservative regex."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from airflow_civis.lineage.assets import DEFAULT_SCHEMA, ident, is_static, split_name

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
    ctes = {ident(m.group("name")) for m in _CTE_RE.finditer(text)}
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
        if parsed is None or ("." not in name and (ident(name) in ctes or ident(name) in temps)):
            continue
        if parsed not in reads:
            reads.append(parsed)
    writes = [w for w in writes if not (w[2] in temps and w[1] == ident(default_schema))]
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
            ref = (t.database, ident(t.schema or default_schema), ident(t.name))
            if ref not in out:
                out.append(ref)
        return out

    return tables(meta.in_tables), tables(meta.out_tables), "openlineage-sql"


def sql_write_outlets(sql: Any) -> list[str]:
    """``schema.table`` (or ``db.schema.table``) names a static SQL string writes, for outlets."""
    if not is_static(sql) or sql.strip().lower().endswith(".sql"):
        return []
    _, writes = sql_tables_regex(sql)
    return [".".join(p for p in w if p) for w in writes]
