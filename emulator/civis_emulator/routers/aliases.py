"""``/aliases``: list (filter by ``object_type``), get by id or by ``{object_type}/{alias}``, create.
The CivisML templates' ``civis-civisml-*`` aliases are seeded at start (see ``civisml.seed``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request

from ..common import USER, paginate, parse_body, query_list, required_fields, respond
from ..errors import ApiError, not_found
from . import emulator

router = APIRouter(prefix="/aliases")


@router.get("")
@router.get("/")
def list_aliases(request: Request):
    types = query_list(request, "object_type")
    items = [a for a in emulator(request).store.all("aliases") if not types or a["objectType"] in types]
    return paginate(request, items)


@router.post("")
@router.post("/")
def create_alias(request: Request, body: Any = Body(None)):
    body = parse_body(body, required_fields("post", "/aliases/"))
    store = emulator(request).store
    with store.lock:
        if any(a["alias"] == body["alias"] and a["objectType"] == body["objectType"] for a in store.all("aliases")):
            raise ApiError(409, "conflict", f"The alias {body['alias']!r} is already taken.")
        doc = {"id": store.next_id("aliases"), "objectId": int(body["objectId"]), "objectType": body["objectType"],
               "alias": body["alias"], "userId": USER["id"], "displayName": body.get("displayName") or body["alias"]}
        store.put("aliases", doc)
    return respond(request, doc, status=201)


@router.get("/{alias_id}")
def get_alias(request: Request, alias_id: int):
    doc = emulator(request).store.get("aliases", alias_id)
    if doc is None:
        raise not_found("alias")
    return respond(request, doc)


@router.get("/{object_type}/{alias}")
def get_by_alias(request: Request, object_type: str, alias: str):
    for doc in emulator(request).store.all("aliases"):
        if doc["objectType"] == object_type and doc["alias"] == alias:
            return respond(request, doc)
    raise not_found("alias")
