"""``/imports/files/csv``: CSV imports from Civis files into the warehouse, and their runs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request

from .. import databases as dbs
from ..common import parse_body, required_fields, respond
from ..errors import bad_request
from ..runners.csv_import_rules import table_columns_problem
from ..runners.data import CSV_IMPORT
from ..warehouse import WarehouseError
from . import emulator, found
from .job_runs import add_run_routes, job_or_404

router = APIRouter()
BASE = "/imports/files/csv"
_FIELDS = ("source", "destination", "firstRowIsHeader", "columnDelimiter", "escaped", "compression",
           "existingTableRows", "maxErrors", "tableColumns", "loosenTypes", "execution",
           "redshiftDestinationOptions", "hidden")
_DEFAULTS = {"columnDelimiter": "comma", "escaped": False, "compression": "none", "existingTableRows": "fail",
             "maxErrors": None, "tableColumns": [], "loosenTypes": False, "execution": "delayed",
             "hidden": False}


def _normalize(body: dict, current: dict | None = None) -> dict:
    doc = dict(current or _DEFAULTS)
    doc.update({k: body[k] for k in _FIELDS if k in body})
    source = dict(doc.get("source") or {})
    if source.get("storagePath"):
        raise bad_request("source.storagePath is not supported by the Civis emulator; use source.fileIds")
    file_ids = source.get("fileIds") or []
    if not isinstance(file_ids, list) or not file_ids:
        raise bad_request("source.fileIds must list at least one file id")
    doc["source"] = {"fileIds": [int(f) for f in file_ids], "storagePath": None}
    dest = dict(doc.get("destination") or {})
    if dbs.get_database(int(dest.get("remoteHostId") or 0)) is None:
        raise bad_request(f"destination.remoteHostId {dest.get('remoteHostId')} is not a database")
    dest.setdefault("primaryKeys", [])
    dest.setdefault("lastModifiedKeys", [])
    doc["destination"] = dest
    opts = doc.get("redshiftDestinationOptions") or {}
    doc["redshiftDestinationOptions"] = {"diststyle": opts.get("diststyle"), "distkey": opts.get("distkey"),
                                         "sortkeys": [k for k in opts.get("sortkeys") or [] if k]}
    doc["tableColumns"] = [{"name": c.get("name"), "sqlType": c.get("sqlType")} for c in doc.get("tableColumns") or []]
    return doc


def _check_table_columns(request: Request, doc: dict) -> None:
    """400 when the spec's tableColumns rule fails for the table as it is now (the run checks again)."""
    dest = doc["destination"]
    if int(dest.get("remoteHostId") or 0) != dbs.DEFAULT_DATABASE_ID:
        return  # no warehouse behind it: the run fails with its own message
    try:
        exists = emulator(request).warehouse.table_exists(dest.get("schema") or "", dest.get("table") or "")
    except WarehouseError as exc:
        raise bad_request(f"destination: {exc}") from None
    problem = table_columns_problem(doc, exists)
    if problem:
        raise bad_request(problem)


def _render(job: dict) -> dict:
    return dict(job, myPermissionLevel="manage")


@router.post(BASE)
def create_import(request: Request, body: Any = Body(None)):
    body = parse_body(body, required_fields("post", BASE))
    doc = _normalize(body)
    _check_table_columns(request, doc)
    dest = doc["destination"]
    name = body.get("name") or f"CSV import to {dest.get('schema')}.{dest.get('table')}"
    job = emulator(request).registry.create_job(CSV_IMPORT, name, doc)
    return respond(request, _render(job), status=201)


@router.get(BASE + "/{job_id}")
def get_import(request: Request, job_id: int):
    return respond(request, _render(job_or_404(request, job_id, CSV_IMPORT, "import")))


@router.put(BASE + "/{job_id}")
@router.patch(BASE + "/{job_id}")
def update_import(request: Request, job_id: int, body: Any = Body(None)):
    job = job_or_404(request, job_id, CSV_IMPORT, "import")
    body = parse_body(body, required_fields(request.method.lower(), BASE + "/{id}"))
    changes = _normalize(body, {k: job.get(k) for k in _FIELDS})
    _check_table_columns(request, changes)
    if body.get("name"):
        changes["name"] = body["name"]
    return respond(request, _render(found(emulator(request).registry.update_job(job_id, changes), "import")))


add_run_routes(router, BASE, job_type=CSV_IMPORT, id_field="csvImportId", what="import")
