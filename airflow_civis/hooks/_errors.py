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


def status_error(method: str, path: str, status: int, body: bytes, reason: str | None, retry_after: str | None):
    """The ``CivisAPIError`` for an HTTP error answer, the same from requests and from httpx."""
    from airflow_civis.exceptions import CivisAPIError
    from airflow_civis.hooks._retry import parse_retry_after

    return CivisAPIError(
        method, path, status, api_error_message(body, reason or "error"), retry_after=parse_retry_after(retry_after)
    )
