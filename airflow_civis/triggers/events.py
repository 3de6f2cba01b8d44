"""CivisJobEventTrigger: an asset event each time a Civis job's new run ends in a chosen state.

For DAGs scheduled on Civis's own schedules: ``Asset("civis://...", watchers=[AssetWatcher(name=...,
trigger=CivisJobEventTrigger(job_id=...))])``. The runs are read by :mod:`._job_stream`; on Airflow 3.3+
every watcher on one connection (and view and interval) shares that one poll through the triggerer's
shared stream, before that each watcher polls on its own.

**Once per run.** A run fires only if its id is above the trigger's *mark*: the id of the newest run
already handled (ended, whether it fired or not) or already there when the watcher first saw the job.
The mark moves *before* the event leaves, and on Airflow 3.3+ it is kept in the watched asset's state
store, so it survives a triggerer restart: a run that ended while no triggerer ran fires once after
the restart, and a fired run never fires again. Limits: a triggerer killed between storing the mark and
Airflow storing the event loses that one event (at most once, never twice); without a state store
(Airflow before 3.3, or one trigger watching several assets) the mark lives in memory, so a restart
starts from the job's run at that moment (runs that ended while it was down do not fire). A job run
several times between two polls shows only its newest run in ``GET /jobs``; its runs after the mark are
then listed (``GET /jobs/{id}/runs``, the newest 100) and each fires, oldest first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Hashable
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from airflow_civis._compat import SHARED_STREAMS
from airflow_civis.exceptions import CivisError
from airflow_civis.runs import TERMINAL_STATES
from airflow_civis.triggers._asset_mark import AssetMark

DEFAULT_STATES = ("succeeded",)


def _check(job_id: Any, states: Any, poll_interval: Any) -> tuple[int, tuple[str, ...], float]:
    """Plain, valid kwargs, or a ValueError naming the argument and the fix (raised at DAG parse time)."""
    if isinstance(job_id, bool) or not isinstance(job_id, int) or job_id <= 0:
        raise ValueError(f"CivisJobEventTrigger: job_id must be a positive integer Civis job id, got {job_id!r}")
    if isinstance(states, str):
        states = [s.strip() for s in states.split(",")]
    states = tuple(sorted(set(states or ())))
    bad = [s for s in states if s not in TERMINAL_STATES]
    if not states or bad:
        raise ValueError(f"CivisJobEventTrigger: states must be one or more of {sorted(TERMINAL_STATES)}, "
                         f"got {bad or 'none'}")
    if isinstance(poll_interval, bool) or not isinstance(poll_interval, (int, float)) or poll_interval <= 0:
        raise ValueError(f"CivisJobEventTrigger: poll_interval must be a positive number of seconds, "
                         f"got {poll_interval!r}")
    return job_id, states, float(poll_interval)


class CivisJobEventTrigger(BaseEventTrigger):
    """
    Fire once for each new run of a Civis job that ends in one of ``states``.

    :param job_id: the Civis job (script, import, query, ...) to watch.
    :param states: run states that fire (``succeeded``, ``failed``, ``cancelled``); default succeeded.
    :param civis_conn_id: the Airflow connection.
    :param poll_interval: seconds between reads of ``GET /jobs``.
    :param hidden: the job is hidden (as jobs the provider creates are): ``GET /jobs`` lists those only
        with ``hidden=true``.
    """

    def __init__(
        self,
        job_id: int,
        states: list[str] | tuple[str, ...] | str = DEFAULT_STATES,
        civis_conn_id: str = "civis_default",
        poll_interval: float = 30.0,
        hidden: bool = False,
    ) -> None:
        super().__init__()
        self.job_id, self.states, self.poll_interval = _check(job_id, states, poll_interval)
        self.civis_conn_id = str(civis_conn_id)
        self.hidden = bool(hidden)
        key = f"civis_job_event.{self.civis_conn_id}.{self.job_id}.{','.join(self.states)}.mark"
        self.mark = AssetMark(self, key)  # the newest run handled, or there at the start

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "job_id": self.job_id,
                "states": list(self.states),
                "civis_conn_id": self.civis_conn_id,
                "poll_interval": self.poll_interval,
                "hidden": self.hidden,
            },
        )

    # -- the poll: shared on Airflow 3.3+, one per trigger before ------------------------------------
    def shared_stream_key(self) -> Hashable | None:
        if not SHARED_STREAMS:
            return None
        return ("civis-jobs", self.civis_conn_id, self.hidden, self.poll_interval)

    @classmethod
    async def open_shared_stream(cls, kwargs: dict[str, Any]) -> AsyncIterator[Any]:
        from airflow_civis.triggers._job_stream import job_changes

        async for changes in job_changes(kwargs.get("civis_conn_id", "civis_default"),
                                         bool(kwargs.get("hidden", False)), float(kwargs.get("poll_interval", 30.0))):
            yield changes

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Airflow before 3.3 (or a key of None): this trigger's own poll, filtered the same way."""
        async for event in self.filter_shared_stream(self.open_shared_stream(self.serialize()[1])):
            yield event

    async def filter_shared_stream(self, shared_stream: AsyncIterator[Any]) -> AsyncIterator[TriggerEvent]:
        job = await self._start()
        if job is not None:
            async for event in self._consider(job):
                yield event
        async for changes in shared_stream:
            item = (changes.get("jobs") or {}).get(str(self.job_id))
            if item is not None:
                async for event in self._consider(item):
                    yield event

    # -- once per run ---------------------------------------------------------------------------------
    async def _start(self) -> dict[str, Any] | None:
        """Load the mark; without one, the job's run now is the baseline (None returned). With one, the
        job's item, so that runs that ended while no triggerer watched fire now (one ``GET /jobs/{id}``
        per trigger start)."""
        stored = await self.mark.load()
        try:
            job = await self._call("GET", f"/jobs/{self.job_id}") or {}
        except CivisError as err:
            raise CivisError(f"CivisJobEventTrigger: job {self.job_id} could not be read ({err})") from err
        if not isinstance(stored, int):
            await self.mark.save(int((job.get("lastRun") or {}).get("id") or 0))
            return None
        return job

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        from airflow_civis.hooks.civis_async import CivisAsyncHook

        async with CivisAsyncHook(self.civis_conn_id) as hook:
            return await hook.call(method, path, **kwargs)

    async def _consider(self, item: dict[str, Any]) -> AsyncIterator[TriggerEvent]:
        """Events for the runs after the mark, oldest first, once the job's last run has ended."""
        run = item.get("lastRun") or {}
        run_id, state = run.get("id"), run.get("state")
        if not isinstance(run_id, int) or state not in TERMINAL_STATES:
            return
        if isinstance(self.mark.value, int) and run_id <= self.mark.value:
            return
        for ended in await self._runs_after_mark(run):
            await self.mark.save(ended["id"])  # before the event leaves: never twice (see the module docstring)
            if ended["state"] in self.states:
                self.log.info("Civis job %s run %s ended %s", self.job_id, ended["id"], ended["state"])
                yield TriggerEvent({"job_id": self.job_id, "run_id": ended["id"], "state": ended["state"],
                                    "finished_at": ended.get("finishedAt"), "civis_conn_id": self.civis_conn_id})

    async def _runs_after_mark(self, last: dict[str, Any]) -> list[dict[str, Any]]:
        """The job's ended runs after the mark up to ``last``, oldest first: a job run twice between two
        polls shows only its newer run in ``GET /jobs``, so its runs are listed (``GET /jobs/{id}/runs``,
        newest 100), once per new last run. Stops before a run still active (the next poll comes back)."""
        mark = self.mark.value if isinstance(self.mark.value, int) else 0
        try:
            runs = await self._call("GET", f"/jobs/{self.job_id}/runs",
                                    params={"limit": 100, "order": "id", "order_dir": "desc"}) or []
        except CivisError as err:
            self.log.warning("Listing the runs of Civis job %s failed (%s); taking its last run only", self.job_id, err)
            runs = []
        newer = {r["id"]: r for r in runs if isinstance(r.get("id"), int) and mark < r["id"] <= last["id"]}
        newer[last["id"]] = {**newer.get(last["id"], {}), **last}
        ended = []
        for run in sorted(newer.values(), key=lambda r: r["id"]):
            if run.get("state") not in TERMINAL_STATES:
                break
            ended.append(run)
        return ended
