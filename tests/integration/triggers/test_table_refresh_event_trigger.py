"""CivisTableRefreshEventTrigger iterated under asyncio against a real emulator (its DuckDB warehouse)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from airflow_civis.hooks.civis import CivisHook
from airflow_civis.operators import CivisImportCsvOperator
from airflow_civis.triggers.table_events import CivisTableRefreshEventTrigger
from tests.helpers import make_context
from tests.integration.triggers.test_job_event_trigger import AsyncDictStore, Watching, in_thread

DB_ID = 1  # the emulator's warehouse
FAST = 0.2


def load(tmp_path, schema_table: str) -> None:
    src = tmp_path / f"{uuid.uuid4().hex[:6]}.csv"
    src.write_text("id\n1\n2\n")
    CivisImportCsvOperator(task_id="imp", table=schema_table, database=DB_ID, source_path=str(src),
                           deferrable=False, poll_interval=0.05).execute(make_context())


def refresh(schema: str, table: str) -> str:
    hook = CivisHook()
    info = hook.call("GET", f"/databases/{DB_ID}/schemas/{schema}/tables/{table}")
    hook.call("POST", f"/tables/{info['id']}/refresh")
    return hook.call("GET", f"/tables/{info['id']}")["lastRefresh"]


async def baseline_taken(trigger: CivisTableRefreshEventTrigger) -> None:
    import time

    deadline = time.monotonic() + 10
    while trigger.mark.value is None:
        assert time.monotonic() < deadline, "the trigger never read its table"
        await asyncio.sleep(0.02)


def new_table(tmp_path) -> tuple[str, str]:
    name = f"r_{uuid.uuid4().hex[:10]}"
    load(tmp_path, f"scratch.{name}")
    return "scratch", name


def test_fires_once_per_refresh_never_for_the_refresh_before(civis_conn, tmp_path):
    schema, table = new_table(tmp_path)

    async def scenario() -> list[str]:
        trigger = CivisTableRefreshEventTrigger(DB_ID, schema, table, poll_interval=FAST)
        async with Watching(trigger.run()) as watch:
            await baseline_taken(trigger)
            first = await in_thread(refresh, schema, table)
            await watch.until(1)
            second = await in_thread(refresh, schema, table)  # many polls saw the first one in between
            events = await watch.until(2)
        assert [e["last_refresh"] for e in events] == [first, second]
        assert events[0]["table"] == table and events[0]["row_count"] == 2 and events[0]["table_id"]
        return events

    asyncio.run(scenario())


def test_a_table_created_after_the_watcher_started_fires_on_its_first_load(civis_conn, tmp_path):
    name = f"r_{uuid.uuid4().hex[:10]}"

    async def scenario() -> None:
        trigger = CivisTableRefreshEventTrigger(DB_ID, "scratch", name, poll_interval=FAST)
        async with Watching(trigger.run()) as watch:
            await baseline_taken(trigger)
            assert trigger.mark.value == ""
            await in_thread(load, tmp_path, f"scratch.{name}")
            events = await watch.until(1)
        assert events[0]["table"] == name and events[0]["last_refresh"]

    asyncio.run(scenario())


def test_restart_with_the_store_fires_a_refresh_made_while_down_once(civis_conn, tmp_path):
    schema, table = new_table(tmp_path)
    store = AsyncDictStore()

    def watcher() -> CivisTableRefreshEventTrigger:
        trigger = CivisTableRefreshEventTrigger(DB_ID, schema, table, poll_interval=FAST)
        trigger.asset_state_store = store
        return trigger

    async def scenario() -> None:
        trigger = watcher()
        async with Watching(trigger.run()) as watch:
            await baseline_taken(trigger)
            fired = await in_thread(refresh, schema, table)
            assert [e["last_refresh"] for e in await watch.until(1)] == [fired]
        while_down = await in_thread(refresh, schema, table)
        trigger = watcher()
        async with Watching(trigger.run()) as watch:
            assert [e["last_refresh"] for e in await watch.until(1)] == [while_down]
            after = await in_thread(refresh, schema, table)
            assert [e["last_refresh"] for e in await watch.until(2)] == [while_down, after]

    asyncio.run(scenario())


@pytest.mark.parametrize("kwargs, field", [
    ({"database_id": 0, "schema": "s", "table": "t"}, "database_id"),
    ({"database_id": 1, "schema": "", "table": "t"}, "schema"),
    ({"database_id": 1, "schema": "s", "table": "{{ ds }}"}, "table"),
    ({"database_id": 1, "schema": "s", "table": "t", "poll_interval": -1}, "poll_interval"),
])
def test_bad_arguments_fail_at_parse_time_naming_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        CivisTableRefreshEventTrigger(**kwargs)


def test_serializes_to_plain_data():
    trigger = CivisTableRefreshEventTrigger(3, "Sales", "Orders", poll_interval=5)
    path, kwargs = trigger.serialize()
    assert path == "airflow_civis.triggers.table_events.CivisTableRefreshEventTrigger"
    assert CivisTableRefreshEventTrigger(**kwargs).serialize() == (path, kwargs)
