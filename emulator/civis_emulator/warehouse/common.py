"""Shared names and helpers of the warehouse modules."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

from .errors import WarehouseError
from .sqltypes import ColumnType

META_SCHEMA = "_emulator_meta"
META_TABLE = f"{META_SCHEMA}.tables"
DEFAULT_SCHEMA = "public"
IF_EXISTS_MODES = ("fail", "append", "drop", "truncate", "upsert")

STAGE = "__emulator_stage"
REJECTS = "__emulator_rejects"
REJECT_SCANS = "__emulator_reject_scans"
EXPORT = "__emulator_export"
TOTAL_COL = "__emulator_total_rows__"
TABLE_REF_RE = re.compile(r"^\s*(?:([A-Za-z_][A-Za-z0-9_$]*)\s*\.\s*)?([A-Za-z_][A-Za-z0-9_$]*)\s*;?\s*$")
SQL_KEYWORDS = {"select", "with", "values", "table", "show", "describe", "from", "pragma", "summarize"}
FIXED_WIDTH = {"BOOLEAN": 1, "TINYINT": 1, "SMALLINT": 2, "INTEGER": 4, "BIGINT": 8, "HUGEINT": 16,
                "FLOAT": 4, "REAL": 4, "DOUBLE": 8, "DATE": 4, "TIME": 8, "TIMESTAMP": 8,
                "TIMESTAMP WITH TIME ZONE": 8}


def one_row(cur: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """The row of a statement that always returns one (an aggregate; the count an INSERT or DELETE returns)."""
    row = cur.fetchone()
    if row is None:
        raise WarehouseError("The warehouse returned no row where a statement always returns one")
    return row


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def iso(value: dt.datetime | None) -> str | None:
    """Civis-style timestamp: ``2024-05-01T12:00:00.123Z`` (UTC)."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def clean_message(exc: BaseException) -> str:
    """DuckDB's own message, minus its tuning advice and the option dump of the CSV reader."""
    text = str(exc)
    head = text.split("\nPossible fixes:", 1)[0].rstrip()
    file_match = re.search(r"^\s*file = (.+)$", text, re.MULTILINE)
    if file_match and "file =" not in head:
        head += f"\n(file: {os.path.basename(file_match.group(1).strip())})"
    return head


@contextmanager
def translated_errors() -> Iterator[None]:
    try:
        yield
    except WarehouseError:
        raise
    except duckdb.Error as exc:
        raise WarehouseError(clean_message(exc)) from None


def text_value(value: Any) -> str | None:
    """Render a value the way the warehouse prints it in CSV (Civis returns rows as text)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time, decimal.Decimal)):
        return str(value) if not isinstance(value, dt.date) else value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def columns_json(columns: dict[str, ColumnType]) -> str:
    return json.dumps({name.lower(): [ct.sql_type, ct.duck_type, ct.max_length, ct.enforced]
                       for name, ct in columns.items()})


def columns_from_json(text: str | None) -> dict[str, ColumnType]:
    if not text:
        return {}
    return {name: ColumnType(*values) for name, values in json.loads(text).items()}
