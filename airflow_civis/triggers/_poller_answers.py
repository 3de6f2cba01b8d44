"""What an answer says about the runs the shared poller watches: a ``GET /jobs`` item or a run's own GET.

A mixin of :class:`~airflow_civis.triggers.poller.RunPoller`, kept apart so each file has one job: the
loop (:mod:`.poller`) decides when to ask and the list reads (:mod:`._poller_lists`) which pages; this
one turns each answer into what happens to the watched runs (ended, replaced, followed by the lists,
or checked on their own), hands an ended run's outcome to every watcher of it, and remembers the last
item of every job, so that a run registered later is verified from it. The rules about single items
live in :mod:`._poller_model`.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from airflow_civis.exceptions import CivisAPIError, CivisError
from airflow_civis.hooks._retry import is_retryable
from airflow_civis.runs import RunRef
from airflow_civis.triggers._poller_model import Tracked, TrackStatus, View, is_active, outcome

log = logging.getLogger("airflow_civis.triggers.poller")
#: How many jobs' last list items are remembered (the oldest seen is dropped first).
SEEN_LIMIT = 20_000


class Answers:
    """The poller's reading of list items and single-run answers (see the module docstring)."""

    _runs: dict[RunRef, Tracked]
    _by_job: dict[int, set[RunRef]]
    _seen: OrderedDict[int, dict[str, Any]]
    _view_of: OrderedDict[int, View]
    _ended_since_sweep: dict[View, int]

    if TYPE_CHECKING:  # provided by RunPoller and ListReads

        async def _get(self, kind: str, path: str, **kwargs: Any) -> Any: ...

        def _forget(self, tracked: Tracked) -> None: ...

        def _interval(self, tracked: Tracked, now: float) -> float: ...

        def _learn(self, item: dict[str, Any]) -> None: ...

        @staticmethod
        def _stamp(item: dict[str, Any]) -> float | None: ...

    # -- outcomes ------------------------------------------------------------------------------------
    def _finish(self, tracked: Tracked, result: dict[str, Any]) -> None:
        if tracked.status is TrackStatus.LISTED and tracked.view is not None:
            self._ended_since_sweep[tracked.view] += 1  # one job fewer in the next active list
        for watch in tracked.watches:
            if not watch.future.done():
                watch.future.set_result(result)
        self._forget(tracked)

    def _fail_all(self, message: str) -> None:
        for tracked in list(self._runs.values()):
            self._finish(tracked, {"status": "error", "message": message})

    # -- what one list item says ---------------------------------------------------------------------
    def _remember(self, job_id: int, item: dict[str, Any], view: View) -> None:
        self._seen[job_id], self._view_of[job_id] = item, view
        self._seen.move_to_end(job_id)
        self._view_of.move_to_end(job_id)
        if len(self._seen) > SEEN_LIMIT:
            self._seen.popitem(last=False)
        if len(self._view_of) > SEEN_LIMIT:
            self._view_of.popitem(last=False)

    def _apply(self, item: dict[str, Any], view: View | None, cached: bool = False) -> None:
        """What one job list item says about the watched runs of that job."""
        job_id = int(item.get("id") or 0)
        if not cached and view is not None:
            self._remember(job_id, item, view)
            self._learn(item)
        refs = self._by_job.get(job_id)
        if not refs:
            return
        last = item.get("lastRun") or {}
        last_id, state = int(last.get("id") or 0), last.get("state")
        for ref in list(refs):
            tracked = self._runs[ref]
            tracked.view = view or tracked.view
            if last_id < ref.run_id or not state:
                continue  # the item was read before this run started: a later list shows it
            if last_id > ref.run_id:
                tracked.fetch_now = True  # the watched run was replaced by a newer run of its job
            elif not is_active(state):
                self._finish(tracked, outcome(last))
            else:
                tracked.status, tracked.misses = TrackStatus.LISTED, 0
                tracked.stamp = self._stamp(item) or tracked.stamp

    # -- single runs ---------------------------------------------------------------------------------
    async def _fetch(self, tracked: Tracked) -> None:
        try:
            response = await self._get("run", tracked.ref.path)
        except CivisAPIError as err:
            if is_retryable(err):
                tracked.next_check = time.monotonic() + self._interval(tracked, time.monotonic())
                log.info("Civis API busy while checking %s: %s", tracked.ref, err)
                return
            self._finish(tracked, {"status": "error", "message": str(err)})
            return
        run = response.json() or {}
        if not isinstance(run, dict) or not run.get("state"):
            self._finish(tracked, {"status": "error", "message": f"{tracked.ref}: answer without a state"})
            return
        if not is_active(run["state"]):
            self._finish(tracked, outcome(run))
            return
        now = time.monotonic()
        tracked.fetch_now = False
        # Still active. A job lists have shown is followed by list calls from now on; one they never
        # showed is checked on its own (and becomes listed as soon as a list shows it).
        tracked.status = TrackStatus.LISTED if tracked.view is not None else TrackStatus.UNLISTED
        tracked.next_check = now + self._interval(tracked, now)

    async def check_now(self, ref: RunRef) -> dict[str, Any] | None:
        """One direct look (for a watcher already past its deadline): the outcome if the run ended."""
        try:
            run = (await self._get("run", ref.path)).json() or {}
        except CivisError as err:
            log.warning("Last check of %s at its deadline failed: %s", ref, err)
            return None
        return outcome(run) if run.get("state") and not is_active(run["state"]) else None
