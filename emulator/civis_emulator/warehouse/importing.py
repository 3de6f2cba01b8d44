"""CSV imports: stage every value as text (DuckDB streams the files), check, detect, load.

One import is one transaction: staging, type checks, the DDL of the mode and the load either all
happen or none does.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from typing import Any

import duckdb

from .charsets import NotUtf8Error, raise_if_not_utf8
from .common import (
    IF_EXISTS_MODES,
    META_TABLE,
    REJECT_SCANS,
    REJECTS,
    STAGE,
    columns_json,
    one_row,
    translated_errors,
    utc_now,
)
from .core_api import WarehouseCore
from .csvsource import first_record, normalize_compression, normalize_delimiter
from .errors import WarehouseError
from .results import ImportResult
from .sqltypes import (
    DEFAULT_VARCHAR,
    INTEGER_TYPES,
    ColumnType,
    check_identifier,
    check_schema,
    parse_sql_type,
    qualified,
    quote_ident,
    quote_literal,
)


class ImportMixin(WarehouseCore):
    """``import_csv`` for :class:`~civis_emulator.warehouse.Warehouse`."""

    _lock: threading.RLock

    def import_csv(
        self,
        source_paths: Sequence[str | os.PathLike[str]],
        schema: str,
        table: str,
        *,
        if_exists: str = "fail",
        header: bool = True,
        delimiter: str = ",",
        compression: str = "none",
        column_types: Sequence[dict[str, Any]] | None = None,
        primary_keys: Sequence[str] | None = None,
        last_modified_keys: Sequence[str] | None = None,
        max_errors: int | None = None,
        escaped: bool = False,
        create_missing: bool = True,
    ) -> ImportResult:
        """Load CSV files (one logical import) into ``schema.table``, atomically.

        ``if_exists`` is Civis' ``existingTableRows`` and, as on Civis, only matters when the table
        exists: ``fail`` raises, ``append`` adds rows, ``truncate`` empties the table first, ``drop``
        replaces it (new columns and types), ``upsert`` replaces rows whose ``primary_keys`` match
        (only when the incoming ``last_modified_keys`` are not older, if given) and inserts the rest.
        A missing table is created in every mode (Civis: "Create new table, append if already
        exists"); ``create_missing=False`` makes append/truncate/upsert raise instead.

        ``column_types`` (Civis ``tableColumns``) lists the source columns in file order as
        ``{"name", "sqlType"}``; names override the header, a missing ``sqlType`` is detected (new
        tables) or taken from the table (existing ones, where columns are matched by name). Without
        it, types are detected from all rows. Rows that do not parse (wrong column count, a value
        that does not convert, a string longer than a declared ``VARCHAR(n)``, a NULL primary key)
        fail the whole import unless ``max_errors`` allows that many; then they are skipped and
        counted in ``rows_rejected``. Nothing changes when an import fails. A file that is not UTF-8
        raises :class:`~.charsets.NotUtf8Error` whatever ``max_errors`` says (its rows are not bad rows,
        the file is in another character set: CSV preprocessing converts it).
        """
        schema, table = check_schema(schema), check_identifier(table, "table")
        if if_exists not in IF_EXISTS_MODES:
            raise WarehouseError(f"Unsupported existing table rows mode {if_exists!r}: use one of "
                                 + ", ".join(IF_EXISTS_MODES))
        delim = normalize_delimiter(delimiter)
        compression = normalize_compression(compression)
        if max_errors is not None and (not isinstance(max_errors, int) or max_errors < 0):
            raise WarehouseError("max_errors must be a non-negative integer")
        allowed = max_errors or 0
        paths = [os.path.abspath(os.fspath(p)) for p in source_paths]
        if not paths:
            raise WarehouseError("No source files to import")
        records = [first_record(p, delimiter=delim, compression=compression, escaped=escaped) for p in paths]
        spec = self._column_spec(column_types)
        loaded = [(p, r) for p, r in zip(paths, records) if r is not None]
        if not loaded:
            if spec is None:
                raise WarehouseError("The source files are empty: no columns to import")
            ncols, first = len(spec), None
        else:
            first = loaded[0][1]
            ncols = len(first)
            for path, record in loaded[1:]:
                if len(record) != ncols or (header and record != first):
                    raise WarehouseError(
                        f"Source file {os.path.basename(path)} does not have the same "
                        f"{'header' if header else 'number of columns'} as {os.path.basename(loaded[0][0])}"
                    )
        with self._lock, self._cursor() as cur, translated_errors():
            with self._transaction(cur):
                return self._import(
                    cur, [p for p, _ in loaded], schema, table, mode=if_exists, header=header, delim=delim,
                    compression=compression, escaped=escaped, spec=spec, ncols=ncols,
                    header_names=first if header else None, primary_keys=primary_keys,
                    last_modified_keys=last_modified_keys, allowed=allowed, create_missing=create_missing,
                )

    @staticmethod
    def _column_spec(column_types: Sequence[dict[str, Any]] | None) -> list[tuple[str, Any]] | None:
        if column_types is None:
            return None
        spec = []
        for i, col in enumerate(column_types):
            if not isinstance(col, dict) or not isinstance(col.get("name"), str) or not col["name"]:
                raise WarehouseError(f"tableColumns[{i}] needs a column name")
            spec.append((col["name"], col.get("sqlType") or col.get("sql_type")))
        return spec

    def _import(self, cur: duckdb.DuckDBPyConnection, paths: list[str], schema: str, table: str, *,
                mode: str, header: bool, delim: str, compression: str, escaped: bool,
                spec: list[tuple[str, Any]] | None, ncols: int, header_names: list[str] | None,
                primary_keys: Sequence[str] | None, last_modified_keys: Sequence[str] | None,
                allowed: int, create_missing: bool) -> ImportResult:
        target = qualified(schema, table)
        kind = self._relation_kind(cur, schema, table)
        if kind == "view":
            raise WarehouseError(f"{schema}.{table} is a view: cannot import into it")
        exists = kind == "table"
        if exists and mode == "fail":
            raise WarehouseError(f"Table {schema}.{table} already exists (existing table rows: fail)")
        if not exists and mode in ("append", "truncate", "upsert") and not create_missing:
            raise WarehouseError(f"Table {schema}.{table} does not exist")
        use_existing = exists and mode != "drop"
        meta = self._meta(cur, schema, table) if exists else None

        # Source column names, in file order.
        if spec is not None:
            if len(spec) != ncols:
                raise WarehouseError(f"The source has {ncols} columns but {len(spec)} table columns were given")
            names = [name for name, _ in spec]
        elif header_names is not None:
            names = [name.strip() or f"column{i}" for i, name in enumerate(header_names)]
        else:
            names = []

        # Target columns and types.
        if use_existing:
            live = self._live_columns(cur, schema, table)
            by_lower = {name.lower(): (name, ct) for name, _duck, ct in live}
            if not names:
                if ncols != len(live):
                    raise WarehouseError(f"The source has {ncols} columns but table {schema}.{table} "
                                         f"has {len(live)}")
                names = [name for name, _duck, _ct in live]
            targets: list[tuple[str, ColumnType | None]] = []
            for name in names:
                if name.lower() not in by_lower:
                    raise WarehouseError(f"Column {name!r} does not exist in table {schema}.{table}")
                targets.append(by_lower[name.lower()])
        else:
            names = names or [f"column{i}" for i in range(ncols)]
            targets = [(name, None) for name in names]
        seen: set[str] = set()
        for name in names:
            if name.lower() in seen:
                raise WarehouseError(f"Duplicate column name {name!r}")
            seen.add(name.lower())
        col_names = [name for name, _ in targets]
        lower_index = {name.lower(): i for i, name in enumerate(col_names)}

        # Keys.
        pks, lmks = None, None
        if mode == "upsert":
            keys = list(primary_keys) if primary_keys else (meta or {}).get("primary_keys")
            if not keys:
                raise WarehouseError("Upsert needs primary keys")
            lm = list(last_modified_keys) if last_modified_keys else None
            if lm is None and use_existing:
                lm = (meta or {}).get("last_modified_keys")
            if not use_existing and not lm:
                raise WarehouseError("Upsert into a new table needs last modified keys")
            pks = [self._key_index(k, lower_index, schema, table, "Primary key") for k in keys]
            lmks = [self._key_index(k, lower_index, schema, table, "Last modified key") for k in lm or []]

        # Stage every value as text, straight from the files (DuckDB streams them).
        stage_cols = ", ".join(f"{quote_literal(f'c{i}')}: 'VARCHAR'" for i in range(ncols))
        reject_opts = ""
        if allowed:
            cur.execute(f"DROP TABLE IF EXISTS {REJECTS}")
            cur.execute(f"DROP TABLE IF EXISTS {REJECT_SCANS}")
            reject_opts = f", store_rejects = true, rejects_table = '{REJECTS}', rejects_scan = '{REJECT_SCANS}'"
        cur.execute(f"DROP TABLE IF EXISTS {STAGE}")
        if paths:
            try:
                cur.execute(
                    f"""CREATE TEMP TABLE {STAGE} AS SELECT * FROM read_csv(?, columns = {{{stage_cols}}},
                            header = {'true' if header else 'false'}, delim = {quote_literal(delim)}, quote = '"',
                            escape = {quote_literal(chr(92) if escaped else '"')}, compression = '{compression}',
                            auto_detect = false, strict_mode = true, filename = '__file'{reject_opts})""",
                    [paths],
                )
            except duckdb.Error as exc:
                raise_if_not_utf8(str(exc), paths[0])
                raise
            if allowed:  # a row that is not UTF-8 is no bad row to skip: the whole file is in another charset
                not_utf8 = cur.execute(
                    f"SELECT s.file_path, r.line FROM {REJECTS} r JOIN {REJECT_SCANS} s USING (scan_id, file_id) "
                    "WHERE r.error_type = 'INVALID ENCODING' ORDER BY r.file_id, r.line LIMIT 1").fetchone()
                if not_utf8:
                    raise NotUtf8Error(str(not_utf8[0]), int(not_utf8[1]))
        else:
            cur.execute(f"CREATE TEMP TABLE {STAGE} ({', '.join(f'c{i} VARCHAR' for i in range(ncols))}, "
                        "__file VARCHAR)")
        csv_rejects = 0
        first_reject = None
        if allowed and paths:
            csv_rejects = one_row(cur.execute(f"SELECT count(DISTINCT (file_id, line)) FROM {REJECTS}"))[0]
            first_reject = cur.execute(
                f"SELECT line, csv_line, error_message FROM {REJECTS} ORDER BY file_id, line LIMIT 1"
            ).fetchone()

        # Types: declared, the table's, or detected from every staged value.
        known: list[ColumnType | None] = []
        to_detect: list[int] = []
        for i, (name, existing) in enumerate(targets):
            if existing is not None:
                known.append(existing)
            elif spec is not None and spec[i][1]:
                known.append(parse_sql_type(spec[i][1], name))
            else:
                known.append(None)
                to_detect.append(i)
        found = dict(zip(to_detect, self._detect(cur, to_detect)))
        types = [ct if ct is not None else found[i] for i, ct in enumerate(known)]

        # Rows that would not load.
        pk_set = set(pks or [])
        detected = set(to_detect)
        checks = [self._bad_value_expr(f"c{i}", ct, i in pk_set, check_value=i not in detected)
                  for i, ct in enumerate(types)]
        bad = " OR ".join(f"({c})" for c in checks if c) or "false"
        n_bad = one_row(cur.execute(f"SELECT count(*) FROM {STAGE} WHERE {bad}"))[0] if bad != "false" else 0
        rejected = int(csv_rejects) + int(n_bad)
        if rejected > allowed:
            if n_bad:
                message = self._bad_row_message(cur, checks, bad, col_names, types)
            else:
                assert first_reject is not None  # rejected > allowed >= 1 with no bad value: CSV rejects
                line, csv_line, error = first_reject
                message = f"CSV Error on Line: {line}\nOriginal Line: {csv_line}\n{error}"
            if allowed:
                message += f"\n({rejected} rows rejected, more than max_errors = {allowed})"
            raise WarehouseError(message)

        # Apply.
        now = utc_now()
        if not use_existing:
            if exists:
                cur.execute(f"DROP TABLE {target}")
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
            cur.execute(f"CREATE TABLE {target} ("
                        + ", ".join(f"{quote_ident(n)} {ct.duck_type}" for n, ct in zip(col_names, types)) + ")")
            self._ensure_meta(cur, schema, table)
            self._reset_meta(cur, schema, table, now)
        elif mode == "truncate":
            cur.execute(f"DELETE FROM {target}")
        values = ", ".join(f"{self._cast_expr(f'c{i}', ct)} AS {quote_ident(n)}"
                           for i, (n, ct) in enumerate(zip(col_names, types)))
        quoted_cols = ", ".join(quote_ident(n) for n in col_names)
        good = f"NOT ({bad})"
        updated = 0
        if mode == "upsert":
            assert pks is not None and lmks is not None  # set with the keys above
            inserted, updated = self._upsert(cur, target, col_names, values, good, pks, lmks)
        else:
            inserted = one_row(cur.execute(
                f"INSERT INTO {target} ({quoted_cols}) SELECT {values} FROM {STAGE} WHERE {good} ORDER BY rowid"
            ))[0]

        # Remember declared types (growing detected VARCHAR lengths) and keys.
        meta = self._ensured_meta(cur, schema, table)
        table_id = int(meta["id"])
        declared = dict(meta["columns"])
        if not use_existing:
            declared = {n.lower(): ct for n, ct in zip(col_names, types)}
        else:
            grow = [(i, ct) for i, ct in enumerate(types) if ct.duck_type == "VARCHAR" and ct.max_length
                    and not ct.enforced]
            if grow:
                lengths = one_row(cur.execute(
                    "SELECT " + ", ".join(f"coalesce(max(strlen(c{i})), 0)" for i, _ in grow)
                    + f" FROM {STAGE} WHERE {good}"
                ))
                for (i, ct), length in zip(grow, lengths):
                    if length > ct.max_length:
                        declared[col_names[i].lower()] = ColumnType(f"VARCHAR({length})", "VARCHAR", length)
        key_updates = ""
        params: list[Any] = [columns_json(declared), now, now]
        if pks is not None:
            key_updates = ", primary_keys = ?, last_modified_keys = ?"
            params += [json.dumps([col_names[i] for i in pks]),
                       json.dumps([col_names[i] for i in lmks]) if lmks else None]
        cur.execute(f"UPDATE {META_TABLE} SET columns = ?, data_updated_at = ?, last_refresh = ?{key_updates} "
                    "WHERE id = ?", params + [table_id])
        cur.execute(f"DROP TABLE IF EXISTS {STAGE}")
        result_cols = [{"name": n, "sqlType": ct.sql_type} for n, _d, ct in self._live_columns(cur, schema, table)]
        return ImportResult(rows_inserted=int(inserted), rows_rejected=rejected, columns=result_cols,
                            rows_updated=int(updated), table_id=table_id)

    @staticmethod
    def _key_index(key: str, lower_index: dict[str, int], schema: str, table: str, what: str) -> int:
        if not isinstance(key, str) or key.lower() not in lower_index:
            raise WarehouseError(f"{what} {key!r} is not a column of the import into {schema}.{table}")
        return lower_index[key.lower()]

    #: Candidate detected types, narrowest first: (Civis type, DuckDB type, check of one value).
    _CANDIDATES: tuple[tuple[str, str, str], ...] = (
        ("BOOLEAN", "BOOLEAN", "lower(trim({v})) IN ('true', 'false', 't', 'f')"),
        ("INTEGER", "INTEGER", "regexp_matches({v}, '^\\s*[+-]?[0-9]+\\s*$') AND TRY_CAST({v} AS INTEGER) IS NOT NULL"),
        ("BIGINT", "BIGINT", "regexp_matches({v}, '^\\s*[+-]?[0-9]+\\s*$') AND TRY_CAST({v} AS BIGINT) IS NOT NULL"),
        ("DOUBLE PRECISION", "DOUBLE", "TRY_CAST({v} AS DOUBLE) IS NOT NULL"),
        ("DATE", "DATE", "regexp_matches({v}, '^\\s*[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}\\s*$') "
                         "AND TRY_CAST({v} AS DATE) IS NOT NULL"),
        ("TIMESTAMP", "TIMESTAMP", "regexp_matches({v}, '^\\s*[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[ T][0-9]') "
                                   "AND TRY_CAST({v} AS TIMESTAMP) IS NOT NULL"),
    )
    _SAMPLE_ROWS = 20_000

    def _detect(self, cur: duckdb.DuckDBPyConnection, indexes: list[int]) -> list[ColumnType]:
        """Civis-style types that fit every staged value: the narrowest candidate.

        Failing casts are slow, so candidates are first screened on a sample and then only the
        best surviving candidate of each column is verified against all rows (usually one scan).
        """
        if not indexes:
            return []
        screen = [f"coalesce(bool_and({check.format(v=f'c{i}')}), true)"
                  for i in indexes for _s, _d, check in self._CANDIDATES]
        row = one_row(cur.execute(
            f"SELECT {', '.join(screen)} FROM {STAGE} WHERE rowid < {self._SAMPLE_ROWS}"
        ))
        k = len(self._CANDIDATES)
        pending = {i: [c for c, ok in zip(self._CANDIDATES, row[n * k:(n + 1) * k]) if ok]
                   for n, i in enumerate(indexes)}
        stats = one_row(cur.execute(
            "SELECT " + ", ".join(f"count(c{i}), coalesce(max(strlen(c{i})), 0)" for i in indexes)
            + f" FROM {STAGE}"
        ))
        result: dict[int, ColumnType] = {}
        for n, i in enumerate(indexes):
            count, max_len = stats[2 * n], stats[2 * n + 1]
            if not count:
                result[i] = ColumnType(DEFAULT_VARCHAR, "VARCHAR", 256)
                pending.pop(i)
            elif not pending[i]:
                length = max(1, int(max_len))
                result[i] = ColumnType(f"VARCHAR({length})", "VARCHAR", length)
                pending.pop(i)
        while pending:
            verify = list(pending)
            checks = ", ".join(
                f"coalesce(bool_and({pending[i][0][2].format(v=f'c{i}')}), true)" for i in verify)
            oks = one_row(cur.execute(f"SELECT {checks} FROM {STAGE}"))
            for i, ok in zip(verify, oks):
                if ok:
                    civis, duck, _check = pending.pop(i)[0]
                    result[i] = ColumnType(civis, duck)
                else:
                    pending[i].pop(0)
                    if not pending[i]:
                        pending.pop(i)
                        length = max(1, int(stats[2 * indexes.index(i) + 1]))
                        result[i] = ColumnType(f"VARCHAR({length})", "VARCHAR", length)
        return [result[i] for i in indexes]

    @staticmethod
    def _bad_value_expr(v: str, ct: ColumnType, is_key: bool, *, check_value: bool = True) -> str | None:
        parts = []
        if is_key:
            parts.append(f"{v} IS NULL")
        duck = ct.duck_type.upper()
        if not check_value:
            pass
        elif duck == "VARCHAR":
            if ct.enforced and ct.max_length:
                parts.append(f"strlen({v}) > {ct.max_length}")
        elif duck in INTEGER_TYPES:
            parts.append(f"({v} IS NOT NULL AND (NOT regexp_matches({v}, '^\\s*[+-]?[0-9]+\\s*$') "
                         f"OR TRY_CAST({v} AS {ct.duck_type}) IS NULL))")
        else:
            parts.append(f"({v} IS NOT NULL AND TRY_CAST({v} AS {ct.duck_type}) IS NULL)")
        return " OR ".join(parts) or None

    @staticmethod
    def _cast_expr(v: str, ct: ColumnType) -> str:
        duck = ct.duck_type.upper()
        if duck == "VARCHAR":
            return v
        if duck in INTEGER_TYPES:
            return f"CAST(trim({v}) AS {ct.duck_type})"
        return f"CAST({v} AS {ct.duck_type})"

    def _bad_row_message(self, cur: duckdb.DuckDBPyConnection, checks: list[str | None], bad: str,
                         col_names: list[str], types: list[ColumnType]) -> str:
        flags = ", ".join(f"coalesce({c}, false)" if c else "false" for c in checks)
        values = ", ".join(f"c{i}" for i in range(len(col_names)))
        row = one_row(cur.execute(
            f"SELECT rowid, __file, {values}, {flags} FROM {STAGE} WHERE {bad} ORDER BY rowid LIMIT 1"
        ))
        rowid, file = row[0], row[1]
        record = one_row(cur.execute(f"SELECT count(*) FROM {STAGE} WHERE __file = ? AND rowid < ?",
                                     [file, rowid]))[0] + 1
        n = len(col_names)
        i = next(k for k in range(n) if row[2 + n + k])
        value, ct, name = row[2 + i], types[i], col_names[i]
        where = f"Row {record} of {os.path.basename(file)}, column {name!r}"
        if value is None:
            return f"{where}: a primary key column must not be NULL"
        if ct.duck_type.upper() == "VARCHAR":
            return f"{where}: value too long for type {ct.sql_type} ({len(value.encode())} bytes)"
        try:
            cur.execute(f"SELECT CAST(? AS {ct.duck_type})", [value])
        except duckdb.Error as exc:
            return f"{where}: {str(exc).split(chr(10))[0]}"
        return f"{where}: Conversion Error: Could not convert string {value!r} to {ct.sql_type}"

    @staticmethod
    def _upsert(cur: duckdb.DuckDBPyConnection, target: str, col_names: list[str], values: str, good: str,
                pks: list[int], lmks: list[int]) -> tuple[int, int]:
        quoted = [quote_ident(n) for n in col_names]
        new = "__emulator_upsert"
        order = ", ".join([f"{quoted[i]} DESC NULLS LAST" for i in lmks] + ["__emulator_ord DESC"])
        partition = ", ".join(quoted[i] for i in pks)
        cur.execute(f"DROP TABLE IF EXISTS {new}")
        cur.execute(
            f"""CREATE TEMP TABLE {new} AS SELECT * EXCLUDE (__emulator_ord, __emulator_rn) FROM (
                    SELECT *, row_number() OVER (PARTITION BY {partition} ORDER BY {order}) AS __emulator_rn
                    FROM (SELECT {values}, rowid AS __emulator_ord FROM {STAGE} WHERE {good})
                ) WHERE __emulator_rn = 1 ORDER BY __emulator_ord"""
        )
        match = " AND ".join(f"t.{quoted[i]} = n.{quoted[i]}" for i in pks)
        newer = ""
        if lmks:
            t_key = ", ".join(f"t.{quoted[i]}" for i in lmks)
            n_key = ", ".join(f"n.{quoted[i]}" for i in lmks)
            if len(lmks) == 1:
                newer = f" AND (t.{quoted[lmks[0]]} IS NULL OR n.{quoted[lmks[0]]} >= t.{quoted[lmks[0]]})"
            else:
                newer = f" AND NOT (row({t_key}) > row({n_key}))"
        updated = one_row(cur.execute(f"DELETE FROM {target} AS t USING {new} AS n WHERE {match}{newer}"))[0]
        inserted = one_row(cur.execute(
            f"INSERT INTO {target} ({', '.join(quoted)}) SELECT * FROM {new} AS n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {target} AS t WHERE {match})"
        ))[0]
        cur.execute(f"DROP TABLE {new}")
        return int(inserted), int(updated)
