"""What moved between Airflow 3.0 and 3.3, imported from wherever this Airflow keeps it."""

from __future__ import annotations

import importlib.util
from typing import Any

try:  # Airflow 3.1+
    from airflow.sdk import BaseHook
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef,attr-defined]

try:  # Airflow 3.2+
    from airflow.sdk import conf
except ImportError:  # pragma: no cover - Airflow 3.0/3.1
    from airflow.configuration import conf  # type: ignore[assignment]

#: Airflow 3.3+ lets sibling event triggers share one poll loop (``BaseEventTrigger.shared_stream_key``);
#: on 3.0-3.2 every event trigger polls on its own. Found without importing it (DAG files never pay for it).
SHARED_STREAMS = importlib.util.find_spec("airflow.triggers.shared_stream") is not None


async def aget_connection(conn_id: str) -> Any:
    """Read a connection without blocking the event loop (``aget_connection`` exists from Airflow 3.1)."""
    if hasattr(BaseHook, "aget_connection"):
        return await BaseHook.aget_connection(conn_id)
    import asyncio  # pragma: no cover - Airflow 3.0

    return await asyncio.to_thread(BaseHook.get_connection, conn_id)  # pragma: no cover


def mask_secret(secret: Any) -> None:
    """Register a secret with the masker of the task process (and its supervisor, where supported)."""
    try:
        from airflow.sdk.log import mask_secret as _mask
    except ImportError:  # pragma: no cover - Airflow 3.0
        from airflow.sdk.execution_time.secrets_masker import mask_secret as _mask  # type: ignore
    _mask(secret)


async def amask_secret(secret: Any) -> None:
    """The async form (Airflow 3.3+) avoids a deadlock in the triggerer; older versions use the sync one."""
    try:
        from airflow.sdk.log import amask_secret as _amask
    except ImportError:  # pragma: no cover - before Airflow 3.3
        mask_secret(secret)
    else:
        await _amask(secret)


__all__ = ["SHARED_STREAMS", "BaseHook", "aget_connection", "amask_secret", "conf", "mask_secret"]
