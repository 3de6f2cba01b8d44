"""Following a Civis run's log: every line exactly once, even the ones the platform delivers late.

The platform gives a log line its id when the line is emitted but publishes it through a log shipper,
so a line can appear after lines with higher ids, and a failing run's traceback often appears only
after the run is already ``failed``. civis-python copes in two ways, and so do we:

* ``civis.utils.job_logs`` does not trust a ``last_id`` cursor at the newest id: it re-reads its newest
  lines and skips ids it has already yielded. :class:`RunLogFollower` re-reads the newest
  ``REFETCH_COUNT`` lines it has seen (their ids, not their text, are kept), and its final read
  (:meth:`RunLogFollower.read_all`) starts from the first line;
* ``CivisFuture._exception_from_logs`` waits (a flat 15 s) before reading a failed run's tail.
  :meth:`RunLogFollower.wait_for_late_lines` waits at most that long, and stops as soon as the API says
  no more lines will come (``Civis-Cache-Control`` other than ``no-store``, which ``job_logs`` reads too).
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_civis.runs import RunRef

if TYPE_CHECKING:
    from airflow_civis.hooks.civis import CivisHook

#: How many of the newest lines already seen each read asks for again (civis-python re-reads 100).
REFETCH_COUNT = 100


class LogLines(list[dict[str, Any]]):
    """Log lines (dicts with ``id``, ``createdAt``, ``message``, ``level``) oldest id first, and what
    the response said about the rest of the log."""

    #: True when the API said no more lines will come (``Civis-Cache-Control`` is not ``no-store``).
    final: bool = False
    #: The API's ``Civis-Max-Id``: the highest id published so far (None before any line).
    max_id: int | None = None


def log_lines(items: list[dict[str, Any]], headers: Any) -> LogLines:
    """``items`` sorted by id, with the two log headers of the response read."""
    lines = LogLines(sorted(items, key=lambda line: line.get("id") or 0))
    cache = headers.get("Civis-Cache-Control")
    lines.final = cache is not None and cache.strip().lower() != "no-store"  # absent: assume more may come
    max_id = headers.get("Civis-Max-Id")
    lines.max_id = int(max_id) if max_id not in (None, "") else None
    return lines


class RunLogFollower:
    """Reads one run's new log lines, each once, however late or out of id order they are published."""

    def __init__(self, hook: CivisHook, run: RunRef, refetch: int = REFETCH_COUNT) -> None:
        self.hook = hook
        self.run = run
        self.refetch = refetch
        self.final = False
        self._seen: list[int] = []  # sorted ids of every line returned so far
        self._seen_set: set[int] = set()

    def _cursor(self) -> int:
        """Ask from below the newest ``refetch`` lines seen, so a late line just under them is found."""
        return 0 if len(self._seen) <= self.refetch else self._seen[-self.refetch - 1]

    def _read_from(self, cursor: int) -> list[dict[str, Any]]:
        lines = self.hook.get_run_logs(self.run, last_id=cursor)
        self.final = bool(getattr(lines, "final", False))
        new = []
        for line in lines:
            line_id = line.get("id")
            if line_id is None or line_id in self._seen_set:
                continue
            self._seen_set.add(line_id)
            bisect.insort(self._seen, line_id)
            new.append(line)
        return new

    def read_new(self) -> list[dict[str, Any]]:
        """Lines not returned before, oldest id first."""
        return self._read_from(self._cursor())

    def read_all(self) -> list[dict[str, Any]]:
        """Like :meth:`read_new`, reading the whole log again: after this no published line is missing."""
        return self._read_from(0)

    def wait_for_late_lines(
        self, timeout: float, interval: float, on_lines: Callable[[list[dict[str, Any]]], None]
    ) -> float:
        """Read until the API says the log is complete, or for ``timeout`` seconds; ``on_lines`` gets
        each batch of new lines. Returns the seconds waited."""
        started = time.monotonic()
        deadline = started + timeout
        while True:
            new = self.read_new()
            if new:
                on_lines(new)
            now = time.monotonic()
            if self.final or now >= deadline:
                return now - started
            time.sleep(min(interval, deadline - now))
