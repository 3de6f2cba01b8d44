"""``/reports``: HTML/JSON reports stored as given (store kind ``reports``, which sharing.py's
shares/projects/archive routes also use). A report with a ``scriptId`` shows that script's job
(state, last run); ``grants`` give the report an API key (a new token, never the emulator's own)."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Body, Request

from ..common import author, now_iso, paginate, parse_body, respond
from ..errors import bad_request, not_found
from ..runs import run_summary
from . import emulator, found

router = APIRouter()
_EDITABLE = ("name", "scriptId", "codeBody", "config", "appState", "provideAPIKey", "templateId",
             "useViewersTableauUsername", "description", "hidden")


def _report_or_404(request: Request, report_id: int) -> dict:
    doc = emulator(request).store.get("reports", report_id)
    if doc is None:
        raise not_found("report")
    return doc


def _check_script(request: Request, body: dict) -> None:
    if body.get("scriptId") is not None and emulator(request).registry.get_job(int(body["scriptId"])) is None:
        raise bad_request(f"scriptId {body['scriptId']}: no such script")


def _render(request: Request, doc: dict) -> dict:
    out = dict(doc, user=author(), myPermissionLevel="manage", projects=doc.get("projects") or [])
    job = emulator(request).registry.get_job(int(doc["scriptId"])) if doc.get("scriptId") else None
    if job is not None:
        last = job.get("lastRun")
        out.update(script={"id": job["id"], "name": job.get("name"), "sql": job.get("sql")},
                   state=job.get("state"), finishedAt=job.get("finishedAt"),
                   lastRun=run_summary(last) if last else None, jobPath=f"/scripts/{job['id']}")
    else:
        out.update(script=None, state=doc.get("state") or "idle", lastRun=None, jobPath=None)
    if not out.get("provideAPIKey"):
        out.update(apiKey=None, apiKeyId=None)
    return out


def _apply(doc: dict, body: dict) -> None:
    for key in _EDITABLE:
        if key in body:
            doc[key] = body[key]
    doc["type"] = "ReportTypes::Json" if doc.get("appState") and not doc.get("codeBody") else "ReportTypes::HTML"
    doc["validOutputFile"] = bool(doc.get("codeBody") or doc.get("scriptId"))
    doc["updatedAt"] = doc["vizUpdatedAt"] = now_iso()


@router.post("/reports")
@router.post("/reports/")
def create_report(request: Request, body: Any = Body(None)):
    body = parse_body(body)
    _check_script(request, body)
    store = emulator(request).store
    now = now_iso()
    doc: dict[str, Any] = {
        "id": store.next_id("reports"), "name": body.get("name") or "Untitled report", "createdAt": now,
        "description": None, "archived": False, "hidden": False, "finishedAt": None, "tableauId": None,
        "templateId": None, "authThumbnailUrl": None, "authDataUrl": None, "authCodeUrl": None,
        "config": None, "provideAPIKey": False, "apiKey": None, "apiKeyId": None, "appState": {},
        "useViewersTableauUsername": False, "codeBody": None, "scriptId": None, "state": "idle",
        "user": author(), "myPermissionLevel": "manage", "projects": [], "script": None, "lastRun": None,
        "jobPath": None,
    }
    _apply(doc, body)
    store.put("reports", doc)
    return respond(request, _render(request, doc))


@router.get("/reports")
@router.get("/reports/")
def list_reports(request: Request, hidden: bool = False, archived: str | None = None):
    q = request.query_params
    items = []
    for doc in emulator(request).store.all("reports"):
        if bool(doc.get("hidden")) != hidden:
            continue
        if archived not in (None, "all") and bool(doc.get("archived")) != (archived == "true"):
            continue
        if q.get("type") and doc.get("type") != q["type"]:
            continue
        if q.get("template_id") and str(doc.get("templateId")) != q["template_id"]:
            continue
        items.append(_render(request, doc))
    return paginate(request, items)


@router.get("/reports/{report_id:int}")
def get_report(request: Request, report_id: int):
    return respond(request, _render(request, _report_or_404(request, report_id)))


@router.patch("/reports/{report_id:int}")
def update_report(request: Request, report_id: int, body: Any = Body(None)):
    _report_or_404(request, report_id)
    body = parse_body(body)
    _check_script(request, body)
    doc = found(emulator(request).store.update("reports", report_id, lambda d: _apply(d, body)), "report")
    return respond(request, _render(request, doc))


@router.post("/reports/{report_id:int}/grants")
def grant_report(request: Request, report_id: int):
    _report_or_404(request, report_id)
    store = emulator(request).store
    key_id = store.next_id("report_api_keys")

    def grant(d: dict) -> None:
        d.update(provideAPIKey=True, apiKey=secrets.token_urlsafe(32), apiKeyId=key_id)
    return respond(request, _render(request, found(store.update("reports", report_id, grant), "report")))


@router.delete("/reports/{report_id:int}/grants")
def revoke_report(request: Request, report_id: int):
    _report_or_404(request, report_id)
    emulator(request).store.update("reports", report_id,
                                   lambda d: d.update(provideAPIKey=False, apiKey=None, apiKeyId=None))
    return respond(request, None, status=204)
