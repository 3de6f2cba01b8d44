"""Request and run counters behind ``GET /_emulator/stats`` (in memory; reset by ``POST /_emulator/reset-stats``)."""

from __future__ import annotations

import threading
from collections import Counter


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter = Counter()
        self._runs_started: Counter = Counter()

    def record_request(self, method: str, route: str, status: int) -> None:
        with self._lock:
            self._requests[(method, route, status)] += 1

    def record_run_started(self, job_id: int) -> None:
        with self._lock:
            self._runs_started[str(job_id)] += 1

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._runs_started.clear()

    def snapshot(self) -> dict:
        with self._lock:
            requests = [
                {"method": m, "route": r, "status": s, "count": n}
                for (m, r, s), n in sorted(self._requests.items())
            ]
            return {
                "requests": requests,
                "total_requests": sum(self._requests.values()),
                "runs_started": dict(self._runs_started),
            }
