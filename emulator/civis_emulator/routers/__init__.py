"""One router per Civis API resource (``mounted.ALL_ROUTERS`` lists them); here, what they all share."""

from __future__ import annotations

from fastapi import Request

from ..errors import not_found
from ..state import EmulatorState


def emulator(request: Request) -> EmulatorState:
    return request.app.state.emulator


def found(doc: dict | None, what: str) -> dict:
    """``doc``, or the API's 404 for ``what`` when it is gone (deleted between the check and the write)."""
    if doc is None:
        raise not_found(what)
    return doc

