"""The process-wide registry: one :class:`~airflow_civis.triggers.poller.RunPoller` per (connection, loop)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from airflow_civis.triggers._poller_budget import NO_RETRY

if TYPE_CHECKING:
    from airflow_civis.runs import RunRef
    from airflow_civis.triggers.poller import RunPoller, Watch

_POLLERS: dict[tuple[str, asyncio.AbstractEventLoop], RunPoller] = {}


def shared_poller(conn_id: str) -> RunPoller:
    """The poller of ``conn_id`` on the running event loop (created on first use)."""
    key = (conn_id, asyncio.get_running_loop())
    poller = _POLLERS.get(key)
    if poller is None or poller.closed:
        from airflow_civis.hooks.civis_async import CivisAsyncHook
        from airflow_civis.triggers.poller import RunPoller

        def drop(closed: RunPoller) -> None:
            if _POLLERS.get(key) is closed:
                del _POLLERS[key]

        poller = _POLLERS[key] = RunPoller(CivisAsyncHook(conn_id, retry=NO_RETRY), on_close=drop)
    return poller


@contextlib.asynccontextmanager
async def watching(conn_id: str, ref: RunRef, poll_interval: float) -> AsyncIterator[Watch]:
    """Register with the shared poller for the duration of the block (cancellation included)."""
    poller = shared_poller(conn_id)
    watch = poller.register(ref, poll_interval)
    try:
        yield watch
    finally:
        poller.unregister(watch)
