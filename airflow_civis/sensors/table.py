"""Wait for a warehouse table: to exist, to hold at least N rows, or to be refreshed after a time."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_civis.deferral import resolve_deferrable
from airflow_civis.exceptions import CivisError, CivisRunTimeoutError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.resolve import get_table, resolve_database, split_table
from airflow_civis.triggers.table import CivisTableTrigger, parse_time, table_summary, table_wait_reason
from airflow_civis.validation import check_non_negative_int, check_positive_number, check_table_name


def _parse_time(value: Any, field: str, task_id: str) -> dt.datetime:
    try:
        return parse_time(value)
    except ValueError:
        raise ValueError(f"Task {task_id!r}: {field} must be an ISO-8601 date-time, got {value!r}") from None


class CivisTableSensor(BaseSensorOperator):
    """
    Succeed once ``table`` exists and meets every condition given; returns the table's summary
    ``{"table_id", "schema", "table", "row_count", "last_refresh"}``.

    :param table: ``schema.table`` (templated).
    :param database: the database's name or id (templated).
    :param min_rows: wait until the table has at least this many rows.
    :param refreshed_after: ISO-8601 time (templated, e.g. ``{{ data_interval_end }}``): wait until the
        table's last refresh (or data update) is later.
    :param deferrable: wait in the triggerer (default True; ``[civis] default_deferrable`` changes it).
    """

    template_fields: Sequence[str] = ("civis_conn_id", "table", "database", "refreshed_after")
    ui_color = "#c8e6f5"

    def __init__(self, *, table: str, database: int | str, min_rows: int | None = None,
                 refreshed_after: str | dt.datetime | None = None,
                 civis_conn_id: str = CivisHook.default_conn_name, poke_interval: float = 30.0,
                 deferrable: bool | None = None, **kwargs: Any) -> None:
        super().__init__(poke_interval=check_positive_number("poke_interval", poke_interval, kwargs.get("task_id")),
                         **kwargs)
        self.deferrable = resolve_deferrable(deferrable, self.task_id)
        self.table = check_table_name("table", table, self.task_id)
        if database in (None, ""):
            raise ValueError(f"Task {self.task_id!r}: database is required (a name or an id)")
        self.database = database
        self.min_rows = check_non_negative_int("min_rows", min_rows, self.task_id)
        if refreshed_after is not None and not (isinstance(refreshed_after, str) and "{{" in refreshed_after):
            _parse_time(refreshed_after, "refreshed_after", self.task_id)
        self.refreshed_after = refreshed_after
        self.civis_conn_id = civis_conn_id

    @cached_property
    def hook(self) -> CivisHook:
        return CivisHook(self.civis_conn_id)

    def _target(self) -> tuple[int, str, str]:
        schema, table = split_table(self.table, "table", self.task_id)
        return resolve_database(self.hook, self.database), schema, table

    def _refreshed_after(self) -> str | None:
        if self.refreshed_after in (None, ""):
            return None
        return _parse_time(self.refreshed_after, "refreshed_after", self.task_id).isoformat()

    def poke(self, context: Any) -> bool | Any:
        database_id, schema, table = self._target()
        info = get_table(self.hook, database_id, schema, table)
        reason = table_wait_reason(info, self.min_rows, self._refreshed_after())
        if reason is not None or info is None:
            self.log.info("Waiting for table %s.%s: %s", schema, table, reason)
            return False
        return PokeReturnValue(is_done=True, xcom_value=table_summary(info, schema, table))

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        database_id, schema, table = self._target()
        info = get_table(self.hook, database_id, schema, table)
        if info is not None and table_wait_reason(info, self.min_rows, self._refreshed_after()) is None:
            return table_summary(info, schema, table)
        deadline = None if not self.timeout else time.time() + float(self.timeout)
        self.defer(
            trigger=CivisTableTrigger(
                database_id=database_id, schema=schema, table=table, min_rows=self.min_rows,
                refreshed_after=self._refreshed_after(), civis_conn_id=self.civis_conn_id,
                poll_interval=self.poke_interval, deadline=deadline,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> Any:
        event = event or {}
        status = event.get("status")
        if status == "done":
            return event["table"]
        if status == "timeout":
            raise CivisRunTimeoutError(f"Task {self.task_id!r}: sensor timed out: {event.get('message')}")
        raise CivisError(f"Task {self.task_id!r}: waiting for table {self.table} failed: {event!r}")
