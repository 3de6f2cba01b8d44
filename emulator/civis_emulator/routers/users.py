"""``/users``: the emulated user (``GET/PATCH /users/me``, ``GET /users``, ``GET /users/{id}``) and its
API keys (``/users/{id}/api_keys``).

The emulator has one user (``common.USER``); other ids answer 404. ``PATCH /users/me`` keeps
``preferences`` and ``lastCheckedAnnouncements`` in the store (kind ``user_me``). API keys live in
store kind ``api_keys``: a new key's token is answered once, by the POST; only its SHA-256 is stored,
and no response shows it again. Keys made this way do not authenticate against the emulator (only the
key it was started with does); ``DELETE`` revokes a key (``revokedAt`` set, ``active`` false).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter, Body, Request

from ..common import ORGANIZATION, USER, camelize, now_iso, paginate, parse_body, required_fields, respond
from ..errors import bad_request, not_found
from . import emulator, found

router = APIRouter()
_CREATED_AT = "2024-01-01T00:00:00.000Z"
_GROUPS = [{"id": 1, "name": "Emulator Group", "slug": "emulator-group",
            "organizationId": ORGANIZATION["id"], "organizationName": ORGANIZATION["name"]}]
_CONSTRAINT_FLAGS = ("getAllowed", "headAllowed", "postAllowed", "putAllowed", "patchAllowed", "deleteAllowed")


def _me_state(request: Request) -> dict:
    return emulator(request).store.get("user_me", USER["id"]) or {}


def _me(request: Request) -> dict:
    saved = _me_state(request)
    return {
        **USER,
        "lastCheckedAnnouncements": saved.get("lastCheckedAnnouncements"), "featureFlags": {},
        "roles": ["sdm"], "preferences": saved.get("preferences") or {},
        "customBranding": None, "primaryGroupId": 1, "groups": _GROUPS,
        "organizationName": ORGANIZATION["name"], "organizationSlug": ORGANIZATION["slug"],
        "organizationDefaultThemeId": None, "createdAt": _CREATED_AT, "signInCount": 1,
        "assumingRole": False, "roleAssumer": None, "assumingAdmin": False,
        "assumingAdminExpiration": None, "superadminModeExpiration": None,
        "disableNonCompliantFedrampFeatures": False, "personaRole": None, "createdById": None,
        "lastUpdatedById": None,
    }


def _user_doc(request: Request) -> dict:
    """The emulated user as ``UserSummary`` / ``UserDetail``."""
    saved = _me_state(request)
    return {
        "id": USER["id"], "user": USER["username"], "name": USER["name"], "email": USER["email"],
        "active": True, "primaryGroupId": 1, "groups": _GROUPS, "city": None, "state": None,
        "timeZone": "America/Chicago", "initials": USER["initials"], "department": None, "title": None,
        "githubUsername": None, "prefersSmsOtp": False, "vpnEnabled": False, "ssoDisabled": False,
        "otpRequiredForLogin": False, "exemptFromOrgSmsOtpDisabled": False, "smsOtpAllowed": False,
        "robot": False, "phone": None, "organizationSlug": ORGANIZATION["slug"],
        "organizationSSODisableCapable": False, "organizationLoginType": "password",
        "organizationSmsOtpDisabled": False, "myPermissionLevel": "manage", "createdAt": _CREATED_AT,
        "updatedAt": saved.get("updatedAt") or _CREATED_AT, "currentSignInAt": _CREATED_AT,
        "lastSeenAt": now_iso(), "suspended": False, "createdById": None, "lastUpdatedById": None,
        "unconfirmedEmail": None, "accountStatus": "active",
    }


@router.get("/users/me")
def users_me(request: Request):
    return respond(request, _me(request))


@router.patch("/users/me")
def patch_me(request: Request, body: Any = Body(None)):
    body = parse_body(body)
    prefs = body.get("preferences")
    if prefs is not None and not isinstance(prefs, dict):
        raise bad_request("preferences must be an object")
    prefs = camelize(prefs)  # the spec's preference names are camelCase
    store = emulator(request).store
    with store.lock:
        saved = store.get("user_me", USER["id"]) or {"id": USER["id"], "preferences": {}}
        if prefs:
            saved["preferences"] = {**saved.get("preferences", {}), **prefs}
        if "lastCheckedAnnouncements" in body:
            saved["lastCheckedAnnouncements"] = body["lastCheckedAnnouncements"]
        saved["updatedAt"] = now_iso()
        store.put("user_me", saved)
    return respond(request, _me(request))


@router.get("/users")
@router.get("/users/")
def list_users(request: Request, query: str | None = None, account_status: str | None = None,
               group_id: int | None = None, organization_id: int | None = None):
    user = _user_doc(request)
    keep = (not query or query.lower() in f"{user['name']} {user['user']} {user['email']}".lower()) \
        and account_status in (None, "", "all", "active") \
        and group_id in (None, 1) and organization_id in (None, ORGANIZATION["id"])
    return paginate(request, [user] if keep else [])


def _user_id(user_id: str) -> int:
    """``me`` or the emulated user's id; anything else is an unknown user."""
    if user_id == "me" or user_id == str(USER["id"]):
        return USER["id"]
    raise not_found("user")


@router.get("/users/{user_id}")
def get_user(request: Request, user_id: str):
    _user_id(user_id)
    return respond(request, _user_doc(request))


# -- API keys --------------------------------------------------------------------------------------
def _parse_iso(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def _render_key(doc: dict) -> dict:
    expired = _parse_iso(doc["expiresAt"]) <= datetime.now(timezone.utc)
    out = {k: v for k, v in doc.items() if k != "tokenSha256"}
    out.update(expired=expired, active=not expired and doc.get("revokedAt") is None,
               constraintCount=len(doc.get("constraints", [])))
    return out


def _key_or_404(request: Request, user_id: str, key_id: int) -> dict:
    uid = _user_id(user_id)
    doc = emulator(request).store.get("api_keys", key_id)
    if doc is None or doc.get("userId") != uid:
        raise not_found("API key")
    return doc


def _constraints(raw: Any) -> list[dict]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        raise bad_request("constraints must be a list of objects")
    out = []
    for c in raw:
        if not c.get("constraintType"):
            raise bad_request("constraints: constraintType is required")
        out.append({"constraint": c.get("constraint"), "constraintType": c["constraintType"],
                    **{f: bool(c.get(f, False)) for f in _CONSTRAINT_FLAGS}})
    return out


@router.get("/users/{user_id}/api_keys")
def list_api_keys(request: Request, user_id: str):
    uid = _user_id(user_id)
    return paginate(request, [_render_key(k) for k in emulator(request).store.all("api_keys", parent=uid)])


@router.post("/users/{user_id}/api_keys")
def create_api_key(request: Request, user_id: str, body: Any = Body(None)):
    uid = _user_id(user_id)
    body = parse_body(body, required_fields("post", "/users/{id}/api_keys"))
    try:
        expires_in = int(body["expiresIn"])
    except (TypeError, ValueError):
        raise bad_request("expiresIn must be an integer (seconds)") from None
    if expires_in <= 0:
        raise bad_request("expiresIn must be positive")
    constraints = _constraints(body.get("constraints"))
    token = secrets.token_urlsafe(32)
    expires = datetime.now(timezone.utc) + timedelta(seconds=expires_in)
    store = emulator(request).store
    doc = {
        "id": store.next_id("api_keys"), "userId": uid, "name": str(body["name"]),
        "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%S.") + f"{expires.microsecond // 1000:03d}Z",
        "createdAt": now_iso(), "revokedAt": None, "lastUsedAt": None, "scopes": [], "useCount": 0,
        "constraints": constraints, "tokenSha256": hashlib.sha256(token.encode()).hexdigest(),
    }
    store.put("api_keys", doc, parent=uid)
    return respond(request, dict(_render_key(doc), token=token))  # the only time the token is shown


@router.get("/users/{user_id}/api_keys/{key_id}")
def get_api_key(request: Request, user_id: str, key_id: int):
    return respond(request, _render_key(_key_or_404(request, user_id, key_id)))


@router.delete("/users/{user_id}/api_keys/{key_id}")
def revoke_api_key(request: Request, user_id: str, key_id: int):
    doc = _key_or_404(request, user_id, key_id)
    if doc.get("revokedAt") is None:
        doc = found(emulator(request).store.update("api_keys", key_id, lambda d: d.update(revokedAt=now_iso())),
                    "API key")
    return respond(request, _render_key(doc))
