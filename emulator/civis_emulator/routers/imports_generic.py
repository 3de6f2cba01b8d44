"""Generic ``/imports`` (jobs of type ``JobTypes::Import`` with their syncs, run by
``runners/imports.py``), the legacy ``/imports/files`` upload-then-run import and ``/imports/batches``
(several files into one table, through the CSV import runner).

``/imports/files/csv...`` lives in ``imports.py``, mounted first; nothing here shadows it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request

from .. import databases as dbs
from .. import presign
from ..common import USER, paginate, parse_body, required_fields, respond
from ..errors import bad_request, not_found
from ..runners.data import CSV_IMPORT
from ..runners.imports import IMPORT
from . import emulator, found
from .files import base_url
from .job_runs import add_run_routes, job_or_404
from .run_helpers import logs_response, start_run

router = APIRouter()
_SIMPLE_USER = {k: USER[k] for k in ("id", "name", "username", "initials", "online")}
_FIELDS = ("name", "source", "destination", "syncType", "parentId", "isOutbound", "schedule", "nextRunAt",
           "notifications", "timeZone", "hidden")
_ADVANCED: dict[str, Any] = {"maxErrors": None, "existingTableRows": None, "firstRowIsHeader": None, "diststyle": None,
             "distkey": None, "sortkey1": None, "sortkey2": None, "columnDelimiter": None, "columnOverrides": {},
             "escaped": False, "identityColumn": "", "lastModifiedColumn": None, "rowChunkSize": None,
             "wipeDestinationTable": False, "truncateLongLines": False, "invalidCharReplacement": None,
             "verifyTableRowCounts": False, "mysqlCatalogMatchesSchema": True}


def _host(side: dict | None) -> dict:
    side = dict(side or {})
    db = dbs.get_database(int(side["remoteHostId"])) if side.get("remoteHostId") else None
    return {"remoteHostId": side.get("remoteHostId"), "credentialId": side.get("credentialId"),
            "additionalCredentials": side.get("additionalCredentials") or [],
            "name": db["name"] if db else None}


def _render(job: dict) -> dict:
    return dict(job, jobType=job["type"], user=_SIMPLE_USER, runningAs=_SIMPLE_USER, myPermissionLevel="manage")


def _import_or_404(request: Request, job_id: int) -> dict:
    return job_or_404(request, job_id, IMPORT, "import")


# -- /imports/batches (before /imports/{id}) ------------------------------------------------------
def _render_batch(request: Request, job: dict) -> dict:
    run = (emulator(request).registry.list_runs(job["id"]) or [{}])[-1]
    dest = job["destination"]
    return {"id": job["id"], "schema": dest["schema"], "table": dest["table"],
            "remoteHostId": dest["remoteHostId"], "state": run.get("state", job.get("state")),
            "startedAt": run.get("startedAt"), "finishedAt": run.get("finishedAt"), "error": run.get("error"),
            "hidden": job.get("hidden", False)}


def _batch_or_404(request: Request, job_id: int) -> dict:
    job = job_or_404(request, job_id, CSV_IMPORT, "batch import")
    if not job.get("batchImport"):
        raise not_found("batch import")
    return job


@router.post("/imports/batches")
def create_batch(request: Request, body: Any = Body(None)):
    body = parse_body(body, required_fields("post", "/imports/batches"))
    file_ids = body["fileIds"]
    if not isinstance(file_ids, list) or not file_ids:
        raise bad_request("fileIds must list at least one file id")
    if dbs.get_database(int(body["remoteHostId"])) is None:
        raise bad_request(f"remoteHostId {body['remoteHostId']} is not a database")
    doc = {"source": {"fileIds": [int(f) for f in file_ids], "storagePath": None},
           "destination": {"schema": body["schema"], "table": body["table"], "remoteHostId": body["remoteHostId"],
                           "credentialId": body["credentialId"], "primaryKeys": [], "lastModifiedKeys": []},
           "firstRowIsHeader": body.get("firstRowIsHeader", True), "columnDelimiter": body.get("columnDelimiter")
           or "comma", "compression": body.get("compression") or "none", "existingTableRows": "append",
           "tableColumns": [], "hidden": bool(body.get("hidden")), "batchImport": True}
    state = emulator(request)
    job = state.registry.create_job(CSV_IMPORT, f"Batch import to {body['schema']}.{body['table']}", doc)
    start_run(request, job["id"], conflict=("conflict", "The batch import is already running."))
    return respond(request, _render_batch(request, found(state.registry.get_job(job["id"]), "import")), status=201)


@router.get("/imports/batches")
def list_batches(request: Request, hidden: bool = False):
    jobs = [j for j in emulator(request).registry.list_jobs()
            if j.get("type") == CSV_IMPORT and j.get("batchImport") and bool(j.get("hidden")) == hidden]
    return paginate(request, [_render_batch(request, j) for j in jobs])


@router.get("/imports/batches/{job_id:int}")
def get_batch(request: Request, job_id: int):
    return respond(request, _render_batch(request, _batch_or_404(request, job_id)))


# -- /imports/files (legacy upload-then-run CSV import) -------------------------------------------
@router.post("/imports/files")
def create_file_import(request: Request, body: Any = Body(None)):
    body = parse_body(body, required_fields("post", "/imports/files"))
    if dbs.get_database(int(body["remoteHostId"])) is None:
        raise bad_request(f"remoteHostId {body['remoteHostId']} is not a database")
    state = emulator(request)
    file_name = f"{body['schema']}.{body['name']}.csv"
    file_id = state.files.create(file_name)
    sortkeys = [k for k in (body.get("sortkey1"), body.get("sortkey2")) if k]
    doc = {"source": {"fileIds": [file_id], "storagePath": None},
           "destination": {"schema": body["schema"], "table": body["name"], "remoteHostId": body["remoteHostId"],
                           "credentialId": body["credentialId"], "primaryKeys": [], "lastModifiedKeys": []},
           "firstRowIsHeader": body.get("firstRowIsHeader", True),
           "columnDelimiter": body.get("columnDelimiter") or "comma", "escaped": bool(body.get("escaped")),
           "compression": "none", "existingTableRows": body.get("existingTableRows") or "fail",
           "maxErrors": body.get("maxErrors"), "tableColumns": [], "hidden": bool(body.get("hidden")),
           "redshiftDestinationOptions": {"diststyle": body.get("diststyle"), "distkey": body.get("distkey"),
                                          "sortkeys": sortkeys}, "fileImport": True}
    job = state.registry.create_job(CSV_IMPORT, f"File import to {body['schema']}.{body['name']}", doc)
    base = base_url(request)
    return respond(request, {
        "id": job["id"], "uploadUri": f"{base}{presign.PRESIGNED_PREFIX}uploads",
        "uploadFields": presign.upload_fields(state.api_key, file_id, file_name),
        "runUri": f"{base}/imports/files/{job['id']}/runs"}, status=201)


add_run_routes(router, "/imports/files", job_type=CSV_IMPORT, id_field="importId", what="import")


# -- /imports ------------------------------------------------------------------------------------
def _doc(body: dict, current: dict | None = None) -> dict:
    doc = {k: body[k] for k in _FIELDS if k in body}
    for side in ("source", "destination"):
        if side in doc or current is None:
            doc[side] = _host(doc.get(side))
    if current is None:
        doc.setdefault("parentId", None)
        doc.setdefault("nextRunAt", None)
        doc.setdefault("timeZone", "America/Chicago")
        doc.setdefault("notifications", {})
        doc["syncs"] = []
    return doc


@router.get("/imports")
@router.get("/imports/")
def list_imports(request: Request, hidden: bool = False, archived: str | None = None):
    q = request.query_params
    jobs = []
    for j in emulator(request).registry.list_jobs():
        if j.get("type") != IMPORT or bool(j.get("hidden")) != hidden:
            continue
        if archived not in (None, "all") and bool(j.get("archived")) != (archived == "true"):
            continue
        if q.get("type") and j.get("syncType") != q["type"]:
            continue
        if q.get("status") and j.get("state") != q["status"]:
            continue
        jobs.append(_render(j))
    return paginate(request, jobs)


@router.post("/imports")
@router.post("/imports/")
def create_import(request: Request, body: Any = Body(None)):
    body = parse_body(body, required_fields("post", "/imports/"))
    job = emulator(request).registry.create_job(IMPORT, body["name"], _doc(body))
    return respond(request, _render(job), status=201)


@router.get("/imports/{job_id:int}")
def get_import(request: Request, job_id: int):
    return respond(request, _render(_import_or_404(request, job_id)))


@router.put("/imports/{job_id:int}")
@router.patch("/imports/{job_id:int}")
def update_import(request: Request, job_id: int, body: Any = Body(None)):
    current = _import_or_404(request, job_id)
    body = parse_body(body, required_fields(request.method.lower(), "/imports/{id}"))
    job = found(emulator(request).registry.update_job(job_id, _doc(body, current)), "import")
    return respond(request, _render(job))


@router.post("/imports/{job_id:int}/cancel")
def cancel_import(request: Request, job_id: int):
    _import_or_404(request, job_id)
    registry = emulator(request).registry
    run = registry.active_run(job_id)
    if run is None:
        raise not_found("active run")
    run = found(registry.cancel_run(job_id, run["id"]), "run")
    return respond(request, {"id": run["id"], "state": run["state"],
                             "isCancelRequested": run["isCancelRequested"]}, status=202)


def _sync_doc(body: dict, sync_id: int) -> dict:
    src, dst = dict(body.get("source") or {}), dict(body.get("destination") or {})
    if not src or not dst:
        raise bad_request("a sync needs a source and a destination")

    def table(side: dict) -> dict | None:
        t = side.get("databaseTable")
        return None if not t else {"schema": t.get("schema"), "table": t.get("table"),
                                   "useWithoutSchema": bool(t.get("useWithoutSchema"))}

    def path(side: dict) -> str | None:
        t = side.get("databaseTable")
        return f'"{t.get("schema")}"."{t.get("table")}"' if t else side.get("path")

    file_id = (src.get("file") or {}).get("id")
    file = {"id": int(file_id), "name": None} if file_id is not None else None
    return {"id": sync_id, "archived": False,
            "source": {"id": file_id, "databaseTable": table(src), "file": file,
                       "googleWorksheet": src.get("googleWorksheet"), "path": path(src)},
            "destination": {"databaseTable": table(dst), "googleWorksheet": dst.get("googleWorksheet"),
                            "path": path(dst)},
            "advancedOptions": dict(_ADVANCED, **(body.get("advancedOptions") or {}))}


def _save_syncs(request: Request, job_id: int, syncs: list[dict]) -> None:
    emulator(request).registry.update_job(job_id, {"syncs": syncs})


@router.post("/imports/{job_id:int}/syncs")
def create_sync(request: Request, job_id: int, body: Any = Body(None)):
    job = _import_or_404(request, job_id)
    body = parse_body(body, required_fields("post", "/imports/{id}/syncs"))
    sync = _sync_doc(body, emulator(request).store.next_id("import_syncs"))
    _save_syncs(request, job_id, list(job.get("syncs") or []) + [sync])
    return respond(request, sync, status=201)


def _sync_index(job: dict, sync_id: int) -> int:
    for i, s in enumerate(job.get("syncs") or []):
        if s["id"] == sync_id:
            return i
    raise not_found("sync")


@router.put("/imports/{job_id:int}/syncs/{sync_id:int}")
def update_sync(request: Request, job_id: int, sync_id: int, body: Any = Body(None)):
    job = _import_or_404(request, job_id)
    i = _sync_index(job, sync_id)
    body = parse_body(body, required_fields("put", "/imports/{id}/syncs/{sync_id}"))
    syncs = list(job["syncs"])
    syncs[i] = _sync_doc(body, sync_id)
    _save_syncs(request, job_id, syncs)
    return respond(request, syncs[i])


@router.delete("/imports/{job_id:int}/syncs/{sync_id:int}")
def delete_sync(request: Request, job_id: int, sync_id: int):
    job = _import_or_404(request, job_id)
    i = _sync_index(job, sync_id)
    _save_syncs(request, job_id, [s for j, s in enumerate(job["syncs"]) if j != i])
    return respond(request, None, status=204)


# The spec has no GET/DELETE /imports/{id}/runs/{run_id}: poll and cancel through /jobs/{id}/runs/...
@router.post("/imports/{job_id:int}/runs")
def post_import_run(request: Request, job_id: int):
    _import_or_404(request, job_id)
    run = start_run(request, job_id, conflict=("conflict", "The import is already running."))
    return respond(request, {"runId": run["id"]}, status=202)


@router.get("/imports/{job_id:int}/runs")
def list_import_runs(request: Request, job_id: int):
    _import_or_404(request, job_id)
    runs = emulator(request).registry.list_runs(job_id)
    return paginate(request, [dict(r, importId=job_id) for r in runs])


@router.get("/imports/{job_id:int}/runs/{run_id:int}/logs")
def import_run_logs(request: Request, job_id: int, run_id: int, last_id: int | None = None,
                    limit: int | None = None):
    _import_or_404(request, job_id)
    return logs_response(request, job_id, run_id, last_id, limit)
