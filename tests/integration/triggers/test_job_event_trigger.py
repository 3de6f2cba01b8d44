"""CivisJobEventTrigger iterated under asyncio against a real emulator: once per run, only new runs, the
chosen states, a restart with and without the asset state store, the pessimistic stamp, a shared poll."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from airflow_civis.hooks.civis import CivisHook
from airflow_civis.triggers.events import CivisJobEventTrigger

CONTAINER = {"dockerImageName": "x", "requiredResources": {"cpu": 100, "memory": 100, "diskSpace": 1}}
FAST = 0.2


class AsyncDictStore:
    """Airflow 3.3's asset state store as the triggerer injects it (``aget``/``aset``), kept in a dict."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    async def aget(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    async def aset(self, key: str, value: Any) -> None:
        self.data[key] = value


def make_job(command: str = "civis-emulator:sleep 0.1") -> int:
    return CivisHook().call("POST", "/scripts/containers", json={
        "name": "event-trigger-test", "dockerCommand": command, **CONTAINER})["id"]


def set_command(job_id: int, command: str) -> None:
    CivisHook().call("PATCH", f"/scripts/containers/{job_id}", json={"dockerCommand": command})


def run_to_end(job_id: int, timeout: float = 20) -> dict[str, Any]:
    """Start a run through the API and wait (polling, with a deadline) until it ends."""
    hook = CivisHook()
    run = hook.call("POST", f"/jobs/{job_id}/runs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = hook.call("GET", f"/jobs/{job_id}/runs/{run['id']}")
        if run["state"] in ("succeeded", "failed", "cancelled"):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run['id']} of job {job_id} did not end")


class Watching:
    """A trigger's ``run()`` (or a filter over a stream) consumed in a task; events collected as they come."""

    def __init__(self, events_source) -> None:
        self.events: list[dict[str, Any]] = []
        self._source = events_source
        self.task: asyncio.Task | None = None

    async def __aenter__(self) -> Watching:
        async def consume() -> None:
            async for event in self._source:
                self.events.append(event.payload)

        self.task = asyncio.create_task(consume())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass

    async def until(self, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.events) < count:
            assert self.task is not None
            if self.task.done():
                self.task.result()  # raises what ended it
                raise AssertionError(f"the trigger ended after {self.events}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} events expected, got {self.events}")
            await asyncio.sleep(0.02)
        return self.events


async def started(trigger: CivisJobEventTrigger, timeout: float = 10) -> None:
    """The trigger has its mark (its baseline read is done): runs from now on are new."""
    deadline = time.monotonic() + timeout
    while trigger.mark.value is None:
        assert time.monotonic() < deadline, "the trigger never read its job"
        await asyncio.sleep(0.02)


async def in_thread(fn, *args):
    return await asyncio.to_thread(fn, *args)


def _once_per_new_run() -> None:
    job = make_job()
    before = run_to_end(job)  # existed before the watcher: never fires

    async def scenario() -> list[dict[str, Any]]:
        trigger = CivisJobEventTrigger(job_id=job, poll_interval=FAST)
        async with Watching(trigger.run()) as watch:
            await started(trigger)
            second = await in_thread(run_to_end, job)
            await watch.until(1)
            third = await in_thread(run_to_end, job)  # many polls saw the second run in between
            events = await watch.until(2)
            assert [e["run_id"] for e in events] == [second["id"], third["id"]]
            return events

    events = asyncio.run(scenario())
    assert before["id"] not in [e["run_id"] for e in events]
    assert events[0] == {"job_id": job, "run_id": events[0]["run_id"], "state": "succeeded",
                         "finished_at": events[0]["finished_at"], "civis_conn_id": "civis_default"}
    assert events[0]["finished_at"]


def test_fires_once_per_new_run_never_for_earlier_runs(civis_conn):
    _once_per_new_run()


@pytest.mark.pessimistic
def test_sees_runs_end_when_last_run_updated_at_moves_only_at_creation(civis_conn):
    assert civis_conn.pessimistic
    _once_per_new_run()
    job, noise = make_job("civis-emulator:sleep 3"), make_job("civis-emulator:sleep 0")
    hook = CivisHook()

    def long_run_among_newer_runs() -> dict[str, Any]:
        """While the watched run goes on, other jobs' runs start: its (creation) stamp falls far behind
        the newest, so only re-reading the jobs last seen active can show it end."""
        run = hook.call("POST", f"/jobs/{job}/runs")
        deadline = time.monotonic() + 30
        while hook.call("GET", f"/jobs/{job}/runs/{run['id']}")["state"] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline
            run_to_end(noise)
        return hook.call("GET", f"/jobs/{job}/runs/{run['id']}")

    async def scenario() -> None:
        trigger = CivisJobEventTrigger(job_id=job, poll_interval=FAST)
        async with Watching(trigger.run()) as watch:
            await started(trigger)
            run = await in_thread(long_run_among_newer_runs)
            assert [e["run_id"] for e in await watch.until(1)] == [run["id"]]

    asyncio.run(scenario())


def test_a_job_run_twice_between_two_polls_fires_for_each_run(civis_conn):
    job = make_job("civis-emulator:sleep 0")

    async def scenario() -> None:
        trigger = CivisJobEventTrigger(job_id=job, poll_interval=3)  # both runs end within one interval
        async with Watching(trigger.run()) as watch:
            await started(trigger)
            first = await in_thread(run_to_end, job)
            second = await in_thread(run_to_end, job)
            assert [e["run_id"] for e in await watch.until(2)] == [first["id"], second["id"]]

    asyncio.run(scenario())


def test_only_the_chosen_states_fire(civis_conn):
    job = make_job("civis-emulator:sleep 0.1")

    async def scenario() -> list[dict[str, Any]]:
        trigger = CivisJobEventTrigger(job_id=job, states=["failed"], poll_interval=FAST)
        async with Watching(trigger.run()) as watch:
            await started(trigger)
            ok = await in_thread(run_to_end, job)
            await in_thread(set_command, job, "civis-emulator:fail 0.1")
            failed = await in_thread(run_to_end, job)
            events = await watch.until(1)
            await in_thread(set_command, job, "civis-emulator:sleep 0.1")
            await in_thread(run_to_end, job)
            await in_thread(set_command, job, "civis-emulator:fail 0.1")
            failed_again = await in_thread(run_to_end, job)
            events = await watch.until(2)
        assert ok["state"] == "succeeded" and failed["state"] == "failed"
        return [(e["run_id"], e["state"]) for e in events] == [(failed["id"], "failed"),
                                                               (failed_again["id"], "failed")]

    assert asyncio.run(scenario())


def test_restart_with_the_asset_state_store_fires_what_ended_while_down_and_nothing_twice(civis_conn):
    job = make_job()
    run_to_end(job)
    store = AsyncDictStore()

    async def watch_once(expect: int) -> list[dict[str, Any]]:
        trigger = CivisJobEventTrigger(job_id=job, poll_interval=FAST)
        trigger.asset_state_store = store
        async with Watching(trigger.run()) as watch:
            await started(trigger)
            if expect:
                await watch.until(expect)
            return watch.events

    async def scenario() -> None:
        trigger = CivisJobEventTrigger(job_id=job, poll_interval=FAST)
        trigger.asset_state_store = store
        async with Watching(trigger.run()) as watch:
            await started(trigger)
            fired = await in_thread(run_to_end, job)
            assert [e["run_id"] for e in await watch.until(1)] == [fired["id"]]
        # triggerer down; a run ends meanwhile; a new triggerer starts the same trigger with the same store
        while_down = await in_thread(run_to_end, job)
        assert [e["run_id"] for e in await watch_once(1)] == [while_down["id"]]
        # and again: nothing new, so nothing fires; the next run fires once
        trigger = CivisJobEventTrigger(job_id=job, poll_interval=FAST)
        trigger.asset_state_store = store
        async with Watching(trigger.run()) as watch:
            await started(trigger)
            after = await in_thread(run_to_end, job)
            assert [e["run_id"] for e in await watch.until(1)] == [after["id"]]

    asyncio.run(scenario())
    assert list(store.data.values()) == [CivisHook().get_job(job)["lastRun"]["id"]]


def test_restart_without_a_store_starts_from_the_run_at_that_time(civis_conn):
    job = make_job()

    async def scenario() -> None:
        trigger = CivisJobEventTrigger(job_id=job, poll_interval=FAST)
        async with Watching(trigger.run()) as watch:
            await started(trigger)
            fired = await in_thread(run_to_end, job)
            assert [e["run_id"] for e in await watch.until(1)] == [fired["id"]]
        await in_thread(run_to_end, job)  # ends while no triggerer runs: without a store, not seen
        trigger = CivisJobEventTrigger(job_id=job, poll_interval=FAST)
        async with Watching(trigger.run()) as watch:
            await started(trigger)
            after = await in_thread(run_to_end, job)
            assert [e["run_id"] for e in await watch.until(1)] == [after["id"]]

    asyncio.run(scenario())


def test_hidden_jobs_are_read_from_the_hidden_view(civis_conn):
    """Jobs the provider creates are hidden; GET /jobs lists them only with hidden=true."""
    job = CivisHook().call("POST", "/scripts/containers", json={
        "name": "hidden-job", "dockerCommand": "civis-emulator:sleep 3", "hidden": True, **CONTAINER})["id"]
    noise = make_job("civis-emulator:sleep 0")

    async def scenario() -> None:
        trigger = CivisJobEventTrigger(job_id=job, poll_interval=FAST, hidden=True)
        async with Watching(trigger.run()) as watch:
            await started(trigger)
            run = await in_thread(run_to_end, job)
            await in_thread(run_to_end, noise)
            assert [e["run_id"] for e in await watch.until(1)] == [run["id"]]

    asyncio.run(scenario())


async def _several_assets_store_refuses(*_: Any) -> Any:
    raise ValueError("Task has 2 concrete inlets and outlets")


def test_a_trigger_watching_several_assets_keeps_its_mark_in_memory(civis_conn):
    job = make_job()
    store = AsyncDictStore()
    store.aget = store.aset = _several_assets_store_refuses  # type: ignore[method-assign]

    async def scenario() -> None:
        trigger = CivisJobEventTrigger(job_id=job, poll_interval=FAST)
        trigger.asset_state_store = store
        async with Watching(trigger.run()) as watch:
            await started(trigger)
            run = await in_thread(run_to_end, job)
            assert [e["run_id"] for e in await watch.until(1)] == [run["id"]]
        assert trigger.mark.memory_only

    asyncio.run(scenario())


def test_watchers_share_one_poll_through_airflows_shared_stream(civis_conn):
    from airflow.triggers.shared_stream import SharedStreamManager

    jobs = [make_job() for _ in range(2)]
    hook = CivisHook()

    async def scenario() -> tuple[list[list[dict]], int, float]:
        manager = SharedStreamManager()
        triggers = [CivisJobEventTrigger(job_id=jobs[i % 2], poll_interval=FAST) for i in range(10)]
        keys = {t.shared_stream_key() for t in triggers}
        assert len(keys) == 1
        key = keys.pop()
        watches = [Watching(t.filter_shared_stream(manager.subscribe(trigger_id=i, trigger=t, key=key)))
                   for i, t in enumerate(triggers)]
        for w in watches:
            await w.__aenter__()
        try:
            for t in triggers:
                await started(t)
            seq = (await in_thread(hook.call, "GET", "/_emulator/requests"))["next"]
            began = time.monotonic()
            runs = [await in_thread(run_to_end, job) for job in jobs]
            for w in watches:
                await w.until(1)
            elapsed = time.monotonic() - began
            log = (await asyncio.to_thread(
                hook.call, "GET", "/_emulator/requests", params={"since": seq}))["requests"]
            lists = sum(1 for r in log if r["method"] == "GET" and r["template"] in ("/jobs", "/jobs/"))
            for i, w in enumerate(watches):
                assert [e["run_id"] for e in w.events] == [runs[i % 2]["id"]]
            return [w.events for w in watches], lists, elapsed
        finally:
            for w in watches:
                await w.__aexit__(None, None, None)
            for i in range(len(triggers)):
                await manager.unsubscribe(i, key)
            await manager.stop_all()

    _, lists, elapsed = asyncio.run(scenario())
    # one reader: at most change list + active list per cycle (+1 slack per cycle for timing);
    # ten readers would make ten times that
    assert lists <= 3 * (elapsed / FAST + 2), (lists, elapsed)


@pytest.mark.parametrize("kwargs, field", [
    ({"job_id": 0}, "job_id"), ({"job_id": "12"}, "job_id"), ({"job_id": 1, "states": ["done"]}, "states"),
    ({"job_id": 1, "states": []}, "states"), ({"job_id": 1, "poll_interval": 0}, "poll_interval"),
])
def test_bad_arguments_fail_at_parse_time_naming_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        CivisJobEventTrigger(**kwargs)


def test_serializes_to_plain_data_that_rebuilds_the_same_trigger():
    import json

    trigger = CivisJobEventTrigger(job_id=7, states="failed,succeeded", poll_interval=5, hidden=True)
    path, kwargs = trigger.serialize()
    assert path == "airflow_civis.triggers.events.CivisJobEventTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert CivisJobEventTrigger(**kwargs).serialize() == (path, kwargs)
    assert kwargs["states"] == ["failed", "succeeded"]


def test_shares_a_poll_only_where_airflow_can(monkeypatch):
    """Airflow 3.3+: one key per (connection, view, interval); before 3.3 no key, so run() polls alone."""
    import airflow_civis.triggers.events as events

    a, b = CivisJobEventTrigger(job_id=1), CivisJobEventTrigger(job_id=2, states=["failed"])
    assert a.shared_stream_key() == b.shared_stream_key() == ("civis-jobs", "civis_default", False, 30.0)
    assert CivisJobEventTrigger(job_id=1, hidden=True).shared_stream_key() != a.shared_stream_key()
    monkeypatch.setattr(events, "SHARED_STREAMS", False)
    assert a.shared_stream_key() is None
