"""The emulator's warehouse: a real embedded SQL database (DuckDB) behind imports, queries,
tables and exports.

Threading: one DuckDB database, one short-lived cursor per operation. Everything that writes
(imports, ``query``, ``refresh``, ``drop_table``, id assignment) runs under one lock, so writers
never conflict; reads (``describe``, ``table_exists``, exports of a single SELECT) take their own
cursor and see a consistent snapshot without waiting.

Table metadata the database itself does not keep (stable ids, declared Civis types, last refresh,
primary keys) lives in ``_emulator_meta.tables`` inside the same database file, so it survives
restarts and changes in the same transaction as the data it describes.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

from .common import (
    DEFAULT_SCHEMA,
    FIXED_WIDTH,
    META_SCHEMA,
    META_TABLE,
    TOTAL_COL,
    clean_message,
    columns_from_json,
    iso,
    one_row,
    text_value,
    translated_errors,
    utc_now,
)
from .detecting import DetectMixin
from .errors import WarehouseError
from .exporting import ExportMixin
from .results import QueryResult
from .sqltypes import (
    RESERVED_SCHEMAS,
    ColumnType,
    check_identifier,
    check_schema,
    civis_data_type,
    civis_type_for,
    qualified,
    quote_ident,
    same_storage,
)


class Warehouse(DetectMixin, ExportMixin):
    """A Civis-flavoured warehouse on DuckDB.

    ``Warehouse(path)`` keeps everything in ``path`` (a DuckDB file, created with its directory if
    missing); ``Warehouse(None)`` is in-memory. Every failure raises :class:`WarehouseError` with
    the database's own message. Schema and table names are validated and folded to lower case
    (as Redshift does); column names are kept as given and always quoted.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = os.fspath(path) if path is not None else None
        if self.path:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        try:
            self._con = duckdb.connect(self.path or ":memory:")
        except duckdb.Error as exc:
            raise WarehouseError(f"Cannot open the warehouse at {self.path}: {clean_message(exc)}") from None
        self._lock = threading.RLock()
        self._cursor_lock = threading.Lock()
        self._closed = False
        with self._lock, self._cursor(set_schema=False) as cur, translated_errors():
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {DEFAULT_SCHEMA}")
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {META_SCHEMA}")
            cur.execute(
                f"""CREATE TABLE IF NOT EXISTS {META_TABLE} (
                    id BIGINT NOT NULL, schema_name VARCHAR NOT NULL, table_name VARCHAR NOT NULL,
                    created_at TIMESTAMP NOT NULL, last_refresh TIMESTAMP, data_updated_at TIMESTAMP,
                    columns VARCHAR, primary_keys VARCHAR, last_modified_keys VARCHAR)"""
            )

    # ------------------------------------------------------------------ plumbing
    def close(self) -> None:
        """Close the database (checkpointing it to disk). Further calls raise WarehouseError."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _cursor(self, *, set_schema: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._cursor_lock:
            if self._closed:
                raise WarehouseError("The warehouse is closed")
            cur = self._con.cursor()
        try:
            if set_schema:
                cur.execute(f"SET schema = '{DEFAULT_SCHEMA}'")
            yield cur
        finally:
            cur.close()

    @contextmanager
    def _transaction(self, cur: duckdb.DuckDBPyConnection) -> Iterator[None]:
        cur.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            try:
                cur.execute("ROLLBACK")
            except duckdb.Error:
                pass
            raise
        cur.execute("COMMIT")

    # ------------------------------------------------------------------ catalog and metadata
    @staticmethod
    def _relation_kind(cur: duckdb.DuckDBPyConnection, schema: str, table: str) -> str | None:
        row = cur.execute(
            """SELECT 'table' FROM duckdb_tables() WHERE database_name = current_database()
                   AND NOT temporary AND lower(schema_name) = ? AND lower(table_name) = ?
               UNION ALL
               SELECT 'view' FROM duckdb_views() WHERE database_name = current_database()
                   AND NOT temporary AND NOT internal AND lower(schema_name) = ? AND lower(view_name) = ?""",
            [schema, table, schema, table],
        ).fetchone()
        return row[0] if row else None

    def _require_relation(self, cur: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
        kind = self._relation_kind(cur, schema, table)
        if kind is None:
            raise WarehouseError(f"Table {schema}.{table} does not exist")
        return kind

    @staticmethod
    def _meta(cur: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, Any] | None:
        cur.execute(
            f"""SELECT id, created_at, last_refresh, data_updated_at, columns, primary_keys,
                       last_modified_keys FROM {META_TABLE} WHERE schema_name = ? AND table_name = ?""",
            [schema, table],
        )
        row = cur.fetchone()
        if row is None:
            return None
        keys = ("id", "created_at", "last_refresh", "data_updated_at", "columns", "primary_keys",
                "last_modified_keys")
        meta = dict(zip(keys, row))
        meta["columns"] = columns_from_json(meta["columns"])
        meta["primary_keys"] = json.loads(meta["primary_keys"]) if meta["primary_keys"] else None
        meta["last_modified_keys"] = (
            json.loads(meta["last_modified_keys"]) if meta["last_modified_keys"] else None
        )
        return meta

    def _ensure_meta(self, cur: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
        """The table's stable id, assigned on first sight (callers hold the write lock)."""
        row = cur.execute(
            f"SELECT id FROM {META_TABLE} WHERE schema_name = ? AND table_name = ?", [schema, table]
        ).fetchone()
        if row:
            return int(row[0])
        new_id = one_row(cur.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {META_TABLE}"))[0]
        cur.execute(
            f"INSERT INTO {META_TABLE} (id, schema_name, table_name, created_at) VALUES (?, ?, ?, ?)",
            [new_id, schema, table, utc_now()],
        )
        return int(new_id)

    def _live_columns(self, cur: duckdb.DuckDBPyConnection, schema: str, table: str
                      ) -> list[tuple[str, str, ColumnType]]:
        """``(name, duckdb type, Civis type)`` per column, declared types where still valid."""
        rows = cur.execute(
            """SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database()
                   AND lower(schema_name) = ? AND lower(table_name) = ? ORDER BY column_index""",
            [schema, table],
        ).fetchall()
        meta = self._meta(cur, schema, table)
        declared = meta["columns"] if meta else {}
        result = []
        for name, duck_type in rows:
            ct = declared.get(name.lower())
            if ct is None or not same_storage(ct, duck_type):
                ct = ColumnType(civis_type_for(duck_type), duck_type)
            result.append((name, duck_type, ct))
        return result

    # ------------------------------------------------------------------ table metadata API
    def table_exists(self, schema: str, table: str) -> bool:
        """Whether ``schema.table`` exists (tables and views)."""
        schema, table = check_schema(schema), check_identifier(table, "table")
        with self._cursor() as cur, translated_errors():
            return self._relation_kind(cur, schema, table) is not None

    def table_id(self, schema: str, table: str) -> int:
        """Stable integer id of an existing table (kept across restarts and drop/re-create)."""
        schema, table = check_schema(schema), check_identifier(table, "table")
        with self._lock, self._cursor() as cur, translated_errors():
            self._require_relation(cur, schema, table)
            return self._ensure_meta(cur, schema, table)

    def table_by_id(self, table_id: int) -> tuple[str, str]:
        """``(schema, table)`` for an id from :meth:`table_id`; WarehouseError if it is gone."""
        with self._cursor() as cur, translated_errors():
            row = cur.execute(
                f"SELECT schema_name, table_name FROM {META_TABLE} WHERE id = ?", [int(table_id)]
            ).fetchone()
            if row is None or self._relation_kind(cur, row[0], row[1]) is None:
                raise WarehouseError(f"Table {table_id} does not exist")
            return row[0], row[1]

    def list_tables(self, schema: str | None = None) -> list[dict[str, Any]]:
        """Tables and views (``id, schema, name, isView, rowCount, columnCount, createdAt,
        lastRefresh, dataUpdatedAt``), ordered by schema and name. ``rowCount`` is exact for
        tables and ``None`` for views."""
        if schema is not None:
            schema = check_schema(schema)
        reserved = list(RESERVED_SCHEMAS)
        with self._lock, self._cursor() as cur, translated_errors():
            rows = cur.execute(
                """SELECT lower(schema_name), lower(table_name), false, estimated_size, column_count
                   FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary
                   UNION ALL
                   SELECT lower(v.schema_name), lower(v.view_name), true, NULL,
                          (SELECT count(*) FROM duckdb_columns() c WHERE c.database_name = v.database_name
                             AND c.schema_name = v.schema_name AND c.table_name = v.view_name)
                   FROM duckdb_views() v WHERE v.database_name = current_database()
                     AND NOT v.temporary AND NOT v.internal
                   ORDER BY 1, 2""",
            ).fetchall()
            result = []
            for sch, name, is_view, size, ncols in rows:
                if sch in reserved or (schema is not None and sch != schema):
                    continue
                meta = self._ensured_meta(cur, sch, name)
                if not is_view:
                    size = one_row(cur.execute(f"SELECT count(*) FROM {qualified(sch, name)}"))[0]
                result.append({
                    "id": meta["id"], "schema": sch, "name": name, "isView": bool(is_view),
                    "rowCount": size, "columnCount": int(ncols),
                    "createdAt": iso(meta["created_at"]), "lastRefresh": iso(meta["last_refresh"]),
                    "dataUpdatedAt": iso(meta["data_updated_at"]),
                })
            return result

    def describe(self, schema: str, table: str) -> dict[str, Any]:
        """Columns and statistics of a table or view.

        Returns ``{id, schema, name, isView, columns: [{name, sqlType, civisDataType, order,
        nullCount, coverageCount}], columnCount, rowCount, sizeMb, createdAt, lastRefresh,
        dataUpdatedAt, primaryKeys, lastModifiedKeys}`` (timestamps as ISO-8601 UTC strings).
        """
        schema, table = check_schema(schema), check_identifier(table, "table")
        with self._lock, self._cursor() as cur, translated_errors():
            kind = self._require_relation(cur, schema, table)
            meta = self._ensured_meta(cur, schema, table)
            cols = self._live_columns(cur, schema, table)
            aggs = ["count(*)"]
            for name, duck_type, _ct in cols:
                q = quote_ident(name)
                width = FIXED_WIDTH.get(duck_type.upper())
                size = (f"{width} * count({q})" if width
                        else f"coalesce(sum(strlen(CAST({q} AS VARCHAR))), 0)")
                aggs += [f"count({q})", size]
            stats = one_row(cur.execute(f"SELECT {', '.join(aggs)} FROM {qualified(schema, table)}"))
        row_count = int(stats[0])
        columns, size_bytes = [], 0
        for i, (name, duck_type, ct) in enumerate(cols):
            non_null, col_bytes = int(stats[1 + 2 * i]), int(stats[2 + 2 * i] or 0)
            size_bytes += col_bytes
            columns.append({
                "name": name, "sqlType": ct.sql_type, "civisDataType": civis_data_type(duck_type),
                "order": i + 1, "nullCount": row_count - non_null, "coverageCount": non_null,
            })
        return {
            "id": meta["id"], "schema": schema, "name": table, "isView": kind == "view",
            "columns": columns, "columnCount": len(columns), "rowCount": row_count,
            "sizeMb": round(size_bytes / (1024 * 1024), 6),
            "createdAt": iso(meta["created_at"]), "lastRefresh": iso(meta["last_refresh"]),
            "dataUpdatedAt": iso(meta["data_updated_at"]),
            "primaryKeys": meta["primary_keys"], "lastModifiedKeys": meta["last_modified_keys"],
        }

    def refresh(self, schema: str, table: str) -> dict[str, Any]:
        """Record a statistics refresh now (persisted) and return :meth:`describe`."""
        schema, table = check_schema(schema), check_identifier(table, "table")
        with self._lock, self._cursor() as cur, translated_errors():
            self._require_relation(cur, schema, table)
            self._ensure_meta(cur, schema, table)
            cur.execute(f"UPDATE {META_TABLE} SET last_refresh = ? WHERE schema_name = ? AND table_name = ?",
                        [utc_now(), schema, table])
        return self.describe(schema, table)

    def drop_table(self, schema: str, table: str, *, missing_ok: bool = False) -> bool:
        """Drop a table or view; returns False when it did not exist and ``missing_ok``.
        The id is kept, so a table re-created under the same name gets its old id back."""
        schema, table = check_schema(schema), check_identifier(table, "table")
        with self._lock, self._cursor() as cur, translated_errors():
            kind = self._relation_kind(cur, schema, table)
            if kind is None:
                if missing_ok:
                    return False
                raise WarehouseError(f"Table {schema}.{table} does not exist")
            with self._transaction(cur):
                cur.execute(f"DROP {'VIEW' if kind == 'view' else 'TABLE'} {qualified(schema, table)}")
                self._reset_meta(cur, schema, table)
            return True

    def _reset_meta(self, cur: duckdb.DuckDBPyConnection, schema: str, table: str,
                    now: dt.datetime | None = None) -> None:
        cur.execute(
            f"""UPDATE {META_TABLE} SET columns = NULL, primary_keys = NULL, last_modified_keys = NULL,
                   last_refresh = NULL, data_updated_at = NULL, created_at = ?
                WHERE schema_name = ? AND table_name = ?""",
            [now or utc_now(), schema, table],
        )

    # ------------------------------------------------------------------ query
    def query(self, sql: str, *, preview_rows: int | None = 100) -> QueryResult:
        """Run one or more SQL statements in one transaction (unless the SQL manages its own).

        The result describes the last statement: its columns, at most ``preview_rows`` rows
        (``None``: all rows) rendered as text, and the total row count (rows affected for DML).
        """
        if not isinstance(sql, str) or not sql.strip():
            raise WarehouseError("The SQL is empty")
        if preview_rows is not None and preview_rows < 0:
            raise WarehouseError("preview_rows must be >= 0")
        with translated_errors():
            statements = duckdb.extract_statements(sql)
        if not statements:
            raise WarehouseError("The SQL contains no statement")
        own_transaction = any(s.type == duckdb.StatementType.TRANSACTION for s in statements)
        with self._lock, self._cursor() as cur, translated_errors():
            if own_transaction:
                result = QueryResult([], [], 0)
                for statement in statements:
                    result = self._run_statement(cur, statement, preview_rows)
                return result
            with self._transaction(cur):
                for statement in statements:
                    result = self._run_statement(cur, statement, preview_rows)
            return result

    @staticmethod
    def _statement_sql(statement: Any) -> str:
        return statement.query.strip().rstrip(";").strip()

    def _run_statement(self, cur: duckdb.DuckDBPyConnection, statement: Any,
                       preview_rows: int | None) -> QueryResult:
        text = self._statement_sql(statement)
        if statement.type == duckdb.StatementType.SELECT:
            limit = "" if preview_rows is None else f" LIMIT {int(preview_rows)}"
            try:
                cur.execute(f"SELECT *, count(*) OVER () AS {TOTAL_COL} FROM (\n{text}\n) AS __emulator_q__{limit}")
            except duckdb.Error as exc:
                # the statement's own error; the LINE pointer would count the wrapper's lines
                raise WarehouseError(clean_message(exc).split("\n\nLINE ", 1)[0]) from None
            description = cur.description[:-1]
            rows = cur.fetchall()
            if rows:
                total = int(rows[0][-1])
            else:
                total = one_row(cur.execute(f"SELECT count(*) FROM (\n{text}\n) AS __emulator_q__"))[0]
            columns = [{"name": d[0], "sqlType": civis_type_for(str(d[1]))} for d in description]
            return QueryResult(columns, [[text_value(v) for v in row[:-1]] for row in rows], int(total))
        cur.execute(text)
        description = cur.description or []
        if statement.type in (duckdb.StatementType.INSERT, duckdb.StatementType.UPDATE,
                              duckdb.StatementType.DELETE):
            row = cur.fetchone()
            return QueryResult([], [], int(row[0]) if row else 0)
        if not description:
            return QueryResult([], [], 0)
        columns = [{"name": d[0], "sqlType": civis_type_for(str(d[1]))} for d in description]
        preview: list[list[str | None]] = []
        total = 0
        while True:
            chunk = cur.fetchmany(10_000)
            if not chunk:
                break
            total += len(chunk)
            room = len(chunk) if preview_rows is None else max(0, preview_rows - len(preview))
            preview.extend([text_value(v) for v in row] for row in chunk[:room])
        return QueryResult(columns, preview, total)
