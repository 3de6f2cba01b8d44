"""The poll behind CivisJobEventTrigger: one ``GET /jobs`` reader per connection, yielding what changed.

It does not know which jobs are watched (on Airflow 3.3 one reader serves every watcher of a
connection through the triggerer's shared stream), so each cycle it reports every job whose last run
it saw change, as ``{"jobs": {"<job id>": {"id", "lastRun", "lastRunUpdatedAt"}}}``:

* **change list** -- ``GET /jobs?state=<run states>&order=last_run_updated_at&order_dir=desc``, paged
  back to the previous read (minus an overlap): every job whose run was created (or, where the stamp
  moves on every change, also ended) since. A first read takes one page.
* **active list** -- ``GET /jobs?state=queued,running``, every page, on the first cycle and then only
  while some job is known to be active: the spec does not say that ``lastRunUpdatedAt`` moves when a
  run *ends*, so a job whose run was last seen active is re-read here until it leaves this list;
* **look-up** -- ``GET /jobs/{id}`` for each job that left the active list without showing up in the
  change list: its ``lastRun`` says how the run ended.

Cost: one request per cycle while nothing runs, two plus one per ended run otherwise; independent of
how many triggers watch. ``hidden`` picks the view (``GET /jobs`` lists hidden jobs only with
``hidden=true``), so one reader serves one view.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from airflow_civis.exceptions import CivisAPIError, CivisError
from airflow_civis.hooks._retry import is_retryable
from airflow_civis.runs import ACTIVE_STATES, TERMINAL_STATES
from airflow_civis.triggers._job_pages import items_and_total

log = logging.getLogger("airflow_civis.triggers.events")

PAGE_SIZE = 50  # the spec's maximum for GET /jobs
MAX_CHANGE_PAGES = 20  # a burst bigger than this many pages per cycle is read partly (logged)
OVERLAP_SECONDS = 2.0  # re-read this far behind the previous newest stamp: equal stamps, clock steps
RUN_STATES = ",".join(sorted(ACTIVE_STATES - {"paused"} | TERMINAL_STATES))


def _stamp(item: dict[str, Any]) -> float | None:
    value = item.get("lastRunUpdatedAt")
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _summary(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item.get("id"), "lastRun": item.get("lastRun"), "lastRunUpdatedAt": item.get("lastRunUpdatedAt")}


def _active(item: dict[str, Any]) -> bool:
    return ((item.get("lastRun") or {}).get("state")) in ACTIVE_STATES


class JobListReader:
    """One cycle at a time; keeps the change list's watermark and the jobs last seen active."""

    def __init__(self, hook: Any, hidden: bool) -> None:
        self.hook = hook
        self.hidden = bool(hidden)
        self.watermark: float | None = None
        self.active: set[int] = set()
        self.first = True
        self.requests = 0

    async def _list(self, params: dict[str, Any], page: int) -> tuple[list[dict[str, Any]], int]:
        self.requests += 1
        response = await self.hook.request("GET", "/jobs", params={
            **params, "hidden": str(self.hidden).lower(), "limit": PAGE_SIZE, "page_num": page})
        return items_and_total(response)

    async def cycle(self) -> dict[str, dict[str, Any]]:
        """Read once; return ``{job id: summary}`` for every job whose last run may have changed."""
        seen: dict[str, dict[str, Any]] = {}
        changed = await self._read_changes(seen)
        if self.first or self.active:
            await self._read_active(seen, changed)
        self.first = False
        return seen

    async def _read_changes(self, seen: dict[str, dict[str, Any]]) -> set[int]:
        floor = None if self.watermark is None else self.watermark - OVERLAP_SECONDS
        params = {"state": RUN_STATES, "order": "last_run_updated_at", "order_dir": "desc"}
        newest, changed = self.watermark, set()
        for page in range(1, MAX_CHANGE_PAGES + 1):
            items, _ = await self._list(params, page)
            reached = False
            for item in items:
                stamp = _stamp(item)
                if stamp is None:
                    continue
                if floor is not None and stamp < floor:
                    reached = True
                    break
                newest = stamp if newest is None else max(newest, stamp)
                self._note(item, seen)
                changed.add(int(item["id"]))
            if reached or len(items) < PAGE_SIZE or floor is None:
                break
        else:
            log.warning("More than %d pages of Civis jobs changed in one cycle; poll more often", MAX_CHANGE_PAGES)
        self.watermark = newest
        return changed

    async def _read_active(self, seen: dict[str, dict[str, Any]], changed: set[int]) -> None:
        still: set[int] = set()
        page = 1
        while True:
            items, total = await self._list({"state": "queued,running"}, page)
            for item in items:
                still.add(int(item["id"]))
                self._note(item, seen)
            if len(items) < PAGE_SIZE or page * PAGE_SIZE >= total:
                break
            page += 1
        left = self.active - still - changed
        self.active = (self.active - left) | still
        for job_id in sorted(left):
            self.requests += 1
            try:
                item = await self.hook.call("GET", f"/jobs/{job_id}")
            except CivisAPIError as err:
                if err.status != 404:
                    raise
                self.active.discard(job_id)  # deleted: nothing more to report
                continue
            self._note(item, seen)

    def _note(self, item: dict[str, Any], seen: dict[str, dict[str, Any]]) -> None:
        job_id = int(item["id"])
        seen[str(job_id)] = _summary(item)
        if _active(item):
            self.active.add(job_id)
        else:
            self.active.discard(job_id)


async def job_changes(civis_conn_id: str, hidden: bool, poll_interval: float) -> AsyncIterator[dict[str, Any]]:
    """Yield ``{"jobs": {...}}`` forever, one per cycle that saw something; raise on a permanent API error.

    A retryable failure (after the hook's own retries) skips a cycle; the watermark stays, so the next
    read goes back as far as the last good one.
    """
    from airflow_civis.hooks.civis_async import CivisAsyncHook

    async with CivisAsyncHook(civis_conn_id) as hook:
        reader = JobListReader(hook, hidden)
        while True:
            try:
                jobs = await reader.cycle()
            except CivisError as err:
                if not is_retryable(err):
                    raise
                log.warning("Reading Civis jobs failed (%s); trying again next cycle", err)
                jobs = {}
            if jobs:
                yield {"jobs": jobs}
            await asyncio.sleep(poll_interval)
