"""CivisTableRefreshEventTrigger: an asset event each time a Civis table is refreshed.

The sibling of :class:`~airflow_civis.triggers.events.CivisJobEventTrigger` for tables loaded outside
Airflow: ``GET /databases/{id}/schemas/{schema}/tables/{table}`` every ``poll_interval``, and one event
whenever the table's ``lastRefresh`` (the time of its last import or ``POST /tables/{id}/refresh``)
moves past the *mark*: the newest refresh already fired, or the one there when the watcher first read
the table. The mark is kept as :class:`~._asset_mark.AssetMark` keeps it (the asset state store on
Airflow 3.3+), so a refresh fires once, also across a triggerer restart, and one made while no triggerer
ran fires when one starts. Limits: two refreshes within one interval make one event; a table
written by SQL (``CREATE TABLE AS``) has no ``lastRefresh`` and never fires. One request per watcher per
interval (there is no list of tables ordered by refresh time to share).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from airflow_civis.exceptions import CivisAPIError, CivisError
from airflow_civis.hooks._retry import is_retryable
from airflow_civis.triggers._asset_mark import AssetMark
from airflow_civis.triggers.table import parse_time


def _name(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or "{{" in value:
        raise ValueError(f"CivisTableRefreshEventTrigger: {field} must be a non-empty, non-templated name, "
                         f"got {value!r}")
    return value.strip()


class CivisTableRefreshEventTrigger(BaseEventTrigger):
    """
    Fire once for each refresh of a Civis table.

    :param database_id: the database's id (``GET /databases`` lists them).
    :param schema: the table's schema.
    :param table: the table's name.
    :param civis_conn_id: the Airflow connection.
    :param poll_interval: seconds between reads of the table.
    """

    def __init__(self, database_id: int, schema: str, table: str, civis_conn_id: str = "civis_default",
                 poll_interval: float = 60.0) -> None:
        super().__init__()
        if isinstance(database_id, bool) or not isinstance(database_id, int) or database_id <= 0:
            raise ValueError(f"CivisTableRefreshEventTrigger: database_id must be a positive integer, "
                             f"got {database_id!r}")
        if isinstance(poll_interval, bool) or not isinstance(poll_interval, (int, float)) or poll_interval <= 0:
            raise ValueError(f"CivisTableRefreshEventTrigger: poll_interval must be a positive number of "
                             f"seconds, got {poll_interval!r}")
        self.database_id = database_id
        self.schema = _name(schema, "schema")
        self.table = _name(table, "table")
        self.civis_conn_id = str(civis_conn_id)
        self.poll_interval = float(poll_interval)
        self.mark = AssetMark(self, f"civis_table_refresh.{self.civis_conn_id}.{self.database_id}."
                                    f"{self.schema.lower()}.{self.table.lower()}.mark")

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"database_id": self.database_id, "schema": self.schema, "table": self.table,
             "civis_conn_id": self.civis_conn_id, "poll_interval": self.poll_interval},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_civis.hooks.civis_async import CivisAsyncHook

        path = f"/databases/{self.database_id}/schemas/{self.schema}/tables/{self.table}"
        first = await self.mark.load() is None
        async with CivisAsyncHook(self.civis_conn_id) as hook:
            while True:
                info = await self._read(hook, path)
                if info is not None:
                    refreshed = info.get("lastRefresh")
                    if first:  # the baseline: a refresh from before the watcher never fires
                        await self.mark.save(refreshed or "")
                        first = False
                    elif refreshed and (not self.mark.value or parse_time(refreshed) > parse_time(self.mark.value)):
                        await self.mark.save(refreshed)  # before the event leaves: never twice
                        yield TriggerEvent({
                            "database_id": self.database_id, "schema": self.schema, "table": self.table,
                            "table_id": info.get("id"), "last_refresh": refreshed, "row_count": info.get("rowCount"),
                            "civis_conn_id": self.civis_conn_id})
                await asyncio.sleep(self.poll_interval)

    async def _read(self, hook: Any, path: str) -> dict[str, Any] | None:
        """The table; ``{}`` while it does not exist (its first load will fire), None after a transient
        error; a lasting refusal raises."""
        try:
            return await hook.call("GET", path) or {}
        except CivisAPIError as err:
            if err.status == 404:
                return {}
            if is_retryable(err):
                self.log.warning("Civis API unavailable while watching %s.%s: %s", self.schema, self.table, err)
                return None
            raise CivisError(f"CivisTableRefreshEventTrigger: {self.schema}.{self.table} in database "
                             f"{self.database_id} could not be read ({err})") from err
