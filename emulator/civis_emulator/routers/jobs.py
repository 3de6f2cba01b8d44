"""``/jobs``: the generic view of every job (scripts, imports, queries, ...) and its runs.

A job's parent is its ``parentId`` (set on scripts at create or update): ``GET /jobs/{id}/parents``
walks that chain up (nearest parent first), ``GET /jobs/{id}/children`` nests the jobs naming it as
parent. ``POST /jobs/{id}/trigger_email`` makes (once) and keeps the job's trigger address; the
emulator receives no mail, so mailing it runs nothing.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .. import spec
from ..common import paginate, query_list, respond, template_of
from ..errors import not_found
from ..runs import run_summary
from . import emulator, found
from .run_helpers import cancel_response, get_run_or_404, logs_response, render_outputs, start_run

router = APIRouter(prefix="/jobs")


def _archived_filter(value: str | None):
    value = (value or "false").lower()
    if value == "all":
        return lambda j: True
    want = value == "true"
    return lambda j: bool(j.get("archived")) == want


@router.get("")
@router.get("/")
def list_jobs(request: Request, q: str | None = None, hidden: bool = False, archived: str | None = None):
    jobs = emulator(request).registry.list_jobs()
    states = query_list(request, "state")
    types = query_list(request, "type")
    keep = _archived_filter(archived)
    out = []
    for job in jobs:
        if states and job.get("state") not in states:
            continue
        if types and job.get("type") not in types:
            continue
        if bool(job.get("hidden")) != hidden or not keep(job):
            continue
        if q and q.lower() not in f"{job['id']} {job.get('name') or ''} {job['type']}".lower():
            continue
        out.append(job)
    return paginate(request, out)


def _job_or_404(request: Request, job_id: int) -> dict:
    job = emulator(request).registry.get_job(job_id)
    if job is None:
        raise not_found("job")
    return job


@router.get("/{job_id}")
def get_job(request: Request, job_id: int):
    job = _job_or_404(request, job_id)
    runs = emulator(request).registry.list_runs(job_id)
    job = dict(job, runs=[run_summary(r) for r in reversed(runs)][:10])
    return respond(request, job)


@router.post("/{job_id}/runs")
def post_run(request: Request, job_id: int):
    _job_or_404(request, job_id)
    run = start_run(request, job_id, conflict=(
        "already_running", "The job cannot be queued because it is already running"))
    return respond(request, run, status=201)


@router.get("/{job_id}/runs")
def list_runs(request: Request, job_id: int):
    _job_or_404(request, job_id)
    return paginate(request, emulator(request).registry.list_runs(job_id))


@router.get("/{job_id}/runs/{run_id}")
def get_run(request: Request, job_id: int, run_id: int):
    return respond(request, get_run_or_404(request, job_id, run_id))


@router.delete("/{job_id}/runs/{run_id}")
def cancel_run(request: Request, job_id: int, run_id: int):
    return cancel_response(request, job_id, run_id)


@router.get("/{job_id}/runs/{run_id}/logs")
def get_logs(request: Request, job_id: int, run_id: int, last_id: int | None = None, limit: int | None = None):
    return logs_response(request, job_id, run_id, last_id, limit)


@router.get("/{job_id}/runs/{run_id}/outputs")
def get_outputs(request: Request, job_id: int, run_id: int):
    run = get_run_or_404(request, job_id, run_id)
    return paginate(request, render_outputs(request, run))



def _with_runs(request: Request, job: dict) -> dict:
    runs = [run_summary(r) for r in reversed(emulator(request).registry.list_runs(job["id"]))]
    return dict(job, runs=runs[:10])


def _shape_list(request: Request, items: list[dict]) -> JSONResponse:
    """These two answer lists although the spec declares one object (its x-examples answer lists)."""
    schema = spec.response_schema("get", template_of(request), 200)
    return JSONResponse([spec.conform(schema, i) for i in items])


@router.get("/{job_id}/parents")
def list_parents(request: Request, job_id: int):
    job = _job_or_404(request, job_id)
    registry, out, seen = emulator(request).registry, [], {job_id}
    parent_id = job.get("parentId")
    while parent_id is not None and parent_id not in seen:
        parent = registry.get_job(parent_id)
        if parent is None:
            break
        out.append(_with_runs(request, parent))
        seen.add(parent_id)
        parent_id = parent.get("parentId")
    return _shape_list(request, out)


@router.get("/{job_id}/children")
def list_children(request: Request, job_id: int):
    _job_or_404(request, job_id)
    by_parent: dict[int, list[dict]] = {}
    for job in emulator(request).registry.list_jobs():
        if job.get("parentId") is not None:
            by_parent.setdefault(job["parentId"], []).append(job)

    def nest(parent_id: int, seen: frozenset) -> list[dict]:
        return [dict(_with_runs(request, j), children=nest(j["id"], seen | {j["id"]}))
                for j in by_parent.get(parent_id, []) if j["id"] not in seen]

    return _shape_list(request, nest(job_id, frozenset({job_id})))


@router.post("/{job_id}/trigger_email")
def trigger_email(request: Request, job_id: int):
    job = _job_or_404(request, job_id)
    address = job.get("triggerEmail")
    if not address:
        address = f"job-{job_id}-{secrets.token_hex(8)}@trigger.civis-emulator.localhost"
        emulator(request).store.update("jobs", job_id, lambda d: d.setdefault("triggerEmail", address))
        address = found(emulator(request).registry.get_job(job_id), "job")["triggerEmail"]
    return respond(request, {"triggerEmail": address})
