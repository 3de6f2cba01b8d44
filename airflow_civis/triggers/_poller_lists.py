"""The shared poller's list calls (``GET /jobs``): probe, change list, active list and ended look-up.

A mixin of :class:`~airflow_civis.triggers.poller.RunPoller`, kept apart so each file has one job: this
one decides which pages to read and hands every item to ``RunPoller._apply``. See the poller's module
docstring for the strategy; the rules about single items live in :mod:`._poller_model`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from airflow_civis.runs import RunRef
from airflow_civis.triggers._job_pages import items_and_total
from airflow_civis.triggers._poller_budget import PollerConfig
from airflow_civis.triggers._poller_model import (
    ENDED_STATES,
    MAX_PAGE_SIZE,
    RUN_STATES,
    StampSemantics,
    Tracked,
    TrackStatus,
    View,
    stamp_evidence,
    timestamp,
)

log = logging.getLogger("airflow_civis.triggers.poller")
LOOKUP_BATCH = 3  # ended-list pages read at once (fewer round trips; at most two pages read for nothing)


class ListReads:
    config: PollerConfig
    semantics: StampSemantics
    _runs: dict[RunRef, Tracked]
    _seen: OrderedDict[int, dict[str, Any]]
    _probed: bool
    _watermark: dict[View, float | None]
    _last_sweep: dict[View, float]
    _sweep_pages: dict[View, int]
    _window_pages: dict[View, int]
    _sweep_total: dict[View, int]  # jobs the last active list had...
    _ended_since_sweep: dict[View, int]  # ...and how many watched runs in it ended since

    if TYPE_CHECKING:  # provided by RunPoller and its Answers (declared only, so nothing shadows them)

        async def _get(self, kind: str, path: str, **kwargs: Any) -> Any: ...

        def _apply(self, item: dict[str, Any], view: View | None, cached: bool = False) -> None: ...

    # -- one cycle's list calls ----------------------------------------------------------------------
    async def _read_lists(self, now: float) -> None:
        if self.semantics is StampSemantics.UNKNOWN and not self._probed:
            await self._probe()
        swept: set[View] = set()
        shown: set[int] = set()
        before = list(self._runs.values())  # a run registered while pages are read is not "gone"
        for view in View:  # hidden first: the provider's own jobs; the other only if still needed
            if not any(view in t.views() for t in self._runs.values()):
                continue
            found = await self._read_view(view, now)
            if found is not None:
                shown |= found
                swept.add(view)
        if swept:
            gone = [t for t in before
                    if t.ref in self._runs and t.status is not TrackStatus.UNLISTED
                    and t.ref.job_id not in shown and set(t.views()) <= swept]
            await self._look_up_ended(gone)

    async def _read_view(self, view: View, now: float) -> set[int] | None:
        """One view's list calls; the jobs the active list showed, or None if it was not read. Reads that
        do not depend on each other go at once (one round trip instead of two or three per cycle): the
        change list alongside the ended window, or alongside the active list when that is due anyway."""
        if self.semantics is StampSemantics.EVERY_CHANGE:
            return await self._sweep(view) if await self._sweep_due(view, now) else None
        if self._sweep_overdue(view, now) or not self._window_fits(view):
            _, shown = await asyncio.gather(self._sweep_due(view, now), self._sweep(view))
            return shown
        due, window = await asyncio.gather(self._sweep_due(view, now), self._read_window(view))
        return await self._sweep(view) if due or not window else None

    async def _list_page(self, kind: str, view: View, params: dict[str, Any], page: int) -> tuple[list[dict], int]:
        limit = min(self.config.page_size, MAX_PAGE_SIZE)
        response = await self._get(kind, "/jobs", params={
            **params, "hidden": view.value, "limit": limit, "page_num": page})
        return items_and_total(response)

    def _page_size(self) -> int:
        return min(self.config.page_size, MAX_PAGE_SIZE)

    # -- what items prove about lastRunUpdatedAt ------------------------------------------------------
    def _learn(self, item: dict[str, Any]) -> None:
        found = stamp_evidence(item)
        if found is None or found is self.semantics or self.semantics is StampSemantics.CREATION_ONLY:
            return
        log.info("Civis lastRunUpdatedAt semantics: %s (job %s); %s", found.value, item.get("id"),
                 "following the change list" if found is StampSemantics.EVERY_CHANGE
                 else "finding ended runs through the active list")
        self.semantics = found

    @staticmethod
    def _stamp(item: dict[str, Any]) -> float | None:
        return timestamp(item.get("lastRunUpdatedAt"))

    async def _probe(self) -> None:
        """Once: the newest ended jobs, to learn the semantics before the first run of ours ends."""
        self._probed = True
        for view in View:
            items, _ = await self._list_page("probe", view, {
                "state": ENDED_STATES, "order": "last_run_updated_at", "order_dir": "desc"}, 1)
            for item in items:
                self._apply(item, view)
            if self.semantics is not StampSemantics.UNKNOWN:
                return

    # -- every change: the change list, and when the active list is due ------------------------------
    async def _sweep_due(self, view: View, now: float) -> bool:
        """Reads the change list (new runs, replaced runs, and every end if stamps follow changes), then
        says whether the active list is needed this cycle."""
        gap = not await self._read_changes(view)
        if gap:
            self._seen.clear()
        unverified = [t for t in self._runs.values()
                      if view in t.views() and t.status is TrackStatus.NEW and t.next_check <= now]
        return gap or len(unverified) >= self._sweep_pages[view] or self._sweep_overdue(view, now)

    def _sweep_overdue(self, view: View, now: float) -> bool:
        """The safety net: the active list every ``sweep_interval`` while lists follow some run there."""
        return now - self._last_sweep[view] >= self.config.sweep_interval and any(
            t.status is TrackStatus.LISTED and view in t.views() for t in self._runs.values())

    async def _read_changes(self, view: View) -> bool:
        """Jobs whose last run changed since the last read; False if that read could not be reached
        (or there was none: what changed before this first read is verified by the active list)."""
        watermark = self._watermark[view]
        floor = None if watermark is None else watermark - self.config.overlap
        newest, reached = None, False
        params = {"state": RUN_STATES, "order": "last_run_updated_at", "order_dir": "desc"}
        for page in range(1, max(2, self._sweep_pages[view]) + 1):
            items, _ = await self._list_page("changes", view, params, page)
            for item in items:
                stamp = self._stamp(item)
                if stamp is None:
                    continue  # never run (PostgreSQL sorts NULLs first under DESC): not a change
                if floor is not None and stamp < floor:
                    reached = True
                    break
                newest = stamp if newest is None else max(newest, stamp)
                self._apply(item, view)
            if reached or len(items) < self._page_size():
                reached = True  # back to the previous read, or the whole list read
                break
            if floor is None:
                break  # a first read: its first page sets the watermark
        if newest is not None:
            self._watermark[view] = max(watermark or newest, newest)
        return reached

    def _window_stamps(self, view: View) -> list[float]:
        return [t.stamp for t in self._runs.values()
                if t.view is view and t.status is TrackStatus.LISTED and t.stamp is not None]

    def _window_fits(self, view: View) -> bool:
        """The ended window is worth reading: something to find there, in fewer pages than the active list."""
        return bool(self._window_stamps(view)) and self._window_pages[view] <= self._sweep_pages[view] - 1

    async def _read_window(self, view: View) -> bool:
        """Ends without the active list: every listed run that ended is in the ended list at or above
        its own stamp (stamps never move back, whichever semantics hold). Read while that costs fewer
        pages than the active list; False (the active list is read instead) when it would not. The pages
        the last window took are read at once, then a few at a time."""
        stamps = self._window_stamps(view)
        budget = self._sweep_pages[view] - 1
        if not stamps or self._window_pages[view] > budget:
            return False
        floor = min(stamps) - self.config.overlap
        params = {"state": ENDED_STATES, "order": "last_run_updated_at", "order_dir": "desc"}
        first, last = 1, min(budget, self._window_pages[view])
        while first <= budget:
            pages = await asyncio.gather(*(self._list_page("window", view, params, p) for p in range(first, last + 1)))
            for page, (items, _) in enumerate(pages, start=first):
                for item in items:
                    self._apply(item, view)
                oldest = self._stamp(items[-1]) if items else None
                if len(items) < self._page_size() or (oldest is not None and oldest < floor):
                    self._window_pages[view] = page
                    return True
            first, last = last + 1, min(budget, last + LOOKUP_BATCH)
        self._window_pages[view] = budget + 1
        return False

    # -- the active list, and where jobs that left it went --------------------------------------------
    async def _sweep(self, view: View) -> set[int]:
        """The whole active list, its pages at once (a job missed while pages shift is looked up)."""
        shown: set[int] = set()
        params = {"state": "queued,running"}
        # As many pages as the last read had, less the watched runs that ended since, at once (one round
        # trip); more if the list grew since.
        expected = self._sweep_total[view] - self._ended_since_sweep[view]
        answers = await asyncio.gather(*(self._list_page("sweep", view, params, p)
                                         for p in range(1, max(1, math.ceil(expected / self._page_size())) + 1)))
        pages = [items for items, _ in answers]
        total = max(total for _, total in answers)
        if total > len(pages) * self._page_size():
            more = range(len(pages) + 1, math.ceil(total / self._page_size()) + 1)
            pages += [i for i, _ in await asyncio.gather(*(self._list_page("sweep", view, params, p) for p in more))]
        for items in pages:
            for item in items:
                shown.add(int(item["id"]))
                self._apply(item, view)
        self._sweep_pages[view] = max(1, math.ceil(total / self._page_size()))
        self._sweep_total[view], self._ended_since_sweep[view] = total, 0
        self._last_sweep[view] = time.monotonic()
        return shown

    async def _look_up_ended(self, gone: list[Tracked]) -> None:
        """Runs whose jobs left the active list ended or were replaced: their jobs' items in the ended
        list say which. A run not found where the ended list was read as far as its stamp was skipped
        while the active list's pages shifted (jobs ending between two pages move the rest up): the next
        active list shows it, or, missed twice, it is fetched. Anything else unanswered is fetched."""
        covered: set[View] = set()
        for view in View:
            wanted = [t for t in gone if view in t.views() and t.ref in self._runs]
            if wanted and await self._read_ended(view, wanted):
                covered.add(view)
        for tracked in gone:
            if tracked.ref not in self._runs or tracked.fetch_now:
                continue
            # A second chance (the next active list) where the ended list was read as far as the run's
            # stamp, or for a new run with no stamp yet (most likely skipped while pages shifted).
            if tracked.misses == 0 and (tracked.stamp is None or set(tracked.views()) <= covered):
                tracked.misses = 1
            else:
                tracked.fetch_now = True

    async def _read_ended(self, view: View, wanted: list[Tracked]) -> bool:
        """Newest stamp first, only as far as the oldest stamp wanted (a stamp never moves back, whichever
        semantics hold) and only while a page costs less than fetching the rest; True if that far."""
        stamps = [t.stamp for t in wanted if t.stamp is not None]  # a new run without one has a second chance
        floor = min(stamps) - self.config.overlap if stamps else None
        params = {"state": ENDED_STATES, "order": "last_run_updated_at", "order_dir": "desc"}
        read = 0
        while True:
            missing = [t for t in wanted if t.ref in self._runs and not t.fetch_now]
            if not missing:
                return True
            if read >= len(missing):
                return False
            batch = range(read + 1, read + 1 + min(LOOKUP_BATCH, len(missing) - read))  # a few pages at once
            read += len(batch)
            for items, _ in await asyncio.gather(*(self._list_page("ended", view, params, p) for p in batch)):
                for item in items:
                    self._apply(item, view)
                oldest = self._stamp(items[-1]) if items else None
                if len(items) < self._page_size() or (floor is not None and oldest is not None and oldest < floor):
                    return True
