"""Read the API's error body once, for both clients: ``{"error", "errorDescription", "code"}``."""

from __future__ import annotations

import json

_MAX_BODY = 500


def api_error_message(body: bytes | str, fallback: str) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        described = data.get("errorDescription") or data.get("error") or data.get("message")
        if described:
            return str(described)
    text = text.strip()
    return text[:_MAX_BODY] if text else fallback
