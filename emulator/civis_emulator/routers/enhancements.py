"""``/enhancements/geocode`` and ``/enhancements/cass-ncoa``: create, get, update, and their runs
(start, list, get, cancel, logs, outputs). Runs execute in :mod:`civis_emulator.enhancements`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Body, Request

from .. import spec
from ..common import author, paginate, parse_body, required_fields, respond, template_of
from ..enhancements import CASS_JOB_TYPE, GEOCODE_JOB_TYPE
from ..errors import bad_request, not_found, not_implemented
from . import emulator, found
from .run_helpers import cancel_response, get_run_or_404, logs_response, render_outputs, start_run

router = APIRouter(prefix="/enhancements")

_SCHEDULE = {"scheduled": False, "scheduledDays": [], "scheduledHours": [], "scheduledMinutes": [],
             "scheduledRunsPerHour": None, "scheduledDaysOfMonth": []}
_NOTIFICATIONS: dict[str, Any] = {
    "urls": [], "successEmailSubject": None, "successEmailBody": None, "successEmailAddresses": [],
    "successEmailFromName": None, "successEmailReplyTo": None, "failureEmailAddresses": [],
    "stallWarningMinutes": None, "successOn": True, "failureOn": True,
}


@dataclass(frozen=True)
class Kind:
    path: str
    job_type: str
    display: str
    run_id_field: str
    defaults: tuple[tuple[str, Any], ...]


KINDS = {
    "geocode": Kind("geocode", GEOCODE_JOB_TYPE, "Geocode", "geocodeId", (
        ("multipartKey", []), ("limitingSQL", None), ("targetSchema", None), ("targetTable", None),
        ("country", "us"), ("provider", "postgis"), ("outputAddress", False), ("existingTableRows", "fail"),
    )),
    "cass-ncoa": Kind("cass-ncoa", CASS_JOB_TYPE, "CASS/NCOA", "cassNcoaId", (
        ("destination", {"databaseTable": {"schema": None, "table": None}}),
        ("columnMapping", {k: None for k in ("address1", "address2", "city", "state", "zip", "name", "company")}),
        ("useDefaultColumnMapping", True), ("performNcoa", False), ("ncoaCredentialId", None),
        ("outputLevel", "all"), ("limitingSQL", None), ("batchSize", None),
    )),
}


def _kind(request: Request, kind: str) -> Kind:
    """The kind; other enhancement types (identity resolution, data match) answer 501 like any unbuilt path."""
    if kind not in KINDS:
        raise not_implemented(request.method, template_of(request))
    return KINDS[kind]


def _fields(method: str, template: str, body: dict) -> dict:
    props = (spec.body_schema(method, template) or {}).get("properties", {})
    return {k: v for k, v in body.items() if k in props}


def _job_or_404(request: Request, k: Kind, job_id: int) -> dict:
    job = emulator(request).registry.get_job(job_id)
    if job is None or job.get("type") != k.job_type:
        raise not_found("enhancement")
    return job


def _render(job: dict, k: Kind) -> dict:
    doc = dict(job, type=k.display)
    if k.path == "cass-ncoa":
        src = dict((doc.get("source") or {}).get("databaseTable") or {})
        src.setdefault("multipartKey", [])
        doc["source"] = {"databaseTable": src}
    return doc


@router.post("/{kind}")
def create(request: Request, kind: str, body: Any = Body(None)):
    k = _kind(request, kind)
    template = f"/enhancements/{k.path}"
    body = parse_body(body, required_fields("post", template))
    doc: dict[str, Any] = {"schedule": dict(_SCHEDULE), "notifications": dict(_NOTIFICATIONS),
                           "runningAs": author(), "parentId": None, "archived": False, **dict(k.defaults)}
    doc.update(_fields("post", template, body))
    if k.path == "cass-ncoa" and not (doc.get("source") or {}).get("databaseTable"):
        raise bad_request("source.databaseTable is required")
    job = emulator(request).registry.create_job(k.job_type, doc.pop("name", None), doc)
    return respond(request, _render(job, k), status=201)


@router.get("/{kind}/{job_id}")
def get(request: Request, kind: str, job_id: int):
    k = _kind(request, kind)
    return respond(request, _render(_job_or_404(request, k, job_id), k))


@router.put("/{kind}/{job_id}")
@router.patch("/{kind}/{job_id}")
def update(request: Request, kind: str, job_id: int, body: Any = Body(None)):
    k = _kind(request, kind)
    _job_or_404(request, k, job_id)
    template = f"/enhancements/{k.path}/{{id}}"
    method = request.method.lower()
    body = parse_body(body, required_fields(method, template))
    job = found(emulator(request).registry.update_job(job_id, _fields(method, template, body)), "enhancement")
    return respond(request, _render(job, k))


def _run(run: dict, k: Kind) -> dict:
    return dict(run, **{k.run_id_field: run["jobId"]})


@router.post("/{kind}/{job_id}/runs")
def post_run(request: Request, kind: str, job_id: int):
    k = _kind(request, kind)
    _job_or_404(request, k, job_id)
    run = start_run(request, job_id, conflict=("conflict", "The enhancement is already running."))
    return respond(request, _run(run, k), status=202)


@router.get("/{kind}/{job_id}/runs")
def list_runs(request: Request, kind: str, job_id: int):
    k = _kind(request, kind)
    _job_or_404(request, k, job_id)
    return paginate(request, [_run(r, k) for r in emulator(request).registry.list_runs(job_id)])


@router.get("/{kind}/{job_id}/runs/{run_id}")
def get_run(request: Request, kind: str, job_id: int, run_id: int):
    k = _kind(request, kind)
    _job_or_404(request, k, job_id)
    return respond(request, _run(get_run_or_404(request, job_id, run_id), k))


@router.delete("/{kind}/{job_id}/runs/{run_id}")
def cancel_run(request: Request, kind: str, job_id: int, run_id: int):
    _job_or_404(request, _kind(request, kind), job_id)
    return cancel_response(request, job_id, run_id)


@router.get("/{kind}/{job_id}/runs/{run_id}/logs")
def get_logs(request: Request, kind: str, job_id: int, run_id: int, last_id: int | None = None,
             limit: int | None = None):
    _job_or_404(request, _kind(request, kind), job_id)
    return logs_response(request, job_id, run_id, last_id, limit)


@router.get("/{kind}/{job_id}/runs/{run_id}/outputs")
def get_outputs(request: Request, kind: str, job_id: int, run_id: int):
    _job_or_404(request, _kind(request, kind), job_id)
    return paginate(request, render_outputs(request, get_run_or_404(request, job_id, run_id)))
