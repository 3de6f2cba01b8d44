"""``GET /databases``, ``GET /databases/{id}``, ``GET /databases/{id}/schemas`` (list in ``emulator.databases``)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from .. import databases as dbs
from ..common import respond
from ..errors import not_found
from . import emulator

router = APIRouter()


@router.get("/databases")
@router.get("/databases/")
def list_databases(request: Request):
    return respond(request, dbs.list_databases())


@router.get("/databases/{db_id}")
def get_database(request: Request, db_id: int):
    db = dbs.get_database(db_id)
    if db is None:
        raise not_found("database")
    return respond(request, db)


@router.get("/databases/{db_id}/schemas")
def list_schemas(request: Request, db_id: int, name: str | None = None):
    if dbs.get_database(db_id) is None:
        raise not_found("database")
    schemas = dbs.list_schemas(emulator(request), db_id)
    if name:
        schemas = [s for s in schemas if name in s]
    return respond(request, [{"schema": s} for s in schemas])
