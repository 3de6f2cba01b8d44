"""``/scripts``: create/get/update scripts of every kind (containers, python3, r, sql, javascript, custom)
and the generic ``GET /scripts`` list. Runs are in ``script_runs.py``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from starlette.exceptions import HTTPException

from .. import spec
from ..common import author, paginate, parse_body, query_list, required_fields, respond
from ..errors import ApiError, bad_request, not_found
from ..script_kinds import KINDS, ScriptKind, kind_of
from . import emulator, found
from .run_helpers import start_run

router = APIRouter(prefix="/scripts")

_NOTIFICATIONS: dict[str, Any] = {
    "urls": [], "successEmailSubject": None, "successEmailBody": None, "successEmailAddresses": [],
    "successEmailFromName": None, "successEmailReplyTo": None, "failureEmailAddresses": [],
    "stallWarningMinutes": None, "successOn": True, "failureOn": True,
}
_PARAM_FIELDS = ("name", "label", "description", "type", "required", "value", "default", "allowedValues")


def kind_or_404(request: Request, kind: str) -> ScriptKind:
    """The kind, if the spec has this method+path; otherwise the 404/501 fallback answers."""
    if kind not in KINDS or not spec.match(request.method, request.url.path)[1]:
        raise HTTPException(404)
    return KINDS[kind]


def normalize_params(params: Any) -> list[dict]:
    out = []
    for p in params or []:
        p = {f: p.get(f) for f in _PARAM_FIELDS}
        p["required"] = bool(p["required"]) if p["required"] is not None else False
        p["allowedValues"] = p["allowedValues"] or []
        out.append(p)
    return out


def render_script(request: Request, job: dict, kind: ScriptKind | None = None) -> dict:
    kind = kind or kind_of(job)
    host = request.url.netloc
    doc = dict(job, type=kind.display if kind else job["type"])
    if kind:
        doc["links"] = {"details": f"{host}/scripts/{kind.path}/{job['id']}",
                        "runs": f"{host}/scripts/{kind.path}/{job['id']}/runs"}
    return doc


_CONTAINER_FIELDS = ("dockerCommand", "dockerImageName", "dockerImageTag", "repoHttpUri", "repoRef",
                     "remoteHostCredentialId", "gitCredentialId", "instanceType", "cancelTimeout", "partitionLabel")


def container_backing(request: Request, job: dict) -> dict | None:
    """The backing container script of a custom script made from a container template (else None): Civis
    serves such a custom script under ``/scripts/containers`` too, where CivisML's clients poll it."""
    if job.get("type") != KINDS["custom"].job_type:
        return None
    state = emulator(request)
    template = state.store.get("templates", int(job.get("fromTemplateId") or 0))
    backing = state.registry.get_job(template["scriptId"]) if template else None
    return backing if backing is not None and kind_of(backing) is KINDS["containers"] else None


def script_or_404(request: Request, kind: ScriptKind, script_id: int, *, custom_as_container: bool = False) -> dict:
    """The script ``script_id`` of this kind; with ``custom_as_container``, a container-backed custom
    script also answers as a container (reads and runs, not updates)."""
    job = emulator(request).registry.get_job(script_id)
    if job is not None and job.get("type") == kind.job_type:
        return job
    if job is not None and custom_as_container and kind.path == "containers" and container_backing(request, job):
        return job
    raise not_found("script")


def as_container(request: Request, job: dict) -> dict:
    """A container-backed custom script in the ContainerScript shape: its own id, name, params, arguments
    and runs; the image, command and (unless it sets its own) resources of the template's container."""
    backing = container_backing(request, job) or {}
    doc = dict(job, **{f: backing.get(f) for f in _CONTAINER_FIELDS})
    doc["requiredResources"] = job.get("requiredResources") or backing.get("requiredResources")
    return doc


def _fields(method: str, template: str, body: dict) -> dict:
    props = (spec.body_schema(method, template) or {}).get("properties", {})
    out = {k: v for k, v in body.items() if k in props}
    if "params" in out:
        out["params"] = normalize_params(out["params"])
    return out


def check_declared_arguments(arguments: Any, params: list[dict], template: dict) -> None:
    """A custom script's ``arguments`` may only name its template's params ("only settable if this script
    has defined parameters"): an undeclared name is refused, so a client sending arguments a template
    version does not have (CivisML's ``VALIDATION_DATA`` to a v1 template) learns it here."""
    if arguments is None:
        return
    if not isinstance(arguments, dict):
        raise bad_request("arguments must be an object of parameter name to value")
    declared = {p.get("name") for p in params}
    unknown = sorted(str(k) for k in arguments if k not in declared)
    if unknown:
        raise bad_request(f"arguments {', '.join(unknown)} are not parameters of template {template['id']} "
                          f"({template.get('name')}); its parameters are: {', '.join(sorted(map(str, declared)))}")


def _custom_fields(request: Request, body: dict) -> dict:
    state = emulator(request)
    template = state.store.get("templates", int(body["fromTemplateId"]))
    if template is None:
        raise not_found("template")
    backing = state.registry.get_job(template["scriptId"])
    if backing is None:
        raise not_found("template's script")
    backing_kind = kind_of(backing)
    check_declared_arguments(body.get("arguments"), backing.get("params") or [], template)
    state.store.update("templates", template["id"], lambda t: t.update(useCount=(t.get("useCount") or 0) + 1))
    code = backing.get(backing_kind.code_field) if backing_kind and backing_kind.code_field else None
    return {
        "name": body.get("name") or template["name"], "params": backing.get("params", []),
        "backingScriptType": backing_kind.display if backing_kind else None,
        "templateScriptName": template["name"], "templateNote": template.get("note"),
        "codePreview": code, "fromTemplateId": template["id"], "lastSuccessfulRun": None,
        "uiReportUrl": None, "uiReportId": None, "uiReportProvideAPIKey": False,
    }


@router.post("/{kind}")
def create_script(request: Request, kind: str, body: Any = Body(None)):
    k = kind_or_404(request, kind)
    template = f"/scripts/{k.path}"
    body = parse_body(body, required_fields("post", template))
    job = _create(request, k, template, body)
    return respond(request, render_script(request, job, k), status=201)


def _create(request: Request, k: ScriptKind, template: str, body: dict) -> dict:
    fields = _fields("post", template, body)
    user = author()
    doc = {
        "fromTemplateAliases": [], "category": "script", "projects": [], "parentId": None,
        "userContext": "runner", "params": [], "arguments": {}, "isTemplate": False,
        "templateDependentsCount": None, "publishedAsTemplateId": None, "fromTemplateId": None,
        "templateScriptName": None, "notifications": dict(_NOTIFICATIONS), "runningAs": user,
        "nextRunAt": None, "timeZone": "America/Chicago", "requiredResources": None,
        "instanceType": None, "cancelTimeout": 0, "dockerImageTag": None, "partitionLabel": None,
        "runningAsId": user["id"], "targetProjectId": None, "expandedArguments": {},
    }
    if k.path == "containers":
        doc.update(repoHttpUri=None, repoRef=None, remoteHostCredentialId=None, gitCredentialId=None,
                   dockerCommand=None, dockerImageName=None)
    doc.update(fields)
    if k.path == "custom":
        doc.update(_custom_fields(request, body))
    return emulator(request).registry.create_job(k.job_type, doc.pop("name", None), doc)


@router.get("/{kind}/{script_id}")
def get_script(request: Request, kind: str, script_id: int):
    k = kind_or_404(request, kind)
    job = script_or_404(request, k, script_id, custom_as_container=True)
    if job.get("type") != k.job_type:
        job = as_container(request, job)
    return respond(request, render_script(request, job, k))


@router.patch("/{kind}/{script_id}")
@router.put("/{kind}/{script_id}")
def update_script(request: Request, kind: str, script_id: int, body: Any = Body(None)):
    k = kind_or_404(request, kind)
    script_or_404(request, k, script_id)
    template = f"/scripts/{k.path}/{{id}}"
    method = request.method.lower()
    body = parse_body(body, required_fields(method, template))
    if k.path == "custom" and "arguments" in body:
        job = script_or_404(request, k, script_id)
        template_doc = emulator(request).store.get("templates", int(job.get("fromTemplateId") or 0)) or {"id": None}
        check_declared_arguments(body["arguments"], job.get("params") or [], template_doc)
    job = found(emulator(request).registry.update_job(script_id, _fields(method, template, body)), "script")
    return respond(request, render_script(request, job, k))


def _list(request: Request, scripts: list[dict], archived: str | None, hidden: bool) -> list[dict]:
    statuses = query_list(request, "status")
    archived = (archived or "false").lower()
    out = []
    for job in scripts:
        if archived != "all" and bool(job.get("archived")) != (archived == "true"):
            continue
        if bool(job.get("hidden")) != hidden:
            continue
        if statuses and job.get("state") not in statuses:
            continue
        out.append(job)
    return out


@router.get("")
@router.get("/")
def list_scripts(request: Request, archived: str | None = None, hidden: bool = False):
    types = query_list(request, "type")
    scripts = []
    for job in emulator(request).registry.list_jobs():
        k = kind_of(job)
        if k is None or (types and k.path not in types):
            continue
        doc = render_script(request, job, k)
        doc["templateScriptId"] = job.get("publishedAsTemplateId")
        scripts.append(doc)
    return paginate(request, _list(request, scripts, archived, hidden))


@router.get("/custom")
def list_custom(request: Request, archived: str | None = None, hidden: bool = False):
    ids = query_list(request, "from_template_id")
    k = KINDS["custom"]
    scripts = [render_script(request, j, k) for j in emulator(request).registry.list_jobs()
               if j.get("type") == k.job_type and (not ids or str(j.get("fromTemplateId")) in ids)]
    return paginate(request, _list(request, scripts, archived, hidden))


# -- the legacy generic routes: GET /scripts/types, POST /scripts, GET /scripts/{id}, POST /scripts/{id}/run
@router.get("/types")
def list_types(request: Request):
    return respond(request, [{"name": path} for path in KINDS if path != "custom"])


@router.post("")
@router.post("/")
def create_legacy(request: Request, body: Any = Body(None)):
    """The legacy create makes a SQL script (``/scripts/sql``); ``templateScriptId`` is not supported."""
    body = parse_body(body, required_fields("post", "/scripts/"))
    if body.get("templateScriptId") is not None:
        raise ApiError(501, "not_implemented", "POST /scripts with templateScriptId is not implemented "
                       "by the Civis emulator; use POST /scripts/custom")
    k = KINDS["sql"]
    job = _create(request, k, "/scripts/", body)
    return respond(request, render_script(request, job, k))


def _any_script(request: Request, script_id: int) -> tuple[dict, ScriptKind]:
    job = emulator(request).registry.get_job(script_id)
    k = kind_of(job) if job else None
    if job is None or k is None:
        raise not_found("script")
    return job, k


@router.get("/{script_id:int}")
def get_any_script(request: Request, script_id: int):
    job, k = _any_script(request, script_id)
    return respond(request, render_script(request, job, k))


@router.post("/{script_id:int}/run")
def run_legacy(request: Request, script_id: int):
    _any_script(request, script_id)
    start_run(request, script_id, conflict=("already_running", "The script is already running"))
    return respond(request, None, status=204)


__all__ = ["router", "render_script", "kind_or_404", "script_or_404", "container_backing", "as_container"]
