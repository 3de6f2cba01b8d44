"""Data in and out of emulated CivisML and enhancement runs: warehouse tables, Civis files, run outputs."""

from __future__ import annotations

import gzip
import io
import json
import os
import tempfile
from typing import Any

import pandas as pd

from ..runs import RunContext, RunFailed
from ..warehouse import WarehouseError


def split_table(name: str) -> tuple[str, str]:
    parts = [p.strip().strip('"') for p in str(name).split(".")]
    if len(parts) == 1:
        return "public", parts[0]
    if len(parts) == 2 and all(parts):
        return parts[0], parts[1]
    raise RunFailed(f"Table name {name!r} is not 'schema.table'")


def read_table(ctx: RunContext, table_name: str, where: str | None = None, limit: Any = None) -> pd.DataFrame:
    """All rows of ``schema.table`` (optionally ``WHERE where LIMIT limit``) as a DataFrame."""
    schema, table = split_table(table_name)
    warehouse = ctx.state.warehouse
    try:
        if not warehouse.table_exists(schema, table):
            raise RunFailed(f"Table {schema}.{table} does not exist in the warehouse")
        sql = f'SELECT * FROM "{schema}"."{table}"'
        if where:
            sql += f" WHERE {where}"
        if limit not in (None, ""):
            sql += f" LIMIT {int(limit)}"
        with tempfile.TemporaryDirectory(prefix=f"civis-run-{ctx.run_id}-") as tmp:
            paths = warehouse.export_csv(sql, tmp, file_name="data")
            frames = [pd.read_csv(p, keep_default_na=True) for p in paths]
    except WarehouseError as exc:
        raise RunFailed(f"Could not read {table_name}: {exc}") from None
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def read_file(ctx: RunContext, file_id: Any) -> pd.DataFrame:
    """A CSV (optionally gzipped) stored in the emulator's files."""
    from ..filestore import FileStoreError

    try:
        path = ctx.state.files.path(int(file_id))
    except (FileStoreError, ValueError, TypeError) as exc:
        raise RunFailed(f"Civis file {file_id} cannot be read: {exc}") from None
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if raw[:6] == b"ARROW1":  # civis.ml uploads data frames as Feather when it can (templates above 9969)
        try:
            return pd.read_feather(io.BytesIO(raw))
        except ImportError:
            raise RunFailed(f"Civis file {file_id} is Feather: the emulator needs pyarrow to read it") from None
    return pd.read_csv(io.BytesIO(raw))


def read_source(ctx: RunContext, args: dict) -> tuple[pd.DataFrame, str]:
    """The run's input data (``TABLE_NAME`` or ``CIVIS_FILE_ID``) and a description of where it was."""
    if args.get("CIVIS_FILE_ID") not in (None, ""):
        return read_file(ctx, args["CIVIS_FILE_ID"]), f"civis file {args['CIVIS_FILE_ID']}"
    if args.get("TABLE_NAME"):
        return read_table(ctx, args["TABLE_NAME"], args.get("WHERESQL"), args.get("LIMITSQL")), args["TABLE_NAME"]
    raise RunFailed("No data source: set TABLE_NAME (with DB) or CIVIS_FILE_ID")


def write_table(ctx: RunContext, frame: pd.DataFrame, table_name: str, if_exists: str = "fail") -> int:
    """Load ``frame`` into ``schema.table`` with Civis' existing-table modes; returns the table id."""
    schema, table = split_table(table_name)
    warehouse = ctx.state.warehouse
    try:
        if if_exists == "fail" and warehouse.table_exists(schema, table):
            raise RunFailed(f"Table {schema}.{table} already exists (if_exists is 'fail')")
        with tempfile.TemporaryDirectory(prefix=f"civis-run-{ctx.run_id}-") as tmp:
            path = os.path.join(tmp, "out.csv")
            frame.to_csv(path, index=False)
            result = warehouse.import_csv([path], schema, table, if_exists=if_exists)
        return int(result.table_id) if result.table_id is not None else warehouse.table_id(schema, table)
    except WarehouseError as exc:
        raise RunFailed(f"Could not write {table_name}: {exc}") from None


def add_file_output(ctx: RunContext, name: str, content: bytes) -> int:
    """Store ``content`` as a Civis file called ``name`` and attach it to the run as a File output."""
    files = ctx.state.files
    file_id = files.create(name, expires_at=None)
    files.write_stream(file_id, [content])
    ctx.add_output("File", file_id, name)
    return file_id


def add_json_file_output(ctx: RunContext, name: str, data: Any) -> int:
    return add_file_output(ctx, name, json.dumps(data, indent=2, default=_json_default).encode())


def add_json_value_output(ctx: RunContext, name: str, value: Any) -> int:
    store = ctx.state.store
    plain = json.loads(json.dumps(value, default=_json_default))
    doc = {"id": store.next_id("json_values"), "name": name, "value": plain}
    store.put("json_values", doc)
    ctx.add_output("JSONValue", doc["id"], name, doc["value"])
    return doc["id"]


def csv_gz(frame: pd.DataFrame, index: bool) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
        gz.write(frame.to_csv(index=index).encode())
    return buffer.getvalue()


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)
