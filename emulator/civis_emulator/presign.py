"""Presigned URLs for the emulator's data plane (uploads, parts, downloads), like S3's.

The real API hands out S3 URLs that carry their own authorisation, and the official client sends
no API key to them. The emulator does the same: its data-plane routes live under
:data:`PRESIGNED_PREFIX` (the auth middleware lets them through) and check an HMAC of the path
and an expiry time, keyed by the emulator's API key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from .errors import ApiError

PRESIGNED_PREFIX = "/_emulator/presigned/"
DEFAULT_TTL = 3600 * 24


def _mac(api_key: str, message: str) -> str:
    return hmac.new(api_key.encode(), message.encode(), hashlib.sha256).hexdigest()[:40]


def signed_url(base_url: str, api_key: str, path: str, ttl: int = DEFAULT_TTL) -> str:
    """``{base_url}{path}?expires=...&signature=...`` valid for ``ttl`` seconds."""
    expires = int(time.time()) + ttl
    return f"{base_url.rstrip('/')}{path}?expires={expires}&signature={_mac(api_key, f'{path}|{expires}')}"


def check_url(api_key: str, path: str, expires: str | None, signature: str | None) -> None:
    if not expires or not signature or not expires.isdigit():
        raise ApiError(403, "forbidden", "This URL is not signed.")
    if int(expires) < time.time():
        raise ApiError(403, "forbidden", "This URL has expired.")
    if not hmac.compare_digest(signature, _mac(api_key, f"{path}|{expires}")):
        raise ApiError(403, "forbidden", "The URL's signature does not match.")


def upload_fields(api_key: str, file_id: int, name: str, ttl: int = DEFAULT_TTL) -> dict[str, str]:
    """S3-style POST form fields: ``key`` first, a base64 ``policy`` and its ``signature``."""
    policy = base64.b64encode(json.dumps({"fileId": file_id, "expires": int(time.time()) + ttl}).encode()).decode()
    return {"key": f"files/{file_id}/{name}", "policy": policy, "signature": _mac(api_key, policy)}


def check_policy(api_key: str, policy: str | None, signature: str | None) -> int:
    """The file id a signed upload policy allows; ApiError 403 otherwise."""
    if not policy or not signature or not hmac.compare_digest(signature, _mac(api_key, policy)):
        raise ApiError(403, "forbidden", "Invalid upload policy signature.")
    try:
        doc = json.loads(base64.b64decode(policy))
        file_id, expires = int(doc["fileId"]), int(doc["expires"])
    except (ValueError, KeyError, TypeError):
        raise ApiError(403, "forbidden", "Invalid upload policy.") from None
    if expires < time.time():
        raise ApiError(403, "forbidden", "The upload policy has expired.")
    return file_id
