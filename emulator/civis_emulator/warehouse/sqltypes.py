"""Identifiers and SQL type names: Civis (Redshift-style) names in, DuckDB types underneath.

Civis reports column types the way Redshift spells them (``INTEGER``, ``BIGINT``, ``DOUBLE PRECISION``,
``VARCHAR(256)``, ...). DuckDB accepts most of these spellings but reports its own (``DOUBLE``,
``VARCHAR`` without a length), so the warehouse keeps the declared name next to the real type and
this module translates in both directions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import WarehouseError

#: Redshift/Postgres identifier rules, kept deliberately strict: names end up in URLs and SQL.
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,126}$")
#: Schemas the emulator keeps for itself or that belong to DuckDB's catalog.
RESERVED_SCHEMAS = frozenset({"_emulator_meta", "information_schema", "pg_catalog", "temp"})

DEFAULT_VARCHAR = "VARCHAR(256)"
INTEGER_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                           "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"})


def check_identifier(name: object, kind: str = "identifier") -> str:
    """Validate a schema or table name and return it lower-cased (Redshift folds unquoted names)."""
    if not isinstance(name, str) or not _IDENT_RE.match(name):
        raise WarehouseError(
            f"Invalid {kind} name {name!r}: use letters, digits, '_' or '$', starting with a letter or '_'"
            " (at most 127 characters)"
        )
    return name.lower()


def check_schema(name: object) -> str:
    schema = check_identifier(name, "schema")
    if schema in RESERVED_SCHEMAS:
        raise WarehouseError(f"Invalid schema name {name!r}: the schema is reserved")
    return schema


def quote_ident(name: str) -> str:
    """Quote any identifier (column names from CSV headers may hold spaces or quotes)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def qualified(schema: str, table: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}"


@dataclass(frozen=True)
class ColumnType:
    """One column's type: what Civis shows (``sql_type``) and what DuckDB stores (``duck_type``).

    ``max_length`` is the declared length of a character type; ``enforced`` says whether the
    length came from the user (values longer than it are rejected) or was only detected (it grows
    when longer values arrive, like Civis' ``loosenTypes``).
    """

    sql_type: str
    duck_type: str
    max_length: int | None = None
    enforced: bool = False


_SIMPLE = {
    "SMALLINT": ("SMALLINT", "SMALLINT"), "INT2": ("SMALLINT", "SMALLINT"),
    "INTEGER": ("INTEGER", "INTEGER"), "INT": ("INTEGER", "INTEGER"), "INT4": ("INTEGER", "INTEGER"),
    "BIGINT": ("BIGINT", "BIGINT"), "INT8": ("BIGINT", "BIGINT"),
    "DOUBLE PRECISION": ("DOUBLE PRECISION", "DOUBLE"), "DOUBLE": ("DOUBLE PRECISION", "DOUBLE"),
    "FLOAT8": ("DOUBLE PRECISION", "DOUBLE"), "FLOAT": ("DOUBLE PRECISION", "DOUBLE"),
    "REAL": ("REAL", "REAL"), "FLOAT4": ("REAL", "REAL"),
    "BOOLEAN": ("BOOLEAN", "BOOLEAN"), "BOOL": ("BOOLEAN", "BOOLEAN"),
    "DATE": ("DATE", "DATE"),
    "TIMESTAMP": ("TIMESTAMP", "TIMESTAMP"), "TIMESTAMP WITHOUT TIME ZONE": ("TIMESTAMP", "TIMESTAMP"),
    "TIMESTAMPTZ": ("TIMESTAMPTZ", "TIMESTAMPTZ"),
    "TIMESTAMP WITH TIME ZONE": ("TIMESTAMPTZ", "TIMESTAMPTZ"),
    "TIME": ("TIME", "TIME"), "TIME WITHOUT TIME ZONE": ("TIME", "TIME"),
    "TEXT": ("VARCHAR", "VARCHAR"), "VARCHAR": ("VARCHAR", "VARCHAR"),
    "CHARACTER VARYING": ("VARCHAR", "VARCHAR"), "NVARCHAR": ("VARCHAR", "VARCHAR"),
    "STRING": ("VARCHAR", "VARCHAR"),
    "DECIMAL": ("NUMERIC(18,0)", "DECIMAL(18,0)"), "NUMERIC": ("NUMERIC(18,0)", "DECIMAL(18,0)"),
}
_CHAR_NAMES = {"VARCHAR", "CHARACTER VARYING", "NVARCHAR", "CHAR", "CHARACTER", "NCHAR", "BPCHAR", "TEXT"}
_TYPE_RE = re.compile(r"^([A-Z][A-Z0-9_ ]*?)\s*(?:\(\s*(\d+|MAX)\s*(?:,\s*(\d+)\s*)?\))?$")


def parse_sql_type(sql_type: object, column: str) -> ColumnType:
    """Translate a Civis ``sqlType`` (``VARCHAR(20)``, ``double precision``, ``int8``...) to DuckDB."""
    if not isinstance(sql_type, str) or not sql_type.strip():
        raise WarehouseError(f"Column {column!r}: missing sqlType")
    text = " ".join(sql_type.strip().upper().split())
    m = _TYPE_RE.match(text)
    if not m:
        raise WarehouseError(f"Column {column!r}: unsupported sqlType {sql_type!r}")
    base, arg1, arg2 = m.group(1).strip(), m.group(2), m.group(3)
    if base in _CHAR_NAMES:
        if arg2 is not None:
            raise WarehouseError(f"Column {column!r}: unsupported sqlType {sql_type!r}")
        if arg1 is None:
            length = 256 if base in {"CHAR", "CHARACTER", "NCHAR", "BPCHAR"} else None
            if length is None:
                return ColumnType("VARCHAR", "VARCHAR")
        else:
            length = 65535 if arg1 == "MAX" else int(arg1)
        if length < 1:
            raise WarehouseError(f"Column {column!r}: invalid length in sqlType {sql_type!r}")
        shown = "CHAR" if base in {"CHAR", "CHARACTER", "NCHAR", "BPCHAR"} else "VARCHAR"
        return ColumnType(f"{shown}({length})", "VARCHAR", max_length=length, enforced=True)
    if base in {"DECIMAL", "NUMERIC"} and arg1 is not None:
        if arg1 == "MAX":
            raise WarehouseError(f"Column {column!r}: unsupported sqlType {sql_type!r}")
        precision, scale = int(arg1), int(arg2 or 0)
        if not 1 <= precision <= 38 or scale > precision:
            raise WarehouseError(f"Column {column!r}: invalid precision/scale in sqlType {sql_type!r}")
        return ColumnType(f"NUMERIC({precision},{scale})", f"DECIMAL({precision},{scale})")
    if arg1 is None and base in _SIMPLE:
        shown, duck = _SIMPLE[base]
        return ColumnType(shown, duck)
    raise WarehouseError(f"Column {column!r}: unsupported sqlType {sql_type!r}")


def civis_type_for(duck_type: str) -> str:
    """Civis-style name for a DuckDB type (for columns the warehouse did not declare itself)."""
    t = duck_type.upper()
    if t in {"TINYINT", "SMALLINT", "UTINYINT"}:
        return "SMALLINT"
    if t in {"INTEGER", "USMALLINT"}:
        return "INTEGER"
    if t in {"BIGINT", "UINTEGER"}:
        return "BIGINT"
    if t in {"HUGEINT", "UBIGINT", "UHUGEINT"}:
        return "NUMERIC(38,0)"
    if t == "DOUBLE":
        return "DOUBLE PRECISION"
    if t == "FLOAT":
        return "REAL"
    if t.startswith("DECIMAL"):
        return "NUMERIC" + t[len("DECIMAL"):]
    if t == "TIMESTAMP WITH TIME ZONE":
        return "TIMESTAMPTZ"
    if t in {"TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"}:
        return "TIMESTAMP"
    if t == "TIME WITH TIME ZONE":
        return "TIMETZ"
    return t


def civis_data_type(duck_type: str) -> str:
    """The database-agnostic ``civisDataType`` of a column (string, integer, float, ...)."""
    t = duck_type.upper()
    if t in INTEGER_TYPES:
        return "integer"
    if t in {"DOUBLE", "FLOAT", "REAL"} or t.startswith("DECIMAL"):
        return "float"
    if t == "BOOLEAN":
        return "boolean"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    if t.startswith("TIME"):
        return "time"
    return "string"


def same_storage(declared: ColumnType, duck_type: str) -> bool:
    """Whether a remembered declaration still describes the live column (tables can change by SQL)."""
    return declared.duck_type.upper() == duck_type.upper() or (
        declared.duck_type == "REAL" and duck_type.upper() == "FLOAT"
    )
