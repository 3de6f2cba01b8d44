"""``/scripts/<kind>/{id}/runs...`` (start, list, get, cancel, logs, outputs) and ``POST /scripts/{id}/cancel``.

A custom script whose template is backed by a container script has its runs under ``/scripts/containers``
as well (as on Civis: ``civis.ml.ModelFuture`` polls ``GET /scripts/containers/{id}/runs/{run_id}``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request

from .. import spec
from ..common import paginate, parse_body, respond, template_of
from ..errors import ApiError, bad_request, not_found
from ..script_kinds import ScriptKind, kind_of
from . import emulator
from .run_helpers import add_output, cancel_response, get_run_or_404, logs_response, render_outputs, start_run
from .scripts import kind_or_404, script_or_404

router = APIRouter(prefix="/scripts")


def _render_run(run: dict, kind: ScriptKind, request: Request | None = None) -> dict:
    doc = dict(run, **{kind.run_id_field: run["jobId"]})
    if kind.path == "sql" and request is not None:  # SQL runs list their CSV files, with download URLs
        from .files import download_url

        doc["output"] = [{"outputName": o["name"], "fileId": o["objectId"],
                          "path": download_url(request, o["objectId"])}
                         for o in run.get("outputs", []) if o["objectType"] == "File"]
        doc["outputCachedOn"] = None
    return doc


def _spec_status(request: Request, default: int) -> int:
    responses = spec.operation(request.method, template_of(request)).get("responses", {})
    codes = [int(c) for c in responses if c.isdigit() and 200 <= int(c) < 300]
    return codes[0] if codes else default


@router.post("/{kind}/{script_id}/runs")
def post_run(request: Request, kind: str, script_id: int):
    k = kind_or_404(request, kind)
    script_or_404(request, k, script_id, custom_as_container=True)
    run = start_run(request, script_id, conflict=(
        "conflict", "The script cannot be queued because it is already active."))
    return respond(request, _render_run(run, k, request), status=_spec_status(request, 202))


@router.get("/{kind}/{script_id}/runs")
def list_runs(request: Request, kind: str, script_id: int):
    k = kind_or_404(request, kind)
    script_or_404(request, k, script_id, custom_as_container=True)
    runs = emulator(request).registry.list_runs(script_id)
    return paginate(request, [_render_run(r, k, request) for r in runs])


@router.get("/{kind}/{script_id}/runs/{run_id}")
def get_run(request: Request, kind: str, script_id: int, run_id: int):
    k = kind_or_404(request, kind)
    script_or_404(request, k, script_id, custom_as_container=True)
    return respond(request, _render_run(get_run_or_404(request, script_id, run_id), k, request))


@router.delete("/{kind}/{script_id}/runs/{run_id}")
def cancel_run(request: Request, kind: str, script_id: int, run_id: int):
    k = kind_or_404(request, kind)
    script_or_404(request, k, script_id, custom_as_container=True)
    return cancel_response(request, script_id, run_id)


@router.get("/{kind}/{script_id}/runs/{run_id}/logs")
def get_logs(request: Request, kind: str, script_id: int, run_id: int,
             last_id: int | None = None, limit: int | None = None):
    k = kind_or_404(request, kind)
    script_or_404(request, k, script_id, custom_as_container=True)
    return logs_response(request, script_id, run_id, last_id, limit)


@router.get("/{kind}/{script_id}/runs/{run_id}/outputs")
def get_outputs(request: Request, kind: str, script_id: int, run_id: int):
    k = kind_or_404(request, kind)
    script_or_404(request, k, script_id, custom_as_container=True)
    return paginate(request, render_outputs(request, get_run_or_404(request, script_id, run_id)))


@router.post("/{kind}/{script_id}/runs/{run_id}/logs")
def post_logs(request: Request, kind: str, script_id: int, run_id: int, body: Any = Body(None)):
    """A running container (or any script) appending its own log lines to the run."""
    k = kind_or_404(request, kind)
    script_or_404(request, k, script_id, custom_as_container=True)
    get_run_or_404(request, script_id, run_id)
    body = parse_body(body)
    lines = [dict(m) for m in body.get("messages") or [] if isinstance(m, dict)]
    if body.get("message") is not None:
        lines.insert(0, {"message": body["message"], "level": body.get("level")})
    if not lines:
        raise bad_request("give a message or messages")
    if any("createdAt" in m for m in lines):
        lines.sort(key=lambda m: str(m.get("createdAt") or ""))
    registry = emulator(request).registry
    for m in lines:
        registry.append_log(run_id, str(m.get("message") or ""), m.get("level") or body.get("level") or "info")
    return respond(request, None, status=204)


@router.post("/{kind}/{script_id}/runs/{run_id}/outputs")
def post_output(request: Request, kind: str, script_id: int, run_id: int, body: Any = Body(None)):
    k = kind_or_404(request, kind)
    script_or_404(request, k, script_id, custom_as_container=True)
    return add_output(request, script_id, run_id, parse_body(body, ["objectType", "objectId"]))


@router.post("/{script_id}/cancel")
def cancel_script(request: Request, script_id: int):
    registry = emulator(request).registry
    job = registry.get_job(script_id)
    if job is None or kind_of(job) is None:
        raise not_found("script")
    run = registry.active_run(script_id)
    if run is None:
        raise ApiError(404, "not_found", "The script has no active run to cancel.")
    run = registry.cancel_run(script_id, run["id"])
    return respond(request, run, status=202)

