"""Runners that move data through the warehouse: CSV imports, queries, SQL scripts (with their CSV
output) and CSV exports (the CSV preprocess step of the official client is in ``preprocess.py``).

Every failure is the warehouse's own message (``RunFailed``); an import is one transaction, so a
failed one leaves the table as it was.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading

import duckdb

from .. import databases
from ..runs import RunContext, RunFailed, register_runner
from ..warehouse import WarehouseError
from ..warehouse.charsets import NotUtf8Error
from . import manifest
from .csv_import_rules import table_columns_problem

CSV_IMPORT = "JobTypes::CsvImport"
QUERY = "JobTypes::Query"
SQL_SCRIPT = "JobTypes::SqlRunner"
CSV_EXPORT = "JobTypes::CsvExport"
_DELIMITERS = {"comma": ",", "tab": "\t", "pipe": "|", None: ","}
DELAYED_UPSERT_SECONDS = 3.0
_log = logging.getLogger(__name__)


def _check_database(database_id) -> None:
    if database_id is None or databases.get_database(int(database_id)) is None:
        raise RunFailed(f"Database {database_id} does not exist")
    if int(database_id) != databases.DEFAULT_DATABASE_ID:
        raise RunFailed(f"Database {database_id} has no warehouse in the emulator")


def _source_paths(ctx: RunContext, file_ids) -> list[str]:
    paths = []
    for file_id in file_ids or []:
        try:
            paths.append(ctx.state.files.path(int(file_id)))
        except Exception as exc:  # FileNotFound / upload incomplete
            raise RunFailed(f"Source file {file_id}: {exc}") from None
    if not paths:
        raise RunFailed("The import has no source files (source.fileIds)")
    return paths


def _not_utf8_message(ctx: RunContext, exc: NotUtf8Error) -> str:
    """The import's error for a file in another character set: which Civis file, where, and the fix."""
    files = ctx.state.files
    label = os.path.basename(exc.path)
    for file_id in (ctx.job.get("source") or {}).get("fileIds") or []:
        try:
            if os.path.samefile(files.path(int(file_id)), exc.path):
                label = f"file {file_id} ({files.get(int(file_id))['name']})"
                break
        except Exception:  # noqa: BLE001 - a file gone since the import started: keep the path's name
            continue
    where = f" at line {exc.line}" if exc.line else ""
    return (f"Source {label} is not valid UTF-8{where}: Civis imports UTF-8 text only. Preprocess it first "
            "(POST /files/preprocess/csv with forceCharacterSetConversion: true, as civis-python's "
            "civis_file_to_table does) or save it as UTF-8; nothing was loaded")


def _json_output(ctx: RunContext, name: str, value) -> None:
    store = ctx.state.store
    doc = {"id": store.next_id("json_values"), "name": name, "value": value}
    store.put("json_values", doc)
    ctx.add_output("JSONValue", doc["id"], name, value)


def run_csv_import(ctx: RunContext) -> None:
    job = ctx.job
    dest = job.get("destination") or {}
    _check_database(dest.get("remoteHostId"))
    paths = _source_paths(ctx, (job.get("source") or {}).get("fileIds"))
    columns = job.get("tableColumns") or None
    if columns and job.get("loosenTypes"):
        columns = [{"name": c["name"]} for c in columns]  # detected from every row, not a sample
    schema, table = dest.get("schema"), dest.get("table")
    mode = job.get("existingTableRows") or "fail"
    if not (job.get("fileImport") or job.get("batchImport")):  # the legacy APIs take no tableColumns
        try:
            problem = table_columns_problem(job, ctx.state.warehouse.table_exists(schema or "", table or ""))
        except WarehouseError as exc:
            raise RunFailed(str(exc)) from None
        if problem:
            raise RunFailed(problem)
    ctx.log(f"Importing {len(paths)} file(s) into {schema}.{table} (existing table rows: {mode})")

    def load():
        return ctx.state.warehouse.import_csv(
            paths, schema, table, if_exists=mode, header=job.get("firstRowIsHeader", True) is not False,
            delimiter=_DELIMITERS.get(job.get("columnDelimiter"), job.get("columnDelimiter")),
            compression=job.get("compression") or "none", column_types=columns,
            primary_keys=dest.get("primaryKeys") or None, last_modified_keys=dest.get("lastModifiedKeys") or None,
            max_errors=job.get("maxErrors"), escaped=bool(job.get("escaped")),
        )

    if mode == "upsert" and job.get("execution", "immediate") != "immediate":  # legacy imports have none
        _load_later(ctx, load, f"{schema}.{table}")
        return
    try:
        result = load()
    except NotUtf8Error as exc:
        message = _not_utf8_message(ctx, exc)
        ctx.log(message, "error")
        raise RunFailed(message) from None
    except WarehouseError as exc:
        raise RunFailed(str(exc)) from None
    ctx.log(f"Loaded {result.rows_inserted} rows into {schema}.{table} "
            f"({result.rows_updated} replaced, {result.rows_rejected} rejected)")
    ctx.add_output("Table", result.table_id, f"{schema}.{table}".lower())
    _json_output(ctx, "import_result", {
        "rowsLoaded": result.rows_inserted, "rowsRejected": result.rows_rejected,
        "rowsUpdated": result.rows_updated, "tableId": result.table_id, "columns": result.columns,
    })


def _load_later(ctx: RunContext, load, table: str) -> None:
    """The spec's ``execution: "delayed"`` (its default) for upserts: "the data will be moved after a brief
    delay". The run succeeds first and the rows land :data:`DELAYED_UPSERT_SECONDS` later, so a client that
    reads the table as soon as the run ends (without ``"immediate"``) sees it as it was."""
    def move() -> None:
        try:
            result = load()
            _log.info("delayed upsert into %s: %s rows loaded", table, result.rows_inserted)
        except Exception as exc:  # the run has ended: nobody left to tell but the emulator's log
            _log.warning("delayed upsert into %s failed: %s", table, exc)

    timer = threading.Timer(DELAYED_UPSERT_SECONDS, move)
    timer.daemon = True
    timer.start()
    ctx.log(f"Upsert into {table} queued (execution 'delayed'): the rows move in about "
            f"{DELAYED_UPSERT_SECONDS:g} s")


def run_query(ctx: RunContext) -> None:
    job = ctx.job
    _check_database(job.get("database"))
    preview = job.get("previewRows")
    try:
        result = ctx.state.warehouse.query(job["sql"], preview_rows=100 if preview is None else int(preview))
    except WarehouseError as exc:
        ctx.state.registry.update_job(ctx.job_id, {"error": str(exc), "exception": str(exc)})
        raise RunFailed(str(exc)) from None
    ctx.log(f"Query finished: {result.row_count} rows")
    ctx.state.registry.update_job(ctx.job_id, {
        "resultColumns": [c["name"] for c in result.columns], "resultRows": result.rows, "error": None,
    })


def _last_is_select(sql: str) -> bool:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise RunFailed(str(exc).split("\n")[0]) from None
    return bool(statements) and statements[-1].type == duckdb.StatementType.SELECT


def _export_files(ctx: RunContext, sql: str, settings: dict, prefix: str, *,
                  with_manifest: bool = False) -> list[int]:
    """Run ``sql`` (ending with a SELECT) into CSV files, adopt them as Civis files, add outputs.

    ``with_manifest`` (a SQL script with ``forceMultifile``): headerless parts, and one output, the manifest."""
    compression = settings.get("compression") or "none"
    if compression not in ("none", "gzip"):
        raise RunFailed(f"CSV compression {compression!r} is not supported by the emulator; use gzip or none")
    max_size = settings.get("maxFileSize")
    split = bool(settings.get("forceMultifile")) or bool(max_size)
    header = settings.get("includeHeader", True) is not False
    chosen = settings.get("columnDelimiter")
    delimiter = _DELIMITERS.get(chosen) or str(chosen)
    files = ctx.state.files
    workdir = tempfile.mkdtemp(dir=files.scratch_dir())
    try:
        paths = ctx.state.warehouse.export_csv(
            sql, workdir, header=header or with_manifest, delimiter=delimiter, compression=compression,
            file_name=prefix,
            max_file_size_bytes=int(max_size) * 1024 * 1024 if max_size else (None if not split else 1 << 40),
        )
        if with_manifest:
            return [_adopt_with_manifest(ctx, sql, paths, workdir, prefix, header=header, delimiter=delimiter,
                                         compression=compression, unquoted=bool(settings.get("unquoted")))]
        ids = []
        for path in paths:
            file_id = files.adopt(os.path.basename(path), path)
            ctx.add_output("File", file_id, os.path.basename(path))
            ids.append(file_id)
        ctx.log(f"Exported {len(ids)} file(s): {', '.join(str(i) for i in ids)}")
        return ids
    except WarehouseError as exc:
        raise RunFailed(str(exc)) from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _adopt_with_manifest(ctx: RunContext, sql: str, paths: list[str], workdir: str, prefix: str, *,
                         header: bool, delimiter: str, compression: str, unquoted: bool) -> int:
    """Headerless parts adopted as files, listed in a manifest file: the run's only output."""
    names = manifest.column_names(manifest.strip_header(paths[0], compression), delimiter)
    entries = []
    for path in paths[1:]:
        manifest.strip_header(path, compression)
    for path in paths:
        name, size = os.path.basename(path), os.path.getsize(path)
        entries.append(manifest.entry(ctx, ctx.state.files.adopt(name, path), name, size))
    manifest_path = os.path.join(workdir, f"{prefix}_manifest.json")
    manifest.write_manifest(manifest_path, query=sql, header=names if header else None, delimiter=delimiter,
                            compression=compression, unquoted=unquoted, entries=entries)
    manifest_id = ctx.state.files.adopt(os.path.basename(manifest_path), manifest_path)
    ctx.add_output("File", manifest_id, os.path.basename(manifest_path))
    ctx.log(f"Unloaded {len(entries)} part(s) ({', '.join(str(e['id']) for e in entries)}); "
            f"manifest: file {manifest_id}")
    return manifest_id


def run_sql_script(ctx: RunContext) -> None:
    job = ctx.job
    _check_database(job.get("remoteHostId"))
    sql = job.get("sql") or ""
    if _last_is_select(sql):
        settings = job.get("csvSettings") or {}
        prefix = settings.get("filenamePrefix") or f"sql_script_{ctx.job_id}_run_{ctx.run_id}"
        _export_files(ctx, sql, settings, prefix, with_manifest=bool(settings.get("forceMultifile")))
        return
    try:
        result = ctx.state.warehouse.query(sql, preview_rows=0)
    except WarehouseError as exc:
        raise RunFailed(str(exc)) from None
    ctx.log(f"SQL finished: {result.row_count} rows affected")


def run_csv_export(ctx: RunContext) -> None:
    job = ctx.job
    source = job.get("source") or {}
    _check_database(source.get("remoteHostId"))
    prefix = (job.get("destination") or {}).get("filenamePrefix") or f"export_{ctx.job_id}_run_{ctx.run_id}"
    settings = {k: job.get(k) for k in ("includeHeader", "compression", "columnDelimiter", "forceMultifile",
                                        "maxFileSize")}
    _export_files(ctx, source.get("sql") or "", settings, prefix)


register_runner(CSV_IMPORT, run_csv_import)
register_runner(QUERY, run_query)
register_runner(SQL_SCRIPT, run_sql_script)
register_runner(CSV_EXPORT, run_csv_export)
