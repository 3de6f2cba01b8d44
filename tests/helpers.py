"""Small stand-ins for what Airflow hands an operator at run time (for in-process lifecycle tests)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any


class FakeTI:
    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


class DictStateStore:
    """Behaves like ``context['task_state_store']``: shared by every try of one task in one DAG run."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any, **_: Any) -> None:
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


def make_context(store: DictStateStore | None = None) -> dict[str, Any]:
    return {"ti": FakeTI(), "task_state_store": store if store is not None else DictStateStore()}


def first_event(trigger) -> Any:
    """Run a trigger's ``run()`` under asyncio as the triggerer does and return its first event."""

    async def consume():
        async for event in trigger.run():
            return event
        raise AssertionError("trigger ended without an event")

    return asyncio.run(consume())


DONE = ("succeeded", "failed", "cancelled")


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.02,
             what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy (returned), within a deadline (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        time.sleep(interval)


def wait_run(client, url: str, states=DONE, timeout: float = 30.0) -> dict[str, Any]:
    """GET ``url`` (a run, through a requests session or a TestClient) until its state is one of ``states``."""

    def reached() -> dict[str, Any] | None:
        run = client.get(url).json()
        return run if run["state"] in states else None

    return wait_for(reached, timeout, what=f"{url} in {states}")


def wait_for_state(hook, ref, states, timeout: float = 15.0) -> dict[str, Any]:
    """Poll a run through the hook until it reaches one of ``states`` (a cancel takes effect asynchronously,
    as on Civis)."""
    states = {states} if isinstance(states, str) else set(states)

    def reached() -> dict[str, Any] | None:
        run = hook.get_run(ref)
        return run if run["state"] in states else None

    return wait_for(reached, timeout, what=f"run {ref} in {sorted(states)}")


# -- the emulator's own view of a test: its request log and its fault injection --------------------------
def request_log_end(hook) -> int:
    """Where the emulator's request log ends now: pass it to :func:`requests_since` to read what came after."""
    return hook.call("GET", "/_emulator/requests", params={"since": 2**62})["next"]


def requests_since(hook, mark: int) -> list[dict[str, Any]]:
    """What the emulator answered since ``mark``, in arrival order (``method``, ``path``, ``template``,
    ``status``, ...): what a client really sent, whatever it counts itself."""
    return hook.call("GET", "/_emulator/requests", params={"since": mark})["requests"]


@contextlib.contextmanager
def injected_faults(hook, *rules: dict[str, Any]) -> Iterator[None]:
    """The emulator answers as ``rules`` say (``POST /_emulator/faults``) inside the block, and normally
    again after it, even when the block fails (the session's emulator is shared by later tests)."""
    hook.call("POST", "/_emulator/faults", json={"seed": 0, "rules": list(rules)})
    try:
        yield
    finally:
        hook.call("DELETE", "/_emulator/faults")
