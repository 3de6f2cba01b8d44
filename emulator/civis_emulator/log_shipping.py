"""When a run's log lines become visible: like the platform's log shipper, late and out of id order.

On Civis Platform a job's own output reaches the logs endpoint through a log shipper: a line gets its id
(and ``createdAt``) when it is emitted but is published a moment later, and the last lines of a failing
process (usually its traceback, flushed as it dies) arrive after the run is already ``failed`` and after
the platform's own lines, which have higher ids. A client that reads the tail the moment the run fails
misses the traceback (civis-python waits 15 s first); one that pages with ``last_id`` and never re-reads
skips the late lines (civis-python re-reads its newest lines).

The emulator does the same for the processes it runs (``runners/process.py``):

* each output line is published ``ship_lag`` seconds after it is emitted;
* when the process exits non-zero, the runner's line "Process exited with status N" is published at
  once, and the lines not published yet are held: published ``late_seconds`` after the run fails, the
  newest first, each older one ``spacing`` seconds later;
* when it succeeds or is cancelled, the lines not published yet are published at once.

The logs endpoint answers ``Civis-Cache-Control: no-store`` while a run is active or has unpublished
lines, as the API does while more lines may come. Settings come from the environment when the emulator
is imported (``CIVIS_EMULATOR_LOG_SHIP_LAG``, ``CIVIS_EMULATOR_LATE_LOG_SECONDS``,
``CIVIS_EMULATOR_LATE_LOG_SPACING``); an in-process emulator can change :data:`SHIPPING` directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass
class LogShipping:
    ship_lag: float = 0.5
    late_seconds: float = 1.0
    spacing: float = 0.05


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    value = float(raw)
    if value < 0:
        raise ValueError(f"{name} must be a number of seconds >= 0, got {raw!r}")
    return value


def from_environment() -> LogShipping:
    d = LogShipping()
    return LogShipping(
        ship_lag=_seconds("CIVIS_EMULATOR_LOG_SHIP_LAG", d.ship_lag),
        late_seconds=_seconds("CIVIS_EMULATOR_LATE_LOG_SECONDS", d.late_seconds),
        spacing=_seconds("CIVIS_EMULATOR_LATE_LOG_SPACING", d.spacing),
    )


#: The settings every emulator in this process uses.
SHIPPING = from_environment()
