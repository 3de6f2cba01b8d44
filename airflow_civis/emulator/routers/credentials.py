"""``/credentials``: list, get, create. Passwords are stored (scripts get them as env vars), never returned."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request

from ..common import USER, author, now_iso, paginate, parse_body, query_list, required_fields, respond
from ..errors import not_found
from . import emulator

router = APIRouter()


def _public(cred: dict) -> dict:
    out = {k: v for k, v in cred.items() if k != "password"}
    out["user"] = author()
    return out


@router.get("/credentials")
@router.get("/credentials/")
def list_credentials(request: Request, name: str | None = None, default: bool | None = None,
                     remote_host_id: int | None = None):
    creds = emulator(request).store.all("credentials")
    types = query_list(request, "type")
    if types:
        creds = [c for c in creds if c["type"] in types]
    if default:
        creds = [c for c in creds if c.get("default")][:1]
    if name:
        creds = [c for c in creds if name.lower() in (c.get("name") or "").lower()]
    if remote_host_id is not None:
        creds = [c for c in creds if c.get("remoteHostId") == remote_host_id]
    return paginate(request, [_public(c) for c in creds])


@router.get("/credentials/{cred_id}")
def get_credential(request: Request, cred_id: int):
    cred = emulator(request).store.get("credentials", cred_id)
    if cred is None:
        raise not_found("credential")
    return respond(request, _public(cred))


@router.post("/credentials")
@router.post("/credentials/")
def create_credential(request: Request, body: Any = Body(None)):
    body = parse_body(body, required_fields("post", "/credentials"))
    store = emulator(request).store
    now = now_iso()
    with store.lock:
        cred = {
            "id": store.next_id("credentials"), "name": body.get("name") or body["username"],
            "type": body["type"], "username": body["username"], "description": body.get("description"),
            "owner": USER["username"], "remoteHostId": body.get("remoteHostId"), "remoteHostName": None,
            "state": body.get("state"), "createdAt": now, "updatedAt": now,
            "default": bool(body.get("default", False)), "oauth": bool(body.get("oauth", False)),
            "provider": None, "providerMetadata": None, "password": body["password"],
        }
        if cred["default"]:
            for other in store.all("credentials"):
                if other.get("default"):
                    store.update("credentials", other["id"], lambda c: c.update(default=False))
        store.put("credentials", cred)
    return respond(request, _public(cred), status=201)
