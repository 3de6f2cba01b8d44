"""``/_emulator/*``: request statistics for benchmarks (not part of the Civis API)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from . import emulator

router = APIRouter(prefix="/_emulator")


@router.get("/stats")
def get_stats(request: Request) -> dict:
    """``{"requests": [{"method", "route", "status", "count"}], "total_requests", "runs_started"}``."""
    return emulator(request).stats.snapshot()


@router.post("/reset-stats")
def reset_stats(request: Request) -> dict:
    emulator(request).stats.reset()
    return emulator(request).stats.snapshot()
