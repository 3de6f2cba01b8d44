"""``/_emulator/*``: request statistics for benchmarks and the request log for differential tests
(not part of the Civis API)."""

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


@router.get("/requests")
def get_requests(request: Request, since: int = 0) -> dict:
    """``{"requests": [{"seq", "method", "path", "template", "query", "bodyKeys", "status", "userAgent"}],
    "next"}``: every API and presigned request with ``seq >= since``, in arrival order (``request_log.py``)."""
    return request.app.state.request_log.since(since)


@router.delete("/requests")
def clear_requests(request: Request) -> dict:
    """Forget the logged requests; sequence numbers keep counting (a saved ``since`` stays valid)."""
    return request.app.state.request_log.clear()
