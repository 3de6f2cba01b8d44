"""One poller per (connection, event loop): every CivisRunTrigger in a triggerer process shares it.

Triggers register the run they wait for and await a future; the poller answers all of them with one
HTTP client, one request budget and, while ``GET /jobs`` works, a handful of list calls per cycle.
The spec does not say whether a job's ``lastRunUpdatedAt`` moves when its run *ends* or only when a run
is *created*; the poller learns which from the list items themselves (:func:`stamp_evidence`: a finished
run whose stamp is before its ``finishedAt`` proves "creation only", and that reading always wins) and
assumes the pessimistic one until shown otherwise. Either way it batches:

* **every change** -- ``GET /jobs?state=<run states>&order=last_run_updated_at&order_dir=desc``, paged
  back to the previous read, shows every run that started or ended since; the active list below runs
  for a batch of new runs, after a gap and every ``sweep_interval`` as the safety net;
* **creation only** (and until known) -- the change list still shows new runs (verified, replaced), and
  every watched run that ended is in the ended list at or above its own stamp: that *window* is read
  while it is shorter than the active list ``GET /jobs?state=queued,running`` (every page), which is
  read otherwise: a watched job that left it has ended (or was replaced);
* **ended look-up** -- the jobs that left the active list are found in
  ``GET /jobs?state=succeeded,failed,cancelled&order=last_run_updated_at&order_dir=desc``, read only as
  far as their own stamps (a stamp never moves back, whichever semantics hold) and only while a page
  costs less than fetching the rest one by one; ``lastRun`` gives the outcome (id checked against the
  watched run, so a newer run of the job is never taken for it);
* **per-run** -- ``GET .../runs/{id}`` for what no list answered, for jobs no list shows, and for
  everything when the list call is not usable (logged once) or keeps failing.

Reads of one cycle that do not depend on each other go at once on the one client (within the token
bucket): the change list alongside the ended window or the active list, the pages of the active list
(as many as it had, less the watched runs that ended since) and of the window (as many as it took).

Hidden jobs (everything the provider creates) are listed only with ``hidden=true``: that view is read
first, the other only while some watched job is in it or not yet seen. Pages never ask for more than
the API's maximum of 50. Intervals are adaptive (``min_interval`` at first, growing with the run's age
up to the trigger's ``poll_interval``), a 429 pauses every request for ``Retry-After`` and slows the
cycle down, and all requests draw from one token bucket. Deadlines are the trigger's own.

This module is the loop (watchers, timing, cycles, requests); which pages to read is in
:mod:`._poller_lists`, and what each answer says about the watched runs in :mod:`._poller_answers`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import OrderedDict
from typing import Any

from airflow_civis._compat import aget_connection
from airflow_civis.exceptions import CivisAPIError, CivisError
from airflow_civis.hooks._retry import is_retryable
from airflow_civis.runs import RunRef
from airflow_civis.triggers._poller_answers import Answers
from airflow_civis.triggers._poller_budget import NO_RETRY as NO_RETRY
from airflow_civis.triggers._poller_budget import PollerConfig, TokenBucket
from airflow_civis.triggers._poller_lists import ListReads
from airflow_civis.triggers._poller_model import (
    PollMode,
    StampSemantics,
    Tracked,
    TrackStatus,
    View,
    Watch,
)
from airflow_civis.triggers._poller_registry import _POLLERS as _POLLERS
from airflow_civis.triggers._poller_registry import shared_poller as shared_poller
from airflow_civis.triggers._poller_registry import watching as watching

log = logging.getLogger(__name__)
__all__ = ["NO_RETRY", "PollerConfig", "RunPoller", "TokenBucket", "Watch", "shared_poller", "watching"]


class RunPoller(Answers, ListReads):
    """Watches runs for many triggers on one connection; see the module docstring for the strategy."""

    def __init__(self, hook: Any, config: PollerConfig | None = None, *, on_close: Any = None) -> None:
        self.hook = hook
        self.config = config or PollerConfig()
        self.bucket = TokenBucket(self.config.requests_per_second, self.config.burst)
        self.mode = PollMode.LIST
        self.semantics = StampSemantics.UNKNOWN
        self.requests: dict[str, int] = {"probe": 0, "changes": 0, "sweep": 0, "window": 0, "ended": 0, "run": 0}
        # Where the time goes (seconds per kind): waiting for a token, and waiting for the answer.
        self.timing: dict[str, float] = {"bucket": 0.0, **dict.fromkeys(self.requests, 0.0)}
        self.closed = False
        self._runs: dict[RunRef, Tracked] = {}
        self._by_job: dict[int, set[RunRef]] = {}
        self._watch_count = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._on_close = on_close
        self._list_failures = 0
        self._probed = False
        self._watermark: dict[View, float | None] = dict.fromkeys(View)
        self._last_sweep: dict[View, float] = dict.fromkeys(View, time.monotonic())
        self._sweep_pages: dict[View, int] = dict.fromkeys(View, 1)
        self._window_pages: dict[View, int] = dict.fromkeys(View, 1)
        self._sweep_total: dict[View, int] = dict.fromkeys(View, 1)
        self._ended_since_sweep: dict[View, int] = dict.fromkeys(View, 0)
        self._slowdown = 1.0
        self._throttled = False
        self._last_cycle = time.monotonic()
        # Last list item of every job the lists showed: what it proves (ended, replaced, active) stays true,
        # so a run registered later is verified from it when its job is in it.
        self._seen: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._view_of: OrderedDict[int, View] = OrderedDict()  # where lists showed each job

    # -- watchers ------------------------------------------------------------------------------------
    def register(self, ref: RunRef, poll_interval: float) -> Watch:
        if self.closed:
            raise RuntimeError("this poller is closed")
        watch = Watch(self, ref, float(poll_interval), asyncio.get_running_loop().create_future())
        tracked = self._runs.get(ref)
        if tracked is None:
            now = time.monotonic()
            tracked = self._runs[ref] = Tracked(ref, since=now, view=self._view_of.get(ref.job_id))
            tracked.next_check = now + self._floor(float(poll_interval))
            self._by_job.setdefault(ref.job_id, set()).add(ref)
            tracked.watches.add(watch)
            if ref.job_id in self._seen:
                self._apply(self._seen[ref.job_id], tracked.view, cached=True)
        else:
            tracked.watches.add(watch)
        self._watch_count += 1
        if self._task is None:
            self._last_cycle = time.monotonic()
            self._task = asyncio.get_running_loop().create_task(self._main(), name="civis-run-poller")
        self._wake.set()
        return watch

    def unregister(self, watch: Watch) -> None:
        tracked = self._runs.get(watch.ref)
        if tracked is not None and watch in tracked.watches:
            tracked.watches.discard(watch)
            if not tracked.watches:
                self._forget(tracked)
        self._watch_count -= 1
        if self._watch_count <= 0:
            self.closed = True
            if self._on_close is not None:
                self._on_close(self)
            self._wake.set()  # the loop sees it is idle and closes the client

    @property
    def watched(self) -> int:
        return len(self._runs)

    def _forget(self, tracked: Tracked) -> None:
        self._runs.pop(tracked.ref, None)
        refs = self._by_job.get(tracked.ref.job_id)
        if refs is not None:
            refs.discard(tracked.ref)
            if not refs:
                del self._by_job[tracked.ref.job_id]

    # -- timing --------------------------------------------------------------------------------------
    def _floor(self, cap: float) -> float:
        return min(self.config.min_interval, cap)

    def _interval(self, tracked: Tracked, now: float) -> float:
        cap = min(w.poll_interval for w in tracked.watches) if tracked.watches else self.config.min_interval
        floor = self._floor(cap)
        return min(cap, floor + self.config.growth * (now - tracked.since)) * self._slowdown

    def _degraded(self) -> bool:
        return self.mode is not PollMode.LIST or self._list_failures >= self.config.list_failures_before_fallback

    def _next_cycle_at(self, now: float) -> float:
        if not self._runs:
            return now + 3600.0
        if self._degraded():
            return min(t.next_check for t in self._runs.values())
        at = math.inf
        for tracked in self._runs.values():
            if tracked.status is TrackStatus.LISTED:
                at = min(at, self._last_cycle + self._interval(tracked, now))
            else:
                at = min(at, tracked.next_check)
        return at

    # -- the loop ------------------------------------------------------------------------------------
    async def _main(self) -> None:
        failures = 0
        try:
            await self._configure()
            while not self.closed:
                now = time.monotonic()
                at = self._next_cycle_at(now)
                if at > now:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), at - now)
                    continue  # re-plan: a register, an unregister or the time has come
                self._last_cycle = now
                self._throttled = False
                try:
                    await self.cycle()
                    failures = 0
                except CivisError as err:  # not an API answer: the connection itself is unusable
                    self._fail_all(f"Civis connection unusable while watching runs: {err}")
                except Exception:  # noqa: BLE001 - a bug must not leave tasks waiting forever
                    failures += 1
                    log.exception("Civis run poller cycle failed (%d in a row)", failures)
                    if failures >= 5:
                        self._fail_all("the Civis run poller failed 5 cycles in a row; see the triggerer log")
                    await asyncio.sleep(min(30.0, 2.0**failures))
                if not self._throttled:
                    self._slowdown = max(1.0, self._slowdown * 0.8)
        finally:
            log.info("Civis run poller for %s stopped (lastRunUpdatedAt semantics: %s); requests made: %s",
                     self.hook.civis_conn_id, self.semantics.value, self.requests)
            self.closed = True
            if self._on_close is not None:
                self._on_close(self)
            with contextlib.suppress(Exception):
                await self.hook.aclose()

    async def _configure(self) -> None:
        try:
            conn = await aget_connection(self.hook.civis_conn_id)
            extra = conn.extra_dejson.get("poller") if conn is not None else None
            if extra:
                self.config = PollerConfig.from_extra(extra)
                self.bucket = TokenBucket(self.config.requests_per_second, self.config.burst)
        except Exception as err:  # noqa: BLE001 - defaults still work; a missing connection fails later
            log.warning("Civis poller settings from the connection ignored: %s", err)

    async def cycle(self) -> None:
        """One round: list calls (see the module docstring), then the single runs that need a look."""
        now = time.monotonic()
        if self.mode is PollMode.LIST:
            await self._list_step(now)
        listed_at = time.monotonic()
        due = [
            t for t in list(self._runs.values())
            if t.fetch_now or (t.next_check <= now and (self._degraded() or t.status is not TrackStatus.LISTED))
        ]
        if due:
            sem = asyncio.Semaphore(self.config.fetch_concurrency)

            async def one(tracked: Tracked) -> None:
                async with sem:
                    await self._fetch(tracked)

            await asyncio.gather(*(one(t) for t in due))
        if log.isEnabledFor(logging.DEBUG):
            log.debug("Civis run poller cycle: lists %.2fs, %d fetched %.2fs, %d watched, requests %s, seconds %s",
                      listed_at - now, len(due), time.monotonic() - listed_at, len(self._runs), self.requests,
                      {k: round(v, 2) for k, v in self.timing.items()})

    async def _list_step(self, now: float) -> None:
        try:
            await self._read_lists(now)
        except CivisAPIError as err:
            self._seen.clear()
            if is_retryable(err):
                self._list_failures += 1
                if self._list_failures == self.config.list_failures_before_fallback:
                    log.warning("Civis list call failing (%s): checking runs one by one until it works", err)
                return
            self.mode = PollMode.PER_RUN
            log.warning("Civis GET /jobs is not usable (%s): falling back to per-run polling for %s",
                        err, self.hook.civis_conn_id)
            return
        if self._list_failures >= self.config.list_failures_before_fallback:
            log.info("Civis list call works again: back to list-based polling")
        self._list_failures = 0

    # -- requests ------------------------------------------------------------------------------------
    async def _get(self, kind: str, path: str, **kwargs: Any) -> Any:
        asked = time.monotonic()
        await self.bucket.take()
        sent = time.monotonic()
        self.timing["bucket"] += sent - asked
        self.requests[kind] += 1
        try:
            return await self.hook.request("GET", path, **kwargs)
        except CivisAPIError as err:
            if err.status == 429:
                wait = err.retry_after if err.retry_after is not None else 2.0 * self._slowdown
                self.bucket.pause(wait)
                self._slowdown = min(self.config.max_slowdown, self._slowdown * 2)
                self._throttled = True
                log.warning("Civis API rate limit (429): pausing requests for %.1fs", wait)
            raise
        finally:
            self.timing[kind] += time.monotonic() - sent
