"""CSV exports: DuckDB's COPY writes the files, optionally split into size-bounded parts."""

from __future__ import annotations

import os
import threading
from typing import Any

import duckdb

from .common import DEFAULT_SCHEMA, EXPORT, SQL_KEYWORDS, TABLE_REF_RE, one_row, translated_errors
from .core_api import WarehouseCore
from .csvsource import normalize_compression, normalize_delimiter
from .errors import WarehouseError
from .sqltypes import check_identifier, check_schema, qualified, quote_literal


class ExportMixin(WarehouseCore):
    """``export_csv`` for :class:`~civis_emulator.warehouse.Warehouse`."""

    _lock: threading.RLock

    def export_csv(
        self,
        sql_or_table: str,
        dest_dir: str | os.PathLike[str],
        *,
        header: bool = True,
        delimiter: str = ",",
        compression: str = "none",
        max_file_size_bytes: int | None = None,
        file_name: str = "export",
    ) -> list[str]:
        """Write a table (``schema.table`` or ``table`` in ``public``) or the result of SQL (the
        last statement must be a SELECT) as CSV into ``dest_dir``; returns the file paths in order.

        Without ``max_file_size_bytes`` there is one file ``<file_name>.csv[.gz]``; with it, parts
        ``<file_name>_00000.csv[.gz]``... each at most that size (unless a single row is larger),
        each with its own header, rows in result order. DuckDB writes the files: constant memory.
        """
        delim = normalize_delimiter(delimiter)
        compression = normalize_compression(compression)
        if max_file_size_bytes is not None and max_file_size_bytes < 1:
            raise WarehouseError("max_file_size_bytes must be positive")
        dest = os.fspath(dest_dir)
        os.makedirs(dest, exist_ok=True)
        suffix = ".csv.gz" if compression == "gzip" else ".csv"
        options = (f"FORMAT csv, HEADER {'true' if header else 'false'}, DELIMITER {quote_literal(delim)}, "
                   f"QUOTE '\"', COMPRESSION {quote_literal(compression)}")
        pre, select = self._export_source(sql_or_table)
        lock = self._lock if pre else _NullLock()
        with lock, self._cursor() as cur, translated_errors():
            for statement in pre:
                cur.execute(self._statement_sql(statement))
            if max_file_size_bytes is None:
                path = os.path.join(dest, file_name + suffix)
                cur.execute(f"COPY (\n{select}\n) TO {quote_literal(path)} ({options})")
                return [path]
            return self._export_parts(cur, select, dest, file_name, suffix, options,
                                      max_file_size_bytes, header)

    def _export_source(self, sql_or_table: str) -> tuple[list[Any], str]:
        if not isinstance(sql_or_table, str) or not sql_or_table.strip():
            raise WarehouseError("Nothing to export: give a table name or a SELECT statement")
        match = TABLE_REF_RE.match(sql_or_table)
        if match and (match.group(1) or match.group(2).lower() not in SQL_KEYWORDS):
            schema = check_schema(match.group(1) or DEFAULT_SCHEMA)
            table = check_identifier(match.group(2), "table")
            with self._cursor() as cur, translated_errors():
                self._require_relation(cur, schema, table)
            return [], f"SELECT * FROM {qualified(schema, table)}"
        with translated_errors():
            statements = duckdb.extract_statements(sql_or_table)
        if not statements or statements[-1].type != duckdb.StatementType.SELECT:
            raise WarehouseError("An export's SQL must end with a SELECT statement")
        return list(statements[:-1]), self._statement_sql(statements[-1])

    @staticmethod
    def _export_parts(cur: duckdb.DuckDBPyConnection, select: str, dest: str, file_name: str,
                      suffix: str, options: str, max_bytes: int, header: bool) -> list[str]:
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {EXPORT} AS \n{select}\n")
        try:
            total = one_row(cur.execute(f"SELECT count(*) FROM {EXPORT}"))[0]
            names = [d[0] for d in cur.execute(f"SELECT * FROM {EXPORT} LIMIT 0").description]
            header_bytes = (len(",".join(names).encode()) + 1) if header else 0

            def write(index: int, start: int, count: int) -> tuple[str, int]:
                path = os.path.join(dest, f"{file_name}_{index:05d}{suffix}")
                cur.execute(f"COPY (SELECT * FROM {EXPORT} WHERE rowid >= {start} AND rowid < {start + count}"
                            f") TO {quote_literal(path)} ({options})")
                return path, os.path.getsize(path)

            if total == 0:
                return [write(0, 0, 0)[0]]
            probe_rows = min(total, 1000)
            probe_path, probe_size = write(0, 0, probe_rows)
            per_row = max(1.0, (probe_size - header_bytes) / probe_rows)
            os.remove(probe_path)
            paths: list[str] = []
            start = 0
            while start < total:
                count = min(total - start, max(1, int((max_bytes - header_bytes) / per_row)))
                while True:
                    path, size = write(len(paths), start, count)
                    if size <= max_bytes or count == 1:
                        break
                    count = max(1, min(count - 1, int(count * max_bytes / size * 0.95)))
                per_row = max(1.0, (size - header_bytes) / count)
                paths.append(path)
                start += count
            return paths
        finally:
            cur.execute(f"DROP TABLE IF EXISTS {EXPORT}")


class _NullLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None
