"""One router per Civis API resource (``mounted.ALL_ROUTERS`` lists them); here, what they all share."""

from __future__ import annotations

from fastapi import Request

from ..state import EmulatorState


def emulator(request: Request) -> EmulatorState:
    return request.app.state.emulator
