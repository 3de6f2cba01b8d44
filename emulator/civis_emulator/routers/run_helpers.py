"""Run endpoints shared by ``/jobs/{id}/runs...`` and ``/scripts/<kind>/{id}/runs...``."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from ..common import respond, shaped, template_of
from ..errors import ApiError, bad_request, not_found, not_implemented
from ..runs import FINISHED_STATES, NoRunner, RunConflict
from . import emulator

_LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}  # "testclient": in-process TestClient
_OUTPUT_PATHS = {
    "File": "files", "Report": "reports", "Table": "tables", "Project": "projects",
    "Credential": "credentials", "JSONValue": "json_values", "Script": "scripts", "Job": "jobs",
}


def require_loopback(request: Request) -> None:
    host = request.client.host if request.client else None
    if host not in _LOOPBACK:
        raise ApiError(403, "forbidden", "The Civis emulator starts runs only for requests from loopback.")


def start_run(request: Request, job_id: int, *, conflict: tuple[str, str]) -> dict:
    require_loopback(request)
    state = emulator(request)
    try:
        return state.registry.start_run(job_id, endpoint=str(request.base_url))
    except KeyError:
        raise not_found("job") from None
    except RunConflict:
        raise ApiError(409, conflict[0], conflict[1]) from None
    except NoRunner:
        raise not_implemented("POST", template_of(request)) from None


def get_run_or_404(request: Request, job_id: int, run_id: int) -> dict:
    run = emulator(request).registry.get_run(job_id, run_id)
    if run is None:
        raise not_found("run")
    return run


def logs_response(request: Request, job_id: int, run_id: int, last_id: int | None, limit: int | None):
    run = get_run_or_404(request, job_id, run_id)
    if limit is not None and limit < 1:
        raise bad_request("limit must be positive")
    store = emulator(request).store
    logs = store.get_logs(run_id, last_id, min(limit or 10000, 10000))
    headers = {
        "Access-Control-Expose-Headers": "Civis-Cache-Control, Civis-Max-Id",
        # "no-store" while more lines may come (late ones too); the civis client stops following once it changes.
        "Civis-Cache-Control": "no-store" if run["state"] not in FINISHED_STATES
        or store.has_unpublished_logs(run_id) else "max-age=31536000",
    }
    max_id = store.max_log_id(run_id)
    if max_id is not None:
        headers["Civis-Max-Id"] = str(max_id)
    return JSONResponse(shaped(request, logs), headers=headers)


def render_outputs(request: Request, run: dict) -> list[dict]:
    store = emulator(request).store
    host = request.url.netloc
    out = []
    for o in run.get("outputs", []):
        o = dict(o)
        if o["objectType"] == "JSONValue":
            jv = store.get("json_values", o["objectId"])
            if jv is not None:
                o["name"], o["value"] = o.get("name") or jv["name"], jv["value"]
        path = _OUTPUT_PATHS.get(o["objectType"], o["objectType"].lower() + "s")
        o["link"] = f"{host}/{path}/{o['objectId']}"
        out.append(o)
    return out


def add_output(request: Request, job_id: int, run_id: int, body: dict):
    get_run_or_404(request, job_id, run_id)
    state = emulator(request)
    object_type, object_id = body["objectType"], body["objectId"]
    try:
        object_id = int(object_id)
    except (TypeError, ValueError):
        raise bad_request("objectId must be an integer") from None
    name, value = None, None
    if object_type == "JSONValue":
        jv = state.store.get("json_values", object_id)
        if jv is None:
            raise not_found("JSON value")
        name, value = jv["name"], jv["value"]
    elif object_type == "Credential":
        cred = state.store.get("credentials", object_id)
        name = cred["name"] if cred else None
    elif object_type in ("Script", "Job"):
        job = state.registry.get_job(object_id)
        name = job["name"] if job else None
    output = state.registry.add_output(run_id, object_type, object_id, name, value)
    run = {"outputs": [output]}
    return respond(request, render_outputs(request, run)[0], status=202)


def cancel_response(request: Request, job_id: int, run_id: int):
    run = get_run_or_404(request, job_id, run_id)
    if run["state"] in FINISHED_STATES:
        raise not_found("active run")  # the civis client reads 404 as "already finished"
    emulator(request).registry.cancel_run(job_id, run_id)
    return respond(request, None, status=202)
