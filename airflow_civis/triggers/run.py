"""CivisRunTrigger: the one trigger every Civis operator and sensor defers to.

It waits, asynchronously, until a run reaches a terminal state or its absolute deadline passes, and
fires exactly one event. The event is checked by :func:`validate_run_event`, the single completion check
shared by every operator and sensor.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_civis.exceptions import CivisAPIError, CivisError
from airflow_civis.hooks._retry import is_retryable
from airflow_civis.runs import TERMINAL_STATES, RunRef

EVENT_STATUSES = TERMINAL_STATES | {"timeout", "error"}


class CivisRunTrigger(BaseTrigger):
    """
    Wait for one Civis run.

    :param run: ``RunRef.to_dict()`` of the run to watch.
    :param civis_conn_id: the Airflow connection.
    :param poll_interval: seconds between checks.
    :param deadline: absolute UNIX time after which a ``timeout`` event fires; None waits forever.
    :param cancel_on_kill: cancel the run when a user kills the task (mark failed/success, clear).
    """

    def __init__(
        self,
        run: dict[str, Any],
        civis_conn_id: str = "civis_default",
        poll_interval: float = 10.0,
        deadline: float | None = None,
        cancel_on_kill: bool = True,
    ) -> None:
        super().__init__()
        self.run_ref = RunRef.from_dict(run)
        self.civis_conn_id = civis_conn_id
        self.poll_interval = float(poll_interval)
        self.deadline = None if deadline is None else float(deadline)
        self.cancel_on_kill = bool(cancel_on_kill)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "run": self.run_ref.to_dict(),
                "civis_conn_id": self.civis_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "cancel_on_kill": self.cancel_on_kill,
            },
        )

    def _event(self, status: str, **extra: Any) -> TriggerEvent:
        return TriggerEvent({"status": status, "run": self.run_ref.to_dict(), **extra})

    def _hook(self):
        from airflow_civis.hooks.civis_async import CivisAsyncHook

        return CivisAsyncHook(self.civis_conn_id)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        async with self._hook() as hook:
            while True:
                try:
                    run = await hook.get_run(self.run_ref)
                except CivisAPIError as err:
                    if not is_retryable(err):
                        yield self._event("error", message=str(err))
                        return
                    # Retries for this call are used up; the run itself is fine, so keep waiting.
                    self.log.warning("Civis API unavailable while watching %s: %s", self.run_ref, err)
                except CivisError as err:
                    yield self._event("error", message=str(err))
                    return
                else:
                    if run.get("state") in TERMINAL_STATES:
                        yield self._event(run["state"], error=run.get("error"), finished_at=run.get("finishedAt"))
                        return
                now = time.time()
                if self.deadline is not None and now >= self.deadline:
                    yield self._event("timeout", message=f"{self.run_ref} still running at its deadline")
                    return
                wait = self.poll_interval if self.deadline is None else min(self.poll_interval, self.deadline - now)
                await asyncio.sleep(max(0.0, wait))

    async def on_kill(self) -> None:
        """Airflow 3.3+: a user killed the deferred task; never called on a triggerer restart."""
        if not self.cancel_on_kill:
            return
        async with self._hook() as hook:
            await hook.cancel_run(self.run_ref)
        self.log.info("Cancelled %s because its task was killed", self.run_ref)


def validate_run_event(event: dict[str, Any] | None) -> tuple[RunRef, str, dict[str, Any]]:
    """The one completion check: return (run, status, event) or raise a clear error for a malformed event."""
    if not isinstance(event, dict) or "run" not in event or event.get("status") not in EVENT_STATUSES:
        raise CivisError(f"Malformed event from CivisRunTrigger: {event!r}")
    ref = RunRef.from_dict(event["run"])
    if event["status"] == "error":
        raise CivisError(f"Waiting for {ref} failed: {event.get('message')}")
    return ref, event["status"], event
