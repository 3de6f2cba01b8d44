"""``/templates/scripts``: list, get, create. A template points at a backing script (``scriptId``);
custom scripts made from it (``POST /scripts/custom``) run the backing script's code with their own
arguments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request

from ..common import author, now_iso, paginate, parse_body, required_fields, respond
from ..errors import not_found
from ..script_kinds import kind_of
from . import emulator

router = APIRouter(prefix="/templates/scripts")


@router.get("")
@router.get("/")
def list_templates(request: Request, hidden: bool = False, category: str | None = None):
    items = [t for t in emulator(request).store.all("templates")
             if bool(t.get("hidden")) == hidden and (not category or t.get("category") == category)]
    return paginate(request, items)


@router.get("/{template_id}")
def get_template(request: Request, template_id: int):
    doc = emulator(request).store.get("templates", template_id)
    if doc is None:
        raise not_found("template")
    return respond(request, doc)


@router.post("")
@router.post("/")
def create_template(request: Request, body: Any = Body(None)):
    body = parse_body(body, required_fields("post", "/templates/scripts/"))
    state = emulator(request)
    script = state.registry.get_job(int(body["scriptId"]))
    kind = kind_of(script) if script else None
    if script is None or kind is None or kind.path == "custom":
        raise not_found("script")
    now = now_iso()
    template_id = state.store.next_id("templates")
    while state.store.get("templates", template_id) is not None:  # skip the ids the CivisML seeds hold
        template_id = state.store.next_id("templates")
    doc = {
        "id": template_id, "public": False, "scriptId": script["id"],
        "scriptType": kind.display, "userContext": script.get("userContext") or "runner",
        "params": script.get("params", []), "name": body["name"], "category": "script",
        "note": body.get("note"), "createdAt": now, "updatedAt": now, "useCount": 0,
        "uiReportId": body.get("uiReportId"), "techReviewed": False,
        "archived": bool(body.get("archived", False)), "hidden": bool(body.get("hidden", False)),
        "author": author(), "myPermissionLevel": "manage",
    }
    state.store.put("templates", doc)
    state.registry.update_job(script["id"], {"isTemplate": True, "publishedAsTemplateId": doc["id"]})
    return respond(request, doc, status=201)
