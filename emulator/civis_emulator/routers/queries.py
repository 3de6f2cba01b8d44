"""``/queries``: SQL on a database with a bounded preview of the result; posting a query runs it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request

from .. import databases as dbs
from ..common import author, paginate, parse_body, required_fields, respond
from ..errors import bad_request, not_found
from ..runners.data import QUERY
from . import emulator, found
from .job_runs import add_run_routes, job_or_404
from .run_helpers import start_run

router = APIRouter()
_FIELDS = ("database", "sql", "credential", "hidden", "interactive", "previewRows", "includeHeader",
           "compression", "columnDelimiter", "unquoted", "filenamePrefix")


def _render(job: dict) -> dict:
    last = job.get("lastRun") or {}
    return dict(job, state=last.get("state") or job.get("state"), error=last.get("error"),
                startedAt=last.get("startedAt"), finishedAt=last.get("finishedAt"), lastRunId=last.get("id"),
                scriptId=job.get("scriptId"), reportId=None, author=author(), myPermissionLevel="manage")


@router.post("/queries")
@router.post("/queries/")
def create_query(request: Request, body: Any = Body(None)):
    body = parse_body(body, required_fields("post", "/queries"))
    if dbs.get_database(int(body["database"])) is None:
        raise bad_request(f"database {body['database']} does not exist")
    preview = int(body["previewRows"])
    if not 0 <= preview <= 1000:
        raise bad_request("previewRows must be from 0 to 1000")
    doc = {k: body.get(k) for k in _FIELDS}
    doc.update(hidden=bool(doc["hidden"]), interactive=bool(doc["interactive"]), resultRows=[],
               resultColumns=[], exception=None, archived=False)
    registry = emulator(request).registry
    job = registry.create_job(QUERY, body.get("name") or "Query", doc)
    start_run(request, job["id"], conflict=("conflict", "The query is already running."))
    return respond(request, _render(found(registry.get_job(job["id"]), "query")))


@router.get("/queries")
@router.get("/queries/")
def list_queries(request: Request, hidden: bool = False, archived: str | None = None):
    """Hidden queries (``"hidden": true`` at create) only with ``hidden=true``, as the spec says."""
    archived = (archived or "false").lower()
    jobs = [j for j in emulator(request).registry.list_jobs() if j.get("type") == QUERY
            and bool(j.get("hidden")) == hidden
            and (archived == "all" or bool(j.get("archived")) == (archived == "true"))]
    return paginate(request, [_render(j) for j in jobs])


@router.get("/queries/{job_id}")
def get_query(request: Request, job_id: int):
    return respond(request, _render(job_or_404(request, job_id, QUERY, "query")))


@router.put("/queries/{job_id}/scripts/{script_id}")
def set_query_script(request: Request, job_id: int, script_id: int):
    job_or_404(request, job_id, QUERY, "query")
    registry = emulator(request).registry
    if registry.get_job(script_id) is None:
        raise not_found("script")
    return respond(request, _render(found(registry.update_job(job_id, {"scriptId": script_id}), "query")))


add_run_routes(router, "/queries", job_type=QUERY, id_field="queryId", what="query")
