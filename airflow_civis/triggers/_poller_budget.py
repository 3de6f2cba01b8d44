"""The shared poller's request budget and settings: :class:`PollerConfig` and :class:`TokenBucket`."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, fields
from typing import Any

MAX_PAGE_SIZE = 50  # GET /jobs: "limit ... Defaults to its maximum of 50"
NO_RETRY = {"max_attempts": 1}  # the poller's cycle is the retry loop: it sees every 429 itself


@dataclass(frozen=True)
class PollerConfig:
    """Tuning; a connection's extra ``{"poller": {...}}`` overrides any of these."""

    min_interval: float = 1.0  # first checks of a run (never above the trigger's poll_interval)
    growth: float = 0.05  # the interval grows by this share of the run's age, up to poll_interval
    requests_per_second: float = 10.0  # the connection's budget in this process...
    burst: int = 50  # ...and how many requests may go at once
    sweep_interval: float = 60.0  # the active-set safety net
    page_size: int = 50  # GET /jobs: "Defaults to its maximum of 50"; never more
    overlap: float = 1.0  # seconds re-read by the change list (commit-order skew on the server)
    list_failures_before_fallback: int = 3
    max_slowdown: float = 8.0
    fetch_concurrency: int = 8

    @classmethod
    def from_extra(cls, value: Any) -> PollerConfig:
        if not isinstance(value, dict):
            raise ValueError(f"extra 'poller' must be a mapping, got {type(value).__name__}")
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise ValueError(f"unknown poller option(s) {unknown}; use: {sorted(known)}")
        typed: dict[str, Any] = {k: (int(v) if known[k] == "int" else float(v)) for k, v in value.items()}
        config = cls(**typed)
        if min(config.min_interval, config.requests_per_second, config.burst, config.page_size) <= 0:
            raise ValueError("poller intervals, budget and page size must be > 0")
        if config.page_size > MAX_PAGE_SIZE:
            raise ValueError(f"poller page_size {config.page_size} is above the API's maximum of "
                             f"{MAX_PAGE_SIZE} for GET /jobs; use at most {MAX_PAGE_SIZE}")
        return config


class TokenBucket:
    """``requests_per_second`` with bursts of ``burst``; ``pause`` holds every caller (429 Retry-After)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = float(rate)
        self.capacity = max(1.0, float(burst))
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)

    async def take(self) -> None:
        async with self._lock:  # first come, first served
            while True:
                now = time.monotonic()
                if now < self.paused_until:
                    await asyncio.sleep(self.paused_until - now)
                    continue
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)
