"""``/json_values``: create, get, patch (``valueStr`` in, parsed ``value`` out)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Body, Request

from ..common import parse_body, respond
from ..errors import bad_request, not_found
from . import emulator

router = APIRouter()


def _parse(value_str: Any) -> Any:
    try:
        return json.loads(value_str)
    except (TypeError, ValueError):
        raise bad_request("valueStr must be a JSON document") from None


@router.post("/json_values")
@router.post("/json_values/")
def create_json_value(request: Request, body: Any = Body(None)):
    body = parse_body(body, ["valueStr"])
    store = emulator(request).store
    doc = {"id": store.next_id("json_values"), "name": body.get("name"), "value": _parse(body["valueStr"])}
    store.put("json_values", doc)
    return respond(request, doc, status=201)


@router.get("/json_values/{value_id}")
def get_json_value(request: Request, value_id: int):
    doc = emulator(request).store.get("json_values", value_id)
    if doc is None:
        raise not_found("JSON value")
    return respond(request, doc)


@router.patch("/json_values/{value_id}")
def patch_json_value(request: Request, value_id: int, body: Any = Body(None)):
    body = parse_body(body)
    changes = {}
    if "name" in body:
        changes["name"] = body["name"]
    if "valueStr" in body:
        changes["value"] = _parse(body["valueStr"])
    doc = emulator(request).store.update("json_values", value_id, lambda d: d.update(changes))
    if doc is None:
        raise not_found("JSON value")
    return respond(request, doc)
