"""``/credentials``: list, get, create, replace (``PUT``), temporary AWS keys, and ``authenticate``.

Passwords are stored (scripts get them as env vars), never returned. ``POST /credentials/authenticate``
contacts no remote host: the emulator cannot check a login against a real database or service, so it
accepts any non-empty username and password for the given URL and stores them as a new credential
(type ``Database``, ``remoteHostName`` the URL). ``POST /credentials/{id}/temporary`` answers random,
AWS-shaped keys that work nowhere, and only for ``Amazon Web Services S3`` credentials.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from fastapi import APIRouter, Body, Request

from ..common import USER, author, now_iso, paginate, parse_body, query_list, required_fields, respond
from ..errors import ApiError, bad_request, not_found
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
    if default:  # "a list with a single credential": the newest default (each type has its own)
        creds = sorted((c for c in creds if c.get("default")), key=lambda c: (c.get("updatedAt") or "", c["id"]),
                       reverse=True)[:1]
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
            _make_default(store, cred)
        store.put("credentials", cred)
    return respond(request, _public(cred), status=201)


def _make_default(store, cred: dict) -> None:
    """``cred`` becomes its type's default: one default per credential type, as on Civis."""
    for other in store.all("credentials"):
        if other.get("default") and other["id"] != cred["id"] and other.get("type") == cred["type"]:
            store.update("credentials", other["id"], lambda c: c.update(default=False))


@router.put("/credentials/{cred_id}")
def replace_credential(request: Request, cred_id: int, body: Any = Body(None)):
    body = parse_body(body, required_fields("put", "/credentials/{id}"))
    store = emulator(request).store
    with store.lock:
        cred = store.get("credentials", cred_id)
        if cred is None:
            raise not_found("credential")
        cred.update(
            name=body.get("name") or body["username"], type=body["type"], username=body["username"],
            password=body["password"], remoteHostId=body.get("remoteHostId"), state=body.get("state"),
            default=bool(body.get("default", False)), oauth=bool(body.get("oauth", False)),
            updatedAt=now_iso(),
        )
        if cred["default"]:
            _make_default(store, cred)
        store.put("credentials", cred)
    return respond(request, _public(cred))


@router.post("/credentials/authenticate")
def authenticate(request: Request, body: Any = Body(None)):
    """No remote host is contacted: a non-empty username and password are taken as valid."""
    body = parse_body(body, required_fields("post", "/credentials/authenticate"))
    store = emulator(request).store
    now = now_iso()
    with store.lock:
        cred = {
            "id": store.next_id("credentials"), "name": body["username"], "type": "Database",
            "username": body["username"], "owner": USER["username"], "remoteHostId": None,
            "remoteHostName": body["url"], "state": None, "createdAt": now, "updatedAt": now,
            "default": False, "oauth": False, "provider": None, "providerMetadata": None,
            "password": body["password"], "remoteHostType": body["remoteHostType"],
            "description": "Not verified: the Civis emulator contacts no remote host",
        }
        store.put("credentials", cred)
    return respond(request, _public(cred))


def _random(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


@router.post("/credentials/{cred_id}/temporary")
def temporary_credential(request: Request, cred_id: int, body: Any = Body(None)):
    body = parse_body(body)
    cred = emulator(request).store.get("credentials", cred_id)
    if cred is None:
        raise not_found("credential")
    if cred["type"] != "Amazon Web Services S3":
        raise ApiError(400, "bad_request", "Temporary credentials are only available for "
                       "Amazon Web Services S3 credentials.")
    duration = body.get("duration")
    if duration is not None and (not isinstance(duration, int) or duration <= 0):
        raise bad_request("duration must be a positive integer (seconds)")
    upper = string.ascii_uppercase + string.digits
    return respond(request, {
        "accessKey": "ASIA" + _random(upper, 16),
        "secretAccessKey": _random(string.ascii_letters + string.digits + "+/", 40),
        "sessionToken": secrets.token_urlsafe(96),
    })
