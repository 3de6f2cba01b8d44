"""The emulator's API key and the ``Authorization`` header, as the real API accepts it."""

from __future__ import annotations

import base64
import hmac
from typing import Any


def _api_key_of(app: Any) -> str | None:
    """The emulator's API key, wherever the app keeps it (app.state.api_key by convention)."""
    state = getattr(app, "state", None)
    if state is None:
        return None
    for attr in ("contract_api_key", "api_key"):
        key = getattr(state, attr, None)
        if isinstance(key, str) and key:
            return key
    for attr in ("settings", "config", "emulator", "store", "state"):
        holder = getattr(state, attr, None)
        key = getattr(holder, "api_key", None) if holder is not None else None
        if isinstance(key, str) and key:
            return key
    return None


def api_key_from_authorization(authorization: str) -> str | None:
    """The API key an ``Authorization`` header carries, as the real API accepts it.

    ``Bearer <key>`` (the documented form) or HTTP Basic with the key as user name and an empty
    password: the official client sends the latter (``civis.base.open_session`` sets
    ``session.auth = (api_key, "")``).
    """
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if not token:
        return None
    scheme = scheme.lower()
    if scheme == "bearer":
        return token
    if scheme == "basic":
        try:
            user, _, _password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user or None
    return None


def credentials_ok(expected: str | None, authorization: str) -> bool:
    """True when the header carries ``expected`` (compared in constant time)."""
    given = api_key_from_authorization(authorization)
    if given is None:
        return False
    return expected is None or hmac.compare_digest(given.encode(), expected.encode())


def bearer_ok(app: Any, authorization: str) -> bool:
    """True when the header carries the emulator's key (or the app has no key to compare)."""
    expected = _api_key_of(app)
    if expected is None:
        return True
    return credentials_ok(expected, authorization)
