"""What the shared poller knows about one run, and the rules it reads ``GET /jobs`` items by.

Kept apart from the loop (:mod:`.poller`) so the rules (when has a run ended, what a list item proves
about ``lastRunUpdatedAt``) can be read and unit-tested on their own.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from airflow_civis.runs import ACTIVE_STATES, RunRef
from airflow_civis.triggers._poller_budget import MAX_PAGE_SIZE as MAX_PAGE_SIZE

if TYPE_CHECKING:
    from airflow_civis.triggers.poller import RunPoller

RUN_STATES = "queued,running,succeeded,failed,cancelled"  # the spec's state filter: never-run jobs excluded
ENDED_STATES = "succeeded,failed,cancelled"
# A finished item tells the semantics apart only if its run lasted long enough to separate its stamps.
EVIDENCE_MIN_RUN_S = 1.0
STAMP_TOLERANCE_S = 0.25


class TrackStatus(str, Enum):
    """How the poller follows one watched run."""

    NEW = "new"  # registered, not verified yet
    LISTED = "listed"  # a list showed its job with this run active: list calls follow it
    UNLISTED = "unlisted"  # no list shows its job: checked on its own


class PollMode(str, Enum):
    LIST = "list"  # list calls, per-run GETs only where they cannot answer
    PER_RUN = "per-run"  # GET /jobs proved unusable (400/401/403/404/501): every run on its own


class StampSemantics(str, Enum):
    """What moves a job's ``lastRunUpdatedAt`` (the spec does not say; learned from list items)."""

    UNKNOWN = "unknown"  # treated as CREATION_ONLY until an item proves otherwise
    EVERY_CHANGE = "every-change"  # a run's end moves it: the change list shows every end
    CREATION_ONLY = "creation-only"  # only a new run moves it: ends are found through the active list


class View(str, Enum):
    """``GET /jobs`` shows hidden jobs only when asked (``hidden=true``), and then only those."""

    HIDDEN = "true"  # what the provider creates (like civis-python's io helpers): read first
    VISIBLE = "false"


def is_active(state: Any) -> bool:
    """Only queued and running go on; any other state (``success`` included, as civis-python has it) ends."""
    return state in ACTIVE_STATES


def timestamp(value: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() if value else None
    except ValueError:
        return None


def outcome(run: dict[str, Any]) -> dict[str, Any]:
    return {"status": run["state"], "error": run.get("error"), "finished_at": run.get("finishedAt")}


def stamp_evidence(item: dict[str, Any]) -> StampSemantics | None:
    """What one list item proves: its run ended well after it was created, and the stamp is either at
    the end (it moves on state changes) or before it (it does not); None if the item cannot tell."""
    last = item.get("lastRun") or {}
    if not last.get("state") or is_active(last.get("state")):
        return None
    stamp, created, finished = (timestamp(v) for v in
                                (item.get("lastRunUpdatedAt"), last.get("createdAt"), last.get("finishedAt")))
    if stamp is None or created is None or finished is None or finished - created < EVIDENCE_MIN_RUN_S:
        return None
    return StampSemantics.EVERY_CHANGE if stamp >= finished - STAMP_TOLERANCE_S else StampSemantics.CREATION_ONLY


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
class Tracked:
    """One watched run (shared by every watcher of it)."""

    ref: RunRef
    since: float
    watches: set[Watch] = field(default_factory=set)
    status: TrackStatus = TrackStatus.NEW
    next_check: float = 0.0
    fetch_now: bool = False
    view: View | None = None  # where lists show its job, once one has
    stamp: float | None = None  # its job's lastRunUpdatedAt when a list last showed this run active
    misses: int = 0  # active list read without it, ended list read as far as its stamp without it

    def views(self) -> tuple[View, ...]:
        return (self.view,) if self.view is not None else tuple(View)
