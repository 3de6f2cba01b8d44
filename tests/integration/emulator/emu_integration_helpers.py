from __future__ import annotations

import time

KEY = "integration-test-key"


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def wait_run(http, url: str, states=("succeeded", "failed", "cancelled"), timeout: float = 30.0) -> dict:
    def done():
        run = http.get(url).json()
        return run if run["state"] in states else None
    return wait_for(done, timeout)
