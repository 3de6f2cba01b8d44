"""``/tables`` and ``/databases/{id}/schemas/{schema}/tables/{table}``: the warehouse's tables, their
columns, row counts and refresh; ``PATCH /tables/{id}`` keeps a table's ``primaryKeys``,
``lastModifiedKeys`` and ``ontologyMapping`` in the store (kind ``table_meta``, by table id). Also
makes ``GET /databases/1/schemas`` list the warehouse's schemas."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from starlette.concurrency import run_in_threadpool

from .. import databases as dbs
from ..common import paginate, parse_body, respond
from ..errors import ApiError, bad_request, not_found
from ..warehouse import DEFAULT_SCHEMA, WarehouseError
from . import emulator

router = APIRouter()
_EMPTY_LISTS = ("tableTags", "joins", "multipartKey", "enhancements", "outgoingTableMatches")


def _schemas(state) -> list[str]:
    return sorted({DEFAULT_SCHEMA} | {t["schema"] for t in state.warehouse.list_tables()})


dbs.set_schema_provider(dbs.DEFAULT_DATABASE_ID, _schemas)


def _error(exc: WarehouseError) -> ApiError:
    message = str(exc)
    return not_found("table") if "does not exist" in message else bad_request(message)


def _summary(doc: dict) -> dict:
    return dict(doc, databaseId=dbs.DEFAULT_DATABASE_ID, owner="emulator", description=None,
                refreshStatus="current", refreshId=None, lastRun=None, distkey=None, sortkeys=None,
                tableTags=[], sizeMb=doc.get("sizeMb"))


def _detail(doc: dict) -> dict:
    columns = [dict(c, encoding=None, description=None, sampleValues=[], useableAsPrimaryKey=False,
                    useableAsIndependentVariable=False, possibleDependentVariableTypes=[])
               for c in doc.get("columns", [])]
    out = _summary(doc)
    out.update({k: [] for k in _EMPTY_LISTS}, columns=columns, schemaUpdatedAt=doc.get("createdAt"),
               primaryKeys=doc.get("primaryKeys") or [], lastModifiedKeys=doc.get("lastModifiedKeys") or [],
               ontologyMapping=doc.get("ontologyMapping") or {}, viewDef=None, tableDef=None)
    return out


def _with_meta(request: Request, doc: dict) -> dict:
    meta = emulator(request).store.get("table_meta", doc["id"]) if doc.get("id") is not None else None
    if not meta:
        return doc
    return dict(doc, **{k: meta[k] for k in ("primaryKeys", "lastModifiedKeys", "ontologyMapping") if k in meta})


def _describe_id(request: Request, table_id: int) -> dict:
    warehouse = emulator(request).warehouse
    try:
        schema, table = warehouse.table_by_id(table_id)
        return _with_meta(request, warehouse.describe(schema, table))
    except WarehouseError as exc:
        raise _error(exc) from None


def _check_db(db_id: int | None) -> None:
    if db_id is not None and dbs.get_database(db_id) is None:
        raise not_found("database")


@router.get("/tables")
@router.get("/tables/")
def list_tables(request: Request, database_id: int | None = None, schema: str | None = None,
                name: str | None = None, search: str | None = None):
    _check_db(database_id)
    if database_id not in (None, dbs.DEFAULT_DATABASE_ID):
        return paginate(request, [])
    tables = emulator(request).warehouse.list_tables()
    out = []
    for t in tables:
        if schema and t["schema"] != schema.lower():
            continue
        if name and t["name"] != name.lower():
            continue
        if search and search.lower() not in f"{t['schema']}.{t['name']}":
            continue
        out.append(_summary(t))
    return paginate(request, out)


@router.get("/tables/{table_id}")
def get_table(request: Request, table_id: int):
    return respond(request, _detail(_describe_id(request, table_id)))


@router.get("/tables/{table_id}/columns")
def get_columns(request: Request, table_id: int, name: str | None = None):
    doc = _detail(_describe_id(request, table_id))
    columns = [c for c in doc["columns"] if not name or c["name"] == name]
    return paginate(request, columns)


@router.post("/tables/{table_id}/refresh")
async def refresh_table(request: Request, table_id: int):
    warehouse = emulator(request).warehouse
    try:
        schema, table = await run_in_threadpool(warehouse.table_by_id, table_id)
        doc = await run_in_threadpool(warehouse.refresh, schema, table)
    except WarehouseError as exc:
        raise _error(exc) from None
    return respond(request, _detail(_with_meta(request, doc)))


@router.patch("/tables/{table_id}")
def patch_table(request: Request, table_id: int, body: Any = Body(None)):
    raw = body if isinstance(body, dict) else {}
    body = parse_body(body)
    if "ontologyMapping" in body:  # its keys are user data: not re-cased
        body["ontologyMapping"] = raw.get("ontologyMapping", raw.get("ontology_mapping"))
    doc = _describe_id(request, table_id)
    names = {c["name"] for c in doc.get("columns", [])}
    changes: dict[str, Any] = {}
    for key in ("primaryKeys", "lastModifiedKeys"):
        if key in body and body[key] is not None:
            keys = body[key]
            if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                raise bad_request(f"{key} must be a list of column names")
            unknown = [k for k in keys if k not in names]
            if unknown:
                raise bad_request(f"{key}: no such column: {', '.join(unknown)}")
            changes[key] = keys
    if body.get("ontologyMapping") is not None:
        mapping = body["ontologyMapping"]
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise bad_request("ontologyMapping must map names to strings")
        changes["ontologyMapping"] = mapping
    store = emulator(request).store
    with store.lock:
        meta = store.get("table_meta", table_id) or {"id": table_id}
        meta.update(changes)
        store.put("table_meta", meta)
    return respond(request, _detail(_with_meta(request, doc)))


@router.get("/databases/{db_id}/schemas/{schema_name}/tables/{table_name}")
def get_schema_table(request: Request, db_id: int, schema_name: str, table_name: str):
    _check_db(db_id)
    if db_id != dbs.DEFAULT_DATABASE_ID:
        raise not_found("table")
    try:
        doc = emulator(request).warehouse.describe(schema_name, table_name)
    except WarehouseError as exc:
        raise _error(exc) from None
    return respond(request, _detail(_with_meta(request, doc)))


@router.get("/databases/{db_id}/schemas/{schema_name}/tables")
def list_schema_tables(request: Request, db_id: int, schema_name: str):
    _check_db(db_id)
    if db_id != dbs.DEFAULT_DATABASE_ID:
        return paginate(request, [])
    try:
        tables = emulator(request).warehouse.list_tables(schema_name)
    except WarehouseError as exc:
        raise bad_request(str(exc)) from None
    return paginate(request, [_summary(t) for t in tables])
