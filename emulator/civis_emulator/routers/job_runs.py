"""Run routes for job-backed resources outside ``/scripts`` (imports, exports, queries, preprocess):
``POST/GET {base}/{id}/runs``, ``GET/DELETE {base}/{id}/runs/{run_id}``, ``.../logs`` and, where the
API has it, ``.../outputs``. One function mounts them all for a resource."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request

from ..common import paginate, respond
from ..errors import not_found
from . import emulator
from .run_helpers import cancel_response, get_run_or_404, logs_response, render_outputs, start_run


def job_or_404(request: Request, job_id: int, job_type: str, what: str) -> dict:
    job = emulator(request).registry.get_job(job_id)
    if job is None or job.get("type") != job_type:
        raise not_found(what)
    return job


def add_run_routes(router: APIRouter, base: str, *, job_type: str, id_field: str, what: str,
                   outputs: bool = False, start_status: int = 202,
                   render: Callable[[Request, dict], dict] | None = None) -> None:
    """Mount the run routes of ``base`` (e.g. ``/imports/files/csv``) on ``router``."""

    def shape(request: Request, run: dict) -> dict:
        doc = dict(run, **{id_field: run["jobId"]})
        return render(request, doc) if render else doc

    def post_run(request: Request, job_id: int):
        job_or_404(request, job_id, job_type, what)
        run = start_run(request, job_id, conflict=("conflict", f"The {what} is already running."))
        return respond(request, shape(request, run), status=start_status)

    def list_runs(request: Request, job_id: int):
        job_or_404(request, job_id, job_type, what)
        return paginate(request, [shape(request, r) for r in emulator(request).registry.list_runs(job_id)])

    def get_run(request: Request, job_id: int, run_id: int):
        job_or_404(request, job_id, job_type, what)
        return respond(request, shape(request, get_run_or_404(request, job_id, run_id)))

    def cancel_run(request: Request, job_id: int, run_id: int):
        job_or_404(request, job_id, job_type, what)
        return cancel_response(request, job_id, run_id)

    def get_logs(request: Request, job_id: int, run_id: int, last_id: int | None = None,
                 limit: int | None = None):
        job_or_404(request, job_id, job_type, what)
        return logs_response(request, job_id, run_id, last_id, limit)

    def get_outputs(request: Request, job_id: int, run_id: int):
        job_or_404(request, job_id, job_type, what)
        return paginate(request, render_outputs(request, get_run_or_404(request, job_id, run_id)))

    router.add_api_route(f"{base}/{{job_id}}/runs", post_run, methods=["POST"])
    router.add_api_route(f"{base}/{{job_id}}/runs", list_runs, methods=["GET"])
    router.add_api_route(f"{base}/{{job_id}}/runs/{{run_id}}", get_run, methods=["GET"])
    router.add_api_route(f"{base}/{{job_id}}/runs/{{run_id}}", cancel_run, methods=["DELETE"])
    router.add_api_route(f"{base}/{{job_id}}/runs/{{run_id}}/logs", get_logs, methods=["GET"])
    if outputs:
        router.add_api_route(f"{base}/{{job_id}}/runs/{{run_id}}/outputs", get_outputs, methods=["GET"])
