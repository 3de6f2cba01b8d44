"""What the import, export and detect mixins use of ``Warehouse`` (core.py), declared in one place.

The mixins inherit this so that the type checker knows these exist; ``core.Warehouse`` implements
every one of them (a mixin used without it fails loudly here instead of with an AttributeError).
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from typing import Any

import duckdb

from .errors import WarehouseError
from .sqltypes import ColumnType


class WarehouseCore:
    def _cursor(self, *, set_schema: bool = True) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        raise NotImplementedError

    def _transaction(self, cur: duckdb.DuckDBPyConnection) -> AbstractContextManager[None]:
        raise NotImplementedError

    @staticmethod
    def _relation_kind(cur: duckdb.DuckDBPyConnection, schema: str, table: str) -> str | None:
        raise NotImplementedError

    def _require_relation(self, cur: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
        raise NotImplementedError

    @staticmethod
    def _meta(cur: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def _ensure_meta(self, cur: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
        raise NotImplementedError

    def _live_columns(self, cur: duckdb.DuckDBPyConnection, schema: str, table: str
                      ) -> list[tuple[str, str, ColumnType]]:
        raise NotImplementedError

    def _reset_meta(self, cur: duckdb.DuckDBPyConnection, schema: str, table: str,
                    now: dt.datetime | None = None) -> None:
        raise NotImplementedError

    @staticmethod
    def _statement_sql(statement: Any) -> str:
        raise NotImplementedError

    def _ensured_meta(self, cur: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, Any]:
        """The table's metadata row, written first if missing (callers hold the write lock)."""
        self._ensure_meta(cur, schema, table)
        meta = self._meta(cur, schema, table)
        if meta is None:
            raise WarehouseError(f"Table {schema}.{table} has no metadata row right after it was written")
        return meta
