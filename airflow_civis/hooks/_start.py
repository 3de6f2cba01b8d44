"""Start exactly one run even when the POST that starts it fails ambiguously, with the waiting and
stopping decided by the connection's ``RetryPolicy`` (through tenacity, like every other retry).

A run-starting POST is never repeated blindly. When it fails in a way that may have taken effect
(500/502/504, dropped after sending, read timeout), we wait (the policy's full backoff step, no jitter, so
a request still in flight can land) and look for the run it may have started: found, it is adopted; not
found, starting again is safe. A 409 ("already running") after such a failure means the earlier attempt
landed late, so we look again. After the last POST we still wait and look once before giving up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import tenacity

from airflow_civis.exceptions import CivisAPIError
from airflow_civis.hooks._retry import RetryPolicy, may_have_taken_effect, settle_seconds, tenacity_arguments

#: The most POSTs one start makes (fewer if the policy allows fewer attempts).
START_ATTEMPTS = 5

T = TypeVar("T")


class _StartUncertain(Exception):
    """The POST failed in a way that may have started a run: wait, then look for it."""

    def __init__(self, err: CivisAPIError) -> None:
        super().__init__(str(err))
        self.err = err


def start_exactly_once(
    policy: RetryPolicy,
    log: Any,
    post: Callable[[], T],
    find: Callable[[], T | None],
    describe: str,
    *,
    label: str = "Reconciling Civis run start",
) -> T:
    """``post()`` until it answers, adopting what ``find()`` returns after an ambiguous failure.

    :param post: starts the run (one API call, with its own request-level retries).
    :param find: the run a lost POST started, or None (compares with a baseline read before the first POST).
    :param describe: the POST, for log lines (``POST /scripts/python3/5/runs``).
    """
    posts = max(1, min(START_ATTEMPTS, policy.max_attempts))
    uncertain: list[CivisAPIError] = []

    def attempt() -> T:
        if uncertain:
            found = find()
            done = len(uncertain) >= posts
            log.warning(
                "%s: %s failed ambiguously (%s); %s", label, describe, uncertain[-1],
                f"adopting {found}, which that attempt started" if found is not None
                else "giving up" if done else "no run was started, starting again",
            )
            if found is not None:
                return found
            if done:
                raise uncertain[-1]
        try:
            return post()
        except CivisAPIError as err:
            if not (may_have_taken_effect(err) or (uncertain and err.status == 409)):
                raise
            uncertain.append(err)
            raise _StartUncertain(err) from err

    retrying = tenacity.Retrying(**tenacity_arguments(
        policy, log, retry_if=lambda exc: isinstance(exc, _StartUncertain), honour_retry_after=False,
        wait_seconds=lambda p, n, _after, _elapsed: settle_seconds(p, n), what=describe,
    ))
    # One more attempt than POSTs: the last one only looks. The delay cap does not apply here (stopping
    # early would skip that last look), so only the attempt count stops it.
    retrying.stop = tenacity.stop_after_attempt(posts + 1)
    return retrying(attempt)
