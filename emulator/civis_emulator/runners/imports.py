"""The generic import runner (``JobTypes::Import``, ``/imports``): each sync of the job in turn.

Syncs the emulator can really do go through the warehouse: a warehouse table (``databaseTable`` or a
``schema.table`` path) or a Civis file into a warehouse table. Anything else needs an external host
(FTP, Salesforce, Google Sheets, another database ...) and fails the run with a clear message.
"""

from __future__ import annotations

import shutil
import tempfile

from .. import databases
from ..runs import RunContext, RunFailed, register_runner
from ..warehouse import WarehouseError
from ..warehouse.charsets import NotUtf8Error
from .data import _DELIMITERS, _json_output

IMPORT = "JobTypes::Import"
_WAREHOUSE_SYNCS = ("Dbsync", "AutoImport")


def _is_warehouse(host_id) -> bool:
    return host_id is not None and int(host_id) == databases.DEFAULT_DATABASE_ID


def _table_of(side: dict) -> tuple[str, str] | None:
    table = side.get("databaseTable") or {}
    if table.get("table"):
        return table.get("schema") or "public", table["table"]
    path = (side.get("path") or "").replace('"', "")
    if "." in path:
        schema, name = path.split(".", 1)
        return schema, name
    return None


def _unreachable(kind: str) -> RunFailed:
    return RunFailed(f"the emulator cannot reach {kind} hosts")


def _check_hosts(job: dict) -> None:
    sync_type = job.get("syncType") or "Dbsync"
    src_host = (job.get("source") or {}).get("remoteHostId")
    dst_host = (job.get("destination") or {}).get("remoteHostId")
    if sync_type not in _WAREHOUSE_SYNCS:
        raise _unreachable(sync_type)
    if job.get("isOutbound") and not _is_warehouse(dst_host):
        raise _unreachable(f"{sync_type} destination (remote host {dst_host})")
    if not _is_warehouse(dst_host):
        raise _unreachable(f"remote host {dst_host}: only the emulator warehouse (database "
                           f"{databases.DEFAULT_DATABASE_ID}) is reachable; other")
    if sync_type == "Dbsync" and not _is_warehouse(src_host):
        raise _unreachable(f"remote host {src_host}: only the emulator warehouse (database "
                           f"{databases.DEFAULT_DATABASE_ID}) is reachable; other")


def _mode(options: dict) -> tuple[str, list[str] | None, list[str] | None]:
    if options.get("identityColumn"):
        keys = [k.strip() for k in options["identityColumn"].split(",") if k.strip()]
        last = options.get("lastModifiedColumn")
        return "upsert", keys, [last] if last and last != "Auto-Detect" else None
    if options.get("wipeDestinationTable"):
        return "drop", None, None
    return options.get("existingTableRows") or "drop", None, None


def _run_sync(ctx: RunContext, sync: dict) -> dict:
    src, dst = sync.get("source") or {}, sync.get("destination") or {}
    options = sync.get("advancedOptions") or {}
    if src.get("googleWorksheet") or dst.get("googleWorksheet"):
        raise _unreachable("Google Sheets")
    target = _table_of(dst)
    if target is None:
        raise RunFailed(f"Sync {sync['id']}: the destination needs a databaseTable or a schema.table path")
    mode, keys, last = _mode(options)
    wh, files = ctx.state.warehouse, ctx.state.files
    workdir = tempfile.mkdtemp(dir=files.scratch_dir())
    try:
        file_id = (src.get("file") or {}).get("id")
        if file_id is not None:
            try:
                paths = [files.path(int(file_id))]
            except Exception as exc:  # FileNotFound / upload incomplete
                raise RunFailed(f"Sync {sync['id']}: source file {file_id}: {exc}") from None
            header = options.get("firstRowIsHeader") is not False
            delimiter = _DELIMITERS.get(options.get("columnDelimiter"), options.get("columnDelimiter"))
            what, columns = f"file {file_id}", None
        else:
            source = _table_of(src)
            if source is None:
                raise RunFailed(f"Sync {sync['id']}: the source needs a databaseTable, a schema.table path or a file")
            what = f"{source[0]}.{source[1]}"
            described = wh.describe(*source)
            columns = [{"name": c["name"], "sqlType": c.get("sqlType")} for c in described.get("columns", [])]
            paths = wh.export_csv(f"{source[0]}.{source[1]}", workdir, file_name="sync")
            header, delimiter = True, ","
        ctx.log(f"Sync {sync['id']}: {what} -> {target[0]}.{target[1]} ({mode})")
        result = wh.import_csv(paths, target[0], target[1], if_exists=mode, header=header, delimiter=delimiter,
                               column_types=columns or None, primary_keys=keys, last_modified_keys=last,
                               max_errors=options.get("maxErrors"), escaped=bool(options.get("escaped")))
    except NotUtf8Error as exc:
        where = f" at line {exc.line}" if exc.line else ""
        raise RunFailed(f"Sync {sync['id']}: {what} is not valid UTF-8{where}: imports load UTF-8 text only; "
                        "convert it first (POST /files/preprocess/csv)") from None
    except WarehouseError as exc:
        raise RunFailed(f"Sync {sync['id']}: {exc}") from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ctx.log(f"Sync {sync['id']}: loaded {result.rows_inserted} rows ({result.rows_updated} replaced)")
    ctx.add_output("Table", result.table_id, f"{target[0]}.{target[1]}".lower())
    return {"syncId": sync["id"], "tableId": result.table_id, "rowsLoaded": result.rows_inserted,
            "rowsUpdated": result.rows_updated, "rowsRejected": result.rows_rejected}


def run_import(ctx: RunContext) -> None:
    job = ctx.job
    syncs = job.get("syncs") or []
    if not syncs:
        raise RunFailed("The import has no syncs (POST /imports/{id}/syncs)")
    _check_hosts(job)
    results = []
    for sync in syncs:
        if ctx.cancelled.is_set():
            return
        if sync.get("archived"):
            continue
        results.append(_run_sync(ctx, sync))
    _json_output(ctx, "import_result", {"syncs": results})


register_runner(IMPORT, run_import)
