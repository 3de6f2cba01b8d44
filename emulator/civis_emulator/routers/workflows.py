"""``/workflows``: create (a Mistral v2 ``definition``), list, get, replace, patch, archive; and executions
that really run (``POST .../executions``, get, list, ``cancel``, ``resume``, ``retry``, one task).

A definition the emulator cannot run is refused with 400 naming its line (``workflows/definition.py``),
so ``valid`` is always true here. Executions are run by ``workflows/engine.py``; each task's run is a
real run of its job (``GET /jobs/{id}/runs/{run_id}`` shows it, with its logs).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request

from ..common import author, now_iso, paginate, parse_body, query_list, required_fields, respond
from ..errors import ApiError, bad_request, not_found, not_implemented
from ..workflows import DefinitionError, ExecutionError, engine_for, execution_state, parse_definition
from ..workflows.engine import KIND as EXECUTIONS
from . import emulator
from .run_helpers import require_loopback

router = APIRouter()
KIND = "workflows"
_SCHEDULE = {"scheduled": False, "scheduledDays": [], "scheduledHours": [], "scheduledMinutes": [],
             "scheduledRunsPerHour": None, "scheduledDaysOfMonth": []}
_NOTIFICATIONS: dict[str, Any] = {
    "urls": [], "successEmailSubject": None, "successEmailBody": None, "successEmailAddresses": [],
    "failureEmailAddresses": [], "stallWarningMinutes": None, "successOn": True, "failureOn": True,
}
_EDITABLE = ("name", "description", "definition", "schedule", "allowConcurrentExecutions", "timeZone",
             "notifications")


# -- workflows -------------------------------------------------------------------------------------
def _workflow_or_404(request: Request, workflow_id: int) -> dict:
    doc = emulator(request).store.get(KIND, workflow_id)
    if doc is None:
        raise not_found("workflow")
    return doc


def _executions(request: Request, workflow_id: int) -> list[dict]:
    return emulator(request).store.all(EXECUTIONS, parent=workflow_id)


def _render_workflow(request: Request, doc: dict) -> dict:
    executions = _executions(request, doc["id"])
    if any(e["mistralState"] == "running" for e in executions):
        state = "running"
    else:
        state = execution_state(executions[-1]) if executions else "idle"
    return dict(doc, state=state, lastExecutionId=executions[-1]["id"] if executions else None)


def _check_definition(text: Any) -> None:
    try:
        parse_definition(text)
    except DefinitionError as err:
        raise bad_request(f"definition: {err}") from None


def _fields(body: dict, base: dict) -> dict:
    """The editable attributes of ``body`` over ``base``, schedule and notifications completed."""
    doc = dict(base)
    for key in _EDITABLE:
        if key in body:
            doc[key] = body[key]
    if "definition" in body:
        _check_definition(body["definition"])
    for key, default in (("schedule", _SCHEDULE), ("notifications", _NOTIFICATIONS)):
        value = doc.get(key)
        if value is not None and not isinstance(value, dict):
            raise bad_request(f"{key} must be an object")
        doc[key] = {**default, **(value or {})}
    if not isinstance(doc.get("allowConcurrentExecutions"), bool):
        raise bad_request("allowConcurrentExecutions must be true or false")
    return doc


def _defaults() -> dict:
    return {"name": None, "description": None, "definition": None, "schedule": dict(_SCHEDULE),
            "allowConcurrentExecutions": False, "timeZone": "America/Chicago", "notifications": dict(_NOTIFICATIONS)}


@router.get("/workflows")
@router.get("/workflows/")
def list_workflows(request: Request, hidden: bool = False, archived: str = "false"):
    if archived not in ("true", "false", "all"):
        raise bad_request("archived must be true, false or all")
    states = query_list(request, "state")
    authors = query_list(request, "author")
    out = []
    for doc in emulator(request).store.all(KIND):
        doc = _render_workflow(request, doc)
        if bool(doc["hidden"]) != hidden or (archived != "all" and doc["archived"] != (archived == "true")):
            continue
        if (states and doc["state"] not in states) or (authors and str(doc["user"]["id"]) not in authors):
            continue
        out.append(doc)
    return paginate(request, out)


@router.post("/workflows")
@router.post("/workflows/")
def create_workflow(request: Request, body: Any = Body(None)):
    body = parse_body(body, required_fields("POST", "/workflows"))
    if body.get("fromJobChain") is not None:
        if body.get("definition") is not None or body.get("schedule") is not None:
            raise bad_request("definition and schedule must not be specified with fromJobChain")
        raise not_implemented("POST", "/workflows (fromJobChain)")
    if body.get("definition") is None:
        raise bad_request("definition is required (a YAML workflow definition), unless fromJobChain is given")
    doc = _fields(body, _defaults())
    store = emulator(request).store
    now = now_iso()
    doc.update(id=store.next_id(KIND), valid=True, validationErrors=None, fileId=None, user=author(),
               nextExecutionAt=None, archived=False, hidden=bool(body.get("hidden", False)),
               myPermissionLevel="manage", createdAt=now, updatedAt=now)
    store.put(KIND, doc)
    return respond(request, _render_workflow(request, doc), status=201)


@router.get("/workflows/{workflow_id}")
def get_workflow(request: Request, workflow_id: int):
    return respond(request, _render_workflow(request, _workflow_or_404(request, workflow_id)))


def _update(request: Request, workflow_id: int, body: dict, *, replace: bool) -> dict:
    current = _workflow_or_404(request, workflow_id)
    if replace and body.get("definition") is None:
        raise bad_request("definition is required when replacing a workflow")
    fields = _fields(body, _defaults() if replace else current)
    doc = emulator(request).store.update(KIND, workflow_id, lambda d: d.update(fields, updatedAt=now_iso()))
    assert doc is not None
    return doc


@router.put("/workflows/{workflow_id}")
def replace_workflow(request: Request, workflow_id: int, body: Any = Body(None)):
    body = parse_body(body, required_fields("PUT", "/workflows/{id}"))
    return respond(request, _render_workflow(request, _update(request, workflow_id, body, replace=True)))


@router.patch("/workflows/{workflow_id}")
def patch_workflow(request: Request, workflow_id: int, body: Any = Body(None)):
    body = parse_body(body)
    return respond(request, _render_workflow(request, _update(request, workflow_id, body, replace=False)))


@router.put("/workflows/{workflow_id}/archive")
def archive_workflow(request: Request, workflow_id: int, body: Any = Body(None)):
    body = parse_body(body, ["status"])
    if not isinstance(body["status"], bool):
        raise bad_request("status must be true or false")
    _workflow_or_404(request, workflow_id)
    doc = emulator(request).store.update(KIND, workflow_id, lambda d: d.update(archived=body["status"]))
    return respond(request, _render_workflow(request, doc or {}))


# -- executions ------------------------------------------------------------------------------------
def _render_run(request: Request, job_id: int, run_id: int) -> dict:
    run = emulator(request).registry.get_run(job_id, run_id) or {"id": run_id}
    return {"id": run_id, "jobId": job_id, "myPermissionLevel": "manage", "state": run.get("state"),
            "createdAt": run.get("createdAt"), "startedAt": run.get("startedAt"), "finishedAt": run.get("finishedAt")}


def _render_task(request: Request, entry: dict) -> dict:
    runs = sorted(entry["runs"], key=lambda pair: pair[1], reverse=True)  # "in descending order by id"
    return {"name": entry["name"], "mistralState": entry["mistralState"],
            "mistralStateInfo": entry["mistralStateInfo"],
            "runs": [_render_run(request, job_id, run_id) for job_id, run_id in runs], "executions": []}


def _render_execution(request: Request, doc: dict) -> dict:
    return dict(doc, state=execution_state(doc), user=author(),
                tasks=[_render_task(request, entry) for entry in doc["tasks"]])


def _execution_or_404(request: Request, workflow_id: int, execution_id: int) -> dict:
    _workflow_or_404(request, workflow_id)
    doc = emulator(request).store.get(EXECUTIONS, execution_id)
    if doc is None or doc["workflowId"] != workflow_id:
        raise not_found("workflow execution")
    return doc


def _execution_request(body: Any) -> tuple[dict, list[str] | None, str | None]:
    """``input``, ``includedTasks`` and ``targetTask`` of a POST body; ``input`` keys are kept as sent."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    unknown = set(body) - {"input", "includedTasks", "included_tasks", "targetTask", "target_task"}
    if unknown:
        raise bad_request(f"unknown fields {sorted(unknown)}; an execution takes input, includedTasks, targetTask")
    inputs = body.get("input") or {}
    included = body.get("includedTasks", body.get("included_tasks"))
    target = body.get("targetTask", body.get("target_task"))
    if not isinstance(inputs, dict):
        raise bad_request("input must be an object of key-value pairs")
    if included is not None and not (isinstance(included, list) and all(isinstance(t, str) for t in included)):
        raise bad_request("includedTasks must be a list of task names")
    if target is not None and not isinstance(target, str):
        raise bad_request("targetTask must be a task name")
    return inputs, included, target


@router.post("/workflows/{workflow_id}/executions")
def start_execution(request: Request, workflow_id: int, body: Any = Body(None)):
    require_loopback(request)
    workflow = _workflow_or_404(request, workflow_id)
    inputs, included, target = _execution_request(body)
    definition = parse_definition(workflow["definition"])
    unknown = sorted(set(inputs) - set(definition.inputs))
    missing = [name for name in definition.required_inputs if name not in inputs]
    if unknown or missing:
        raise bad_request(f"input: unknown {unknown}, missing {missing}; workflow inputs: {list(definition.inputs)}")
    bad_tasks = [name for name in included or [] if name not in definition.tasks]
    if bad_tasks:
        raise bad_request(f"includedTasks: no such tasks {bad_tasks}; tasks: {list(definition.tasks)}")
    if definition.type == "reverse" and target not in definition.tasks:
        raise bad_request(f"targetTask is required for a reverse workflow, one of {list(definition.tasks)}")
    if definition.type == "direct" and target is not None:
        raise bad_request("targetTask is only for reverse workflows")
    engine = engine_for(emulator(request))
    with engine.lock:
        live = [e for e in _executions(request, workflow_id) if e["mistralState"] in ("running", "paused")]
        if live and not workflow["allowConcurrentExecutions"]:
            raise ApiError(409, "conflict", f"Workflow {workflow_id} is already running (execution {live[-1]['id']}) "
                                            "and allowConcurrentExecutions is false.")
        doc = engine.start(workflow, definition, inputs={**definition.defaults, **inputs}, included=included,
                           target=target, endpoint=str(request.base_url))
    return respond(request, _render_execution(request, doc), status=201)


@router.get("/workflows/{workflow_id}/executions")
def list_executions(request: Request, workflow_id: int):
    _workflow_or_404(request, workflow_id)
    docs = [dict(doc, state=execution_state(doc), user=author()) for doc in _executions(request, workflow_id)]
    return paginate(request, docs)


@router.get("/workflows/{workflow_id}/executions/{execution_id}")
def get_execution(request: Request, workflow_id: int, execution_id: int):
    return respond(request, _render_execution(request, _execution_or_404(request, workflow_id, execution_id)))


def _act(request: Request, workflow_id: int, execution_id: int, action: str, body: Any = None):
    doc = _execution_or_404(request, workflow_id, execution_id)
    engine = engine_for(emulator(request))
    try:
        if action == "cancel":
            doc = engine.cancel(doc)
        elif action == "resume":
            doc = engine.resume(doc)
        else:
            body = parse_body(body)
            task_name = body.get("taskName")
            if task_name is not None and not isinstance(task_name, str):
                raise bad_request("taskName must be a task name")
            require_loopback(request)
            doc = engine.retry(doc, task_name)
    except ExecutionError as err:
        if err.status == 400:
            raise bad_request(str(err)) from None
        raise ApiError(409, "conflict", str(err)) from None
    return respond(request, _render_execution(request, doc), status=202)


@router.post("/workflows/{workflow_id}/executions/{execution_id}/cancel")
def cancel_execution(request: Request, workflow_id: int, execution_id: int):
    return _act(request, workflow_id, execution_id, "cancel")


@router.post("/workflows/{workflow_id}/executions/{execution_id}/resume")
def resume_execution(request: Request, workflow_id: int, execution_id: int):
    return _act(request, workflow_id, execution_id, "resume")


@router.post("/workflows/{workflow_id}/executions/{execution_id}/retry")
def retry_execution(request: Request, workflow_id: int, execution_id: int, body: Any = Body(None)):
    return _act(request, workflow_id, execution_id, "retry", body)


@router.get("/workflows/{workflow_id}/executions/{execution_id}/tasks/{task_name}")
def get_execution_task(request: Request, workflow_id: int, execution_id: int, task_name: str):
    doc = _execution_or_404(request, workflow_id, execution_id)
    for entry in doc["tasks"]:
        if entry["name"] == task_name:
            return respond(request, _render_task(request, entry))
    if task_name in parse_definition(doc["definition"]).tasks:  # not reached (yet): idle, no runs
        return respond(request, {"name": task_name, "mistralState": "idle", "mistralStateInfo": None,
                                 "runs": [], "executions": []})
    raise not_found("workflow task")
