"""CivisTableTrigger: wait in the triggerer until a table exists, has N rows, or was refreshed.

The condition itself is :func:`table_wait_reason`, shared with the sensor's worker-side poke so both
modes decide the same way.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_civis.exceptions import CivisAPIError, CivisError
from airflow_civis.hooks._retry import is_retryable


def parse_time(value: Any) -> dt.datetime:
    """An aware datetime from a datetime or an ISO-8601 string (``Z`` allowed; naive means UTC)."""
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def table_wait_reason(info: dict[str, Any] | None, min_rows: int | None, refreshed_after: str | None) -> str | None:
    """Why we still wait for the table (a sentence for the log), or None when every condition holds."""
    if info is None:
        return "it does not exist yet"
    rows = info.get("rowCount") or 0
    if min_rows is not None and rows < int(min_rows):
        return f"it has {rows} rows; waiting for {min_rows}"
    if refreshed_after:
        last = info.get("lastRefresh") or info.get("dataUpdatedAt")
        if last is None or parse_time(last) <= parse_time(refreshed_after):
            return f"it was last refreshed {last}; waiting for a refresh after {refreshed_after}"
    return None


def table_summary(info: dict[str, Any], schema: str, table: str) -> dict[str, Any]:
    return {
        "table_id": info.get("id"), "schema": schema.lower(), "table": table.lower(),
        "row_count": info.get("rowCount"), "last_refresh": info.get("lastRefresh") or info.get("dataUpdatedAt"),
    }


class CivisTableTrigger(BaseTrigger):
    """Fires ``{"status": "done", "table": {...}}``, ``timeout`` at ``deadline``, or ``error``."""

    def __init__(
        self,
        database_id: int,
        schema: str,
        table: str,
        min_rows: int | None = None,
        refreshed_after: str | None = None,
        civis_conn_id: str = "civis_default",
        poll_interval: float = 30.0,
        deadline: float | None = None,
    ) -> None:
        super().__init__()
        self.database_id = int(database_id)
        self.schema = schema
        self.table = table
        self.min_rows = None if min_rows is None else int(min_rows)
        self.refreshed_after = refreshed_after
        self.civis_conn_id = civis_conn_id
        self.poll_interval = float(poll_interval)
        self.deadline = None if deadline is None else float(deadline)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "database_id": self.database_id, "schema": self.schema, "table": self.table,
                "min_rows": self.min_rows, "refreshed_after": self.refreshed_after,
                "civis_conn_id": self.civis_conn_id, "poll_interval": self.poll_interval,
                "deadline": self.deadline,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_civis.hooks.civis_async import CivisAsyncHook

        path = f"/databases/{self.database_id}/schemas/{self.schema}/tables/{self.table}"
        async with CivisAsyncHook(self.civis_conn_id) as hook:
            while True:
                try:
                    info = await hook.call("GET", path)
                except CivisAPIError as err:
                    if err.status == 404:
                        info = None
                    elif is_retryable(err):
                        self.log.warning("Civis API unavailable while watching %s.%s: %s", self.schema, self.table, err)
                        info = None
                    else:
                        yield TriggerEvent({"status": "error", "message": str(err)})
                        return
                except CivisError as err:
                    yield TriggerEvent({"status": "error", "message": str(err)})
                    return
                reason = table_wait_reason(info, self.min_rows, self.refreshed_after)
                if reason is None and info is not None:
                    yield TriggerEvent({"status": "done", "table": table_summary(info, self.schema, self.table)})
                    return
                now = time.time()
                if self.deadline is not None and now >= self.deadline:
                    yield TriggerEvent({"status": "timeout", "message": f"{self.schema}.{self.table}: {reason}"})
                    return
                wait = self.poll_interval if self.deadline is None else min(self.poll_interval, self.deadline - now)
                await asyncio.sleep(max(0.0, wait))
