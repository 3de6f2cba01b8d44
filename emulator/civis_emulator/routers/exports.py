"""``/exports/files/csv``: a table or query to CSV files (optionally gzip, optionally split), and runs;
``GET /exports``: the user's exports, hidden ones (``"hidden": true`` at create) only with ``hidden=true``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request

from .. import databases as dbs
from ..common import paginate, parse_body, query_list, required_fields, respond
from ..errors import bad_request
from ..runners.data import CSV_EXPORT
from . import emulator, found
from .job_runs import add_run_routes, job_or_404

router = APIRouter()
BASE = "/exports/files/csv"
_FIELDS = ("source", "destination", "includeHeader", "compression", "columnDelimiter", "hidden",
           "forceMultifile", "maxFileSize")
_DEFAULTS = {"includeHeader": True, "compression": "gzip", "columnDelimiter": "comma", "hidden": False,
             "forceMultifile": False, "maxFileSize": None}


def _normalize(body: dict, current: dict | None = None) -> dict:
    doc = dict(current or _DEFAULTS)
    doc.update({k: body[k] for k in _FIELDS if k in body})
    source = dict(doc.get("source") or {})
    if dbs.get_database(int(source.get("remoteHostId") or 0)) is None:
        raise bad_request(f"source.remoteHostId {source.get('remoteHostId')} is not a database")
    dest = dict(doc.get("destination") or {})
    if dest.get("storagePath"):
        raise bad_request("destination.storagePath is not supported by the Civis emulator; "
                          "exports go to Civis files")
    doc["source"], doc["destination"] = source, {"filenamePrefix": dest.get("filenamePrefix"), "storagePath": None}
    if doc.get("maxFileSize") is not None and int(doc["maxFileSize"]) < 1:
        raise bad_request("maxFileSize must be a positive number of MB")
    return doc


def _render(job: dict) -> dict:
    return dict(job, myPermissionLevel="manage")


@router.post(BASE)
def create_export(request: Request, body: Any = Body(None)):
    body = parse_body(body, required_fields("post", BASE))
    doc = _normalize(body)
    job = emulator(request).registry.create_job(CSV_EXPORT, body.get("name") or "CSV export", doc)
    return respond(request, _render(job), status=201)


@router.get(BASE + "/{job_id}")
def get_export(request: Request, job_id: int):
    return respond(request, _render(job_or_404(request, job_id, CSV_EXPORT, "export")))


@router.put(BASE + "/{job_id}")
@router.patch(BASE + "/{job_id}")
def update_export(request: Request, job_id: int, body: Any = Body(None)):
    job = job_or_404(request, job_id, CSV_EXPORT, "export")
    body = parse_body(body, required_fields(request.method.lower(), BASE + "/{id}"))
    changes = _normalize(body, {k: job.get(k) for k in _FIELDS})
    if body.get("name"):
        changes["name"] = body["name"]
    return respond(request, _render(found(emulator(request).registry.update_job(job_id, changes), "export")))


def _summary(job: dict) -> dict:
    """A CSV export in the ``/exports`` list: its type is "database" (what it exports from)."""
    return dict(job, type="database", state=job.get("state") or "idle")


@router.get("/exports")
@router.get("/exports/")
def list_exports(request: Request, hidden: bool = False, archived: str | None = None):
    types, statuses = query_list(request, "type"), query_list(request, "status")
    archived = (archived or "false").lower()
    out = []
    for job in emulator(request).registry.list_jobs():
        if job.get("type") != CSV_EXPORT or bool(job.get("hidden")) != hidden:
            continue
        if archived != "all" and bool(job.get("archived")) != (archived == "true"):
            continue
        if (types and "database" not in types) or (statuses and job.get("state") not in statuses):
            continue
        out.append(_summary(job))
    return paginate(request, out)


add_run_routes(router, BASE, job_type=CSV_EXPORT, id_field="csvExportId", what="export", outputs=True)
