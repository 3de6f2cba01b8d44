"""Warehouse tables as Airflow assets, ``civis://<database>/<schema>/<table>``, and the outlets operators
declare when a DAG is parsed (see :mod:`airflow_civis.lineage`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

if TYPE_CHECKING:
    from urllib.parse import SplitResult

    from airflow.sdk import Asset

SCHEME = "civis"
DEFAULT_SCHEMA = "public"


@dataclass(frozen=True)
class TableRef:
    """One warehouse table; ``database`` is the database's name (or, failing that, its id as text)."""

    database: str
    schema: str
    table: str

    @classmethod
    def of(cls, database: Any, schema: str, table: str) -> TableRef:
        return cls(str(database).strip(), ident(schema), ident(table))

    @property
    def name(self) -> str:
        """The OpenLineage dataset name."""
        return f"{self.database}.{self.schema}.{self.table}"

    @property
    def uri(self) -> str:
        """The Airflow asset URI."""
        return f"{SCHEME}://{quote(self.database, safe='')}/{quote(self.schema, safe='')}/{quote(self.table, safe='')}"


def ident(part: str) -> str:
    """A schema or table name as Redshift folds it: unquoted, lower-cased."""
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


def is_static(value: Any) -> bool:
    """A non-empty string with no template in it: known when the DAG is parsed."""
    return isinstance(value, str) and bool(value.strip()) and "{{" not in value


def static_database_name(database: Any) -> str | None:
    """The database's name when the DAG gives it by name, untemplated; else None (ids, templates)."""
    return database.strip() if is_static(database) and not database.strip().isdigit() else None


def split_name(name: str, default_schema: str = DEFAULT_SCHEMA) -> tuple[str | None, str, str] | None:
    """``"schema.table"`` / ``"db.schema.table"`` / ``"table"`` -> ``(database, schema, table)``."""
    parts = [p.strip().strip('"') for p in re.split(r"\s*\.\s*", name.strip())]
    if not parts or not all(parts) or len(parts) > 3:
        return None
    if len(parts) == 1:
        return None, ident(default_schema), ident(parts[0])
    if len(parts) == 2:
        return None, ident(parts[0]), ident(parts[1])
    return parts[0], ident(parts[1]), ident(parts[2])


def declare_table_outlets(operator: Any, database: Any, tables: Iterable[Any]) -> None:
    """Add the assets of the static ``schema.table`` names among ``tables`` to ``operator.outlets``."""
    db = static_database_name(database)
    if db is None:
        return
    for table in tables:
        parsed = split_name(table) if is_static(table) and "." in table else None
        if parsed is None:
            continue
        asset = civis_table_asset(parsed[0] or db, parsed[1], parsed[2])
        if asset not in operator.outlets:
            operator.outlets.append(asset)
