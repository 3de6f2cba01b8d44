"""One poller per (connection, event loop): every CivisRunTrigger in a triggerer process shares it.

Triggers register the run they wait for and await a future; the poller answers all of them with one
HTTP client, one request budget and, while the list endpoint works, a handful of list calls per cycle:

* **changes** -- ``GET /jobs?order=last_run_updated_at&order_dir=desc``, paged only back to the previous
  read: a job whose last run is the watched one and ended completes its watchers from the list item
  itself (``lastRun`` carries id, state, error and finishedAt); a job whose last run is a *newer* run
  gets the watched run fetched;
* **sweep** -- ``GET /jobs?state=queued,running``, every page: confirms new runs in one go (a watched run
  whose job is absent, or whose last run is another one, is fetched on its own) and is the safety net
  for anything the change list could miss; it runs for a batch of new runs and every ``sweep_interval``;
* **per-run** -- ``GET .../runs/{id}`` for runs no list shows (hidden jobs), for a few new runs, and for
  everything when the list call is not usable (logged once) or keeps failing.

Intervals are adaptive (``min_interval`` at first, growing with the run's age up to the trigger's
``poll_interval``), a 429 pauses every request for ``Retry-After`` and slows the cycle down, and all
requests draw from one token bucket. Deadlines are the trigger's own (``Watch.wait``), to the millisecond.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow_civis._compat import aget_connection
from airflow_civis.exceptions import CivisAPIError, CivisError
from airflow_civis.hooks._retry import is_retryable
from airflow_civis.runs import ACTIVE_STATES, TERMINAL_STATES, RunRef
from airflow_civis.triggers._poller_budget import NO_RETRY as NO_RETRY
from airflow_civis.triggers._poller_budget import PollerConfig, TokenBucket
from airflow_civis.triggers._poller_registry import _POLLERS as _POLLERS
from airflow_civis.triggers._poller_registry import shared_poller as shared_poller
from airflow_civis.triggers._poller_registry import watching as watching

log = logging.getLogger(__name__)
SEEN_LIMIT = 20_000


@dataclass(eq=False)
class Watch:
    """One trigger's interest in one run; ``wait`` returns the outcome or None at the deadline."""

    poller: RunPoller
    ref: RunRef
    poll_interval: float
    future: asyncio.Future

    async def wait(self, deadline: float | None) -> dict[str, Any] | None:
        timeout = None if deadline is None else deadline - time.time()
        if timeout is not None and timeout <= 0:  # already late (e.g. moved triggerer): one last look
            return self.future.result() if self.future.done() else await self.poller.check_now(self.ref)
        done, _ = await asyncio.wait({self.future}, timeout=timeout)
        return self.future.result() if done else None


@dataclass(eq=False)
class _Tracked:
    ref: RunRef
    since: float
    watches: set[Watch] = field(default_factory=set)
    status: str = "new"  # new (not verified) | listed (lists see it) | unlisted (checked on its own)
    next_check: float = 0.0
    fetch_now: bool = False
    missed_by_sweep: bool = False


def _timestamp(value: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() if value else None
    except ValueError:
        return None


class RunPoller:
    """Watches runs for many triggers on one connection; see the module docstring for the strategy."""

    def __init__(self, hook: Any, config: PollerConfig | None = None, *, on_close: Any = None) -> None:
        self.hook = hook
        self.config = config or PollerConfig()
        self.bucket = TokenBucket(self.config.requests_per_second, self.config.burst)
        self.mode = "list"  # or "per-run" once the list call proved unusable
        self.requests: dict[str, int] = {"changes": 0, "sweep": 0, "run": 0}
        self.closed = False
        self._runs: dict[RunRef, _Tracked] = {}
        self._by_job: dict[int, set[RunRef]] = {}
        self._watch_count = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._on_close = on_close
        self._list_failures = 0
        self._watermark: float | None = None
        self._last_sweep = time.monotonic()
        self._sweep_pages = 1
        self._slowdown = 1.0
        self._throttled = False
        self._last_cycle = time.monotonic()
        # Last list item of every job the lists showed, valid while the change list is read without a gap:
        # a run registered later is verified from it (no sweep, no fetch) when its job is in it.
        self._seen: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._visible: set[int] = set()  # jobs some list call showed (not hidden, readable): the change list sees them

    # -- watchers ------------------------------------------------------------------------------------
    def register(self, ref: RunRef, poll_interval: float) -> Watch:
        if self.closed:
            raise RuntimeError("this poller is closed")
        watch = Watch(self, ref, float(poll_interval), asyncio.get_running_loop().create_future())
        tracked = self._runs.get(ref)
        if tracked is None:
            now = time.monotonic()
            tracked = self._runs[ref] = _Tracked(ref, since=now)
            tracked.next_check = now + self._floor(float(poll_interval))
            self._by_job.setdefault(ref.job_id, set()).add(ref)
            tracked.watches.add(watch)
            if ref.job_id in self._seen:
                self._apply(self._seen[ref.job_id], cached=True)
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

    def _forget(self, tracked: _Tracked) -> None:
        self._runs.pop(tracked.ref, None)
        refs = self._by_job.get(tracked.ref.job_id)
        if refs is not None:
            refs.discard(tracked.ref)
            if not refs:
                del self._by_job[tracked.ref.job_id]

    def _finish(self, tracked: _Tracked, outcome: dict[str, Any]) -> None:
        for watch in tracked.watches:
            if not watch.future.done():
                watch.future.set_result(outcome)
        self._forget(tracked)

    # -- timing --------------------------------------------------------------------------------------
    def _floor(self, cap: float) -> float:
        return min(self.config.min_interval, cap)

    def _interval(self, tracked: _Tracked, now: float) -> float:
        cap = min(w.poll_interval for w in tracked.watches) if tracked.watches else self.config.min_interval
        floor = self._floor(cap)
        return min(cap, floor + self.config.growth * (now - tracked.since)) * self._slowdown

    def _degraded(self) -> bool:
        return self.mode != "list" or self._list_failures >= self.config.list_failures_before_fallback

    def _next_cycle_at(self, now: float) -> float:
        if not self._runs:
            return now + 3600.0
        if self._degraded():
            return min(t.next_check for t in self._runs.values())
        at = math.inf
        for tracked in self._runs.values():
            if tracked.status == "listed":
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
            log.info("Civis run poller for %s stopped; requests made: %s", self.hook.civis_conn_id, self.requests)
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

    def _fail_all(self, message: str) -> None:
        for tracked in list(self._runs.values()):
            self._finish(tracked, {"status": "error", "message": message})

    async def cycle(self) -> None:
        """One round: list calls (changes, sweep when due), then the single runs that need a look."""
        now = time.monotonic()
        if self.mode == "list":
            await self._list_step(now)
        due = [
            t for t in list(self._runs.values())
            if t.fetch_now or (t.next_check <= now and (self._degraded() or t.status != "listed"))
        ]
        if due:
            sem = asyncio.Semaphore(self.config.fetch_concurrency)

            async def one(tracked: _Tracked) -> None:
                async with sem:
                    await self._fetch(tracked)

            await asyncio.gather(*(one(t) for t in due))

    async def _list_step(self, now: float) -> None:
        try:
            gap = not await self._read_changes()
            if gap:
                self._seen.clear()
            listed = any(t.status == "listed" for t in self._runs.values())
            unverified = [t for t in self._runs.values()
                          if t.status != "listed" and not t.missed_by_sweep and t.next_check <= now]
            if self._runs and (gap or len(unverified) >= self._sweep_pages
                               or (listed and now - self._last_sweep >= self.config.sweep_interval)):
                await self._sweep()
        except CivisAPIError as err:
            self._seen.clear()
            if is_retryable(err):
                self._list_failures += 1
                if self._list_failures == self.config.list_failures_before_fallback:
                    log.warning("Civis list call failing (%s): checking runs one by one until it works", err)
                return
            self.mode = "per-run"
            log.warning("Civis GET /jobs is not usable (%s): falling back to per-run polling for %s",
                        err, self.hook.civis_conn_id)
            return
        if self._list_failures >= self.config.list_failures_before_fallback:
            log.info("Civis list call works again: back to list-based polling")
        self._list_failures = 0

    # -- list calls ----------------------------------------------------------------------------------
    async def _list_page(self, kind: str, params: dict[str, Any]) -> tuple[list[dict], int]:
        response = await self._get(kind, "/jobs", params={**params, "limit": self.config.page_size})
        items = response.json() or []
        try:
            total = int(response.headers.get("X-Pagination-Total-Entries", len(items)))
        except ValueError:
            total = len(items)
        return items, total

    async def _read_changes(self) -> bool:
        """Jobs whose last run changed since the last read; False if that read could not be reached."""
        floor = None if self._watermark is None else self._watermark - self.config.overlap
        newest, reached = None, False
        for page in range(1, max(2, self._sweep_pages) + 1):
            items, _ = await self._list_page(
                "changes", {"order": "last_run_updated_at", "order_dir": "desc", "page_num": page}
            )
            for item in items:
                stamp = _timestamp(item.get("lastRunUpdatedAt"))
                if stamp is None or (floor is not None and stamp < floor):
                    reached = True
                    break
                newest = stamp if newest is None else max(newest, stamp)
                self._apply(item)
            if reached or floor is None or len(items) < self.config.page_size:
                reached = True  # (a first read only sets the watermark)
                break
        if newest is not None:
            self._watermark = max(self._watermark or newest, newest)
        return reached

    async def _sweep(self) -> None:
        snapshot = list(self._runs.values())
        seen: set[int] = set()
        page, total = 1, 0
        while True:
            items, total = await self._list_page("sweep", {"state": "queued,running", "page_num": page})
            for item in items:
                seen.add(int(item["id"]))
                self._apply(item)
            if len(items) < self.config.page_size or page * self.config.page_size >= total:
                break
            page += 1
        self._sweep_pages = max(1, math.ceil(total / self.config.page_size))
        self._last_sweep = time.monotonic()
        now = time.monotonic()
        for tracked in snapshot:
            if tracked.ref in self._runs and tracked.ref.job_id not in seen:
                # Ended, replaced, skipped while pages shifted, or a job lists do not show. A run the change
                # list follows most likely just ended: the next change list says so; fetched if it does not.
                if tracked.status == "listed":
                    tracked.status, tracked.next_check = "unlisted", now + self._interval(tracked, now)
                else:
                    tracked.fetch_now = True
                tracked.missed_by_sweep = True

    def _apply(self, item: dict[str, Any], cached: bool = False) -> None:
        """What one job list item says about the watched runs of that job."""
        job_id = int(item.get("id") or 0)
        if not cached:
            if len(self._visible) > SEEN_LIMIT:
                self._visible.clear()
            self._visible.add(job_id)
            self._seen[job_id] = item
            self._seen.move_to_end(job_id)
            if len(self._seen) > SEEN_LIMIT:
                self._seen.popitem(last=False)
        refs = self._by_job.get(job_id)
        if not refs:
            return
        last = item.get("lastRun") or {}
        last_id = int(last.get("id") or 0)
        for ref in list(refs):
            if last_id < ref.run_id:
                continue  # the item was read before this run started: the next change list shows it
            tracked = self._runs[ref]
            if last_id == ref.run_id:
                if last.get("state") in TERMINAL_STATES:
                    self._finish(tracked, _outcome(last))
                elif last.get("state") in ACTIVE_STATES:
                    tracked.status, tracked.missed_by_sweep = "listed", False
            else:
                tracked.fetch_now = True  # the watched run was replaced by a newer run of its job

    # -- single runs ---------------------------------------------------------------------------------
    async def _fetch(self, tracked: _Tracked) -> None:
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
        if run.get("state") in TERMINAL_STATES:
            self._finish(tracked, _outcome(run))
            return
        now = time.monotonic()
        tracked.fetch_now = False
        # Still active. A job lists have shown (a sweep only skipped it while pages shifted) is followed by
        # the change list from now on; one they never show (hidden) is checked on its own.
        tracked.status = "listed" if tracked.ref.job_id in self._visible else "unlisted"
        tracked.next_check = now + self._interval(tracked, now)

    async def check_now(self, ref: RunRef) -> dict[str, Any] | None:
        """One direct look (for a watcher already past its deadline): the outcome if the run ended."""
        try:
            run = (await self._get("run", ref.path)).json() or {}
        except CivisError as err:
            log.warning("Last check of %s at its deadline failed: %s", ref, err)
            return None
        return _outcome(run) if run.get("state") in TERMINAL_STATES else None

    async def _get(self, kind: str, path: str, **kwargs: Any) -> Any:
        await self.bucket.take()
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


def _outcome(run: dict[str, Any]) -> dict[str, Any]:
    return {"status": run["state"], "error": run.get("error"), "finished_at": run.get("finishedAt")}
