"""CivisRunTrigger: the one trigger every Civis operator and sensor defers to.

It waits, asynchronously, until a run reaches a terminal state or its absolute deadline passes, and
fires exactly one event. The waiting is done by the process-wide poller (:mod:`.poller`): thousands of
deferred runs on one connection cost a few list calls per interval, not one request each. The event
is checked by :func:`validate_run_event`, the single completion check shared by every operator and
sensor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_civis.exceptions import CivisAPIError, CivisError
from airflow_civis.runs import ACTIVE_STATES, TERMINAL_STATES, UNLISTED_KINDS, RunRef

#: What an event's status may be: a run state that ends the wait (any state but queued and running, so
#: a state we do not know, like civis-python's "success", ends it as it does in the worker), or ours.
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
        # Every trigger on this connection in this triggerer shares one client and one poller (see
        # poller.py); imported here so that DAG files never pay for httpx and the async hook.
        from airflow_civis.triggers.poller import watching

        if self.run_ref.kind in UNLISTED_KINDS:
            outcome = await self._watch_alone()
        else:
            async with watching(self.civis_conn_id, self.run_ref, self.poll_interval) as watch:
                outcome = await watch.wait(self.deadline)
        # Unregistered before the event leaves: a trigger cancelled after it has fired leaves nothing behind.
        if outcome is None:
            yield self._event("timeout", message=f"{self.run_ref} still running at its deadline")
        elif outcome["status"] == "error":
            yield self._event("error", message=outcome["message"])
        else:
            yield self._event(outcome["status"], error=outcome.get("error"), finished_at=outcome.get("finished_at"))

    async def _watch_alone(self) -> dict[str, Any] | None:
        """A run no ``GET /jobs`` lists (a workflow execution): polled on its own, until it ends (its
        outcome), the deadline passes (None) or the API refuses for good (an ``error`` outcome)."""
        import asyncio
        import time

        from airflow_civis.hooks._retry import is_retryable

        async with self._hook() as hook:
            while True:
                try:
                    run = await hook.get_run(self.run_ref) or {}
                except CivisAPIError as err:
                    if not is_retryable(err):
                        return {"status": "error", "message": str(err)}
                    run = {}
                except CivisError as err:
                    return {"status": "error", "message": str(err)}
                if run.get("state") and run["state"] not in ACTIVE_STATES:  # any ended state, known or not
                    error = run.get("error") or run.get("mistralStateInfo")
                    return {"status": run["state"], "error": error, "finished_at": run.get("finishedAt")}
                left = None if self.deadline is None else self.deadline - time.time()
                if left is not None and left <= 0:
                    return None
                await asyncio.sleep(self.poll_interval if left is None else min(self.poll_interval, left))

    async def on_kill(self) -> None:
        """Airflow 3.3+: a user killed the deferred task; never called on a triggerer restart."""
        if not self.cancel_on_kill:
            return
        async with self._hook() as hook:
            await hook.cancel_run(self.run_ref)
        self.log.info("Cancelled %s because its task was killed", self.run_ref)


def validate_run_event(event: dict[str, Any] | None) -> tuple[RunRef, str, dict[str, Any]]:
    """The one completion check: return (run, status, event) or raise a clear error for a malformed event."""
    status = event.get("status") if isinstance(event, dict) else None
    if not isinstance(event, dict) or "run" not in event or not _ends_wait(status):
        raise CivisError(f"Malformed event from CivisRunTrigger: {event!r}")
    try:
        ref = RunRef.from_dict(event["run"])
    except (KeyError, TypeError, ValueError) as err:
        raise CivisError(f"Malformed event from CivisRunTrigger (run {err}): {event!r}") from None
    if event["status"] == "error":
        raise CivisError(f"Waiting for {ref} failed: {event.get('message')}")
    return ref, event["status"], event


def _ends_wait(status: Any) -> bool:
    return status in EVENT_STATUSES or (isinstance(status, str) and bool(status) and status not in ACTIVE_STATES)
