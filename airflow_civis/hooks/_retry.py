"""One retry policy for the sync and the async hook: what is retried, how long to wait, when to stop.

Rules (issue: a retry must never start a second run):

* idempotent methods (GET, HEAD, PUT, PATCH, DELETE, OPTIONS) are retried on 429, 500, 502, 503, 504 and on
  any transport error (failure to connect, timeout, dropped connection);
* POST is retried only when it cannot have taken effect: 429, 503, or a failure to *connect*
  (the request never left this machine). A 502/504, a read timeout or a dropped connection after the
  request was sent may have started a run, so it is surfaced instead of repeated.

Waits honour ``Retry-After`` (seconds or an HTTP date), otherwise exponential backoff with full jitter,
and never exceed what is left of ``max_total_seconds``.

This module is the only place a retry is decided: :func:`tenacity_arguments` builds every retry the
provider makes (one API request in either hook, a harmless create repeated after an ambiguous failure,
the run-start reconciliation in ``_start``, the lifecycle's start-over, the file data plane) from the
connection's policy, each with its own predicate.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"})
RETRY_STATUSES_IDEMPOTENT = frozenset({429, 500, 502, 503, 504})
RETRY_STATUSES_POST = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    """Plain data (it travels into the triggerer): validated when built, so bad values fail at parse time."""

    # As patient as civis-python's default (10 attempts within 600 s, waits of up to 60 s): a call the
    # official client would survive must not make a task fail.
    max_attempts: int = 10
    max_total_seconds: float = 600.0
    backoff_initial: float = 0.5
    backoff_max: float = 60.0

    def __post_init__(self) -> None:
        if not isinstance(self.max_attempts, int) or isinstance(self.max_attempts, bool) or self.max_attempts < 1:
            raise ValueError(f"retry.max_attempts must be an integer >= 1, got {self.max_attempts!r}")
        for name in ("max_total_seconds", "backoff_initial", "backoff_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"retry.{name} must be a number >= 0, got {value!r}")

    @classmethod
    def from_value(cls, value: RetryPolicy | dict[str, Any] | None) -> RetryPolicy:
        """Accept a policy, a dict from YAML/JSON, or None (defaults); name unknown keys in the error."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict):
            raise ValueError(f"retry must be a mapping like {{'max_attempts': 5}}, got {type(value).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"Unknown retry option(s) {unknown}; use: {sorted(known)}")
        return cls(**value)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def should_retry_status(method: str, status: int) -> bool:
    statuses = RETRY_STATUSES_IDEMPOTENT if method.upper() in IDEMPOTENT_METHODS else RETRY_STATUSES_POST
    return status in statuses


def should_retry_transport(method: str, *, request_sent: bool) -> bool:
    """Transport failures: always for idempotent methods, for POST only if nothing was sent."""
    return method.upper() in IDEMPOTENT_METHODS or not request_sent


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_seconds(policy: RetryPolicy, attempt: int, retry_after: float | None, elapsed: float) -> float:
    """Wait before attempt ``attempt + 1``: Retry-After if given, else full-jitter exponential; capped."""
    if retry_after is not None:
        wait = retry_after
    else:
        ceiling = min(policy.backoff_max, policy.backoff_initial * (2 ** max(0, attempt - 1)))
        wait = random.uniform(0, ceiling)
    remaining = policy.max_total_seconds - elapsed
    return max(0.0, min(wait, remaining))


def settle_seconds(policy: RetryPolicy, attempt: int) -> float:
    """Wait before looking for the effect of an ambiguous call: the full backoff step, no jitter, so a
    request still in flight has had time to land before we decide that it did not."""
    return min(policy.backoff_max, policy.backoff_initial * (2 ** max(0, attempt - 1)), policy.max_total_seconds)


#: A call that failed after it may have reached the server (no answer after sending, or 500/502/504).
AMBIGUOUS_STATUSES = frozenset({500, 502, 504})


def may_have_taken_effect(err: BaseException) -> bool:
    """A failed call the server may still have carried out: no answer after sending, or a 500/502/504."""
    from airflow_civis.exceptions import CivisAPIError, CivisTransportError

    if isinstance(err, CivisTransportError):
        return err.request_sent
    return isinstance(err, CivisAPIError) and err.status in AMBIGUOUS_STATUSES


def is_retryable(exc: BaseException) -> bool:
    """The single predicate both hooks give tenacity for one API request."""
    from airflow_civis.exceptions import CivisAPIError, CivisTransportError

    if isinstance(exc, CivisTransportError):
        return should_retry_transport(exc.method, request_sent=exc.request_sent)
    if isinstance(exc, CivisAPIError) and exc.status is not None:
        return should_retry_status(exc.method, exc.status)
    return False


def tenacity_arguments(
    policy: RetryPolicy,
    log: Any,
    *,
    retry_if: Callable[[BaseException], bool] = is_retryable,
    honour_retry_after: bool = True,
    max_attempts: int | None = None,
    wait_seconds: Callable[[RetryPolicy, int, float | None, float], float] | None = None,
    what: str = "Civis API call",
) -> dict[str, Any]:
    """Keyword arguments for ``tenacity.Retrying`` and ``tenacity.AsyncRetrying``: every retry in the
    provider (API requests, harmless creates, run-start reconciliation, the file data plane) is built here,
    from one policy.

    :param retry_if: which exceptions are worth another attempt (default: one API request's rules).
    :param honour_retry_after: False for presigned storage URLs, whose ``Retry-After`` is not the API's.
    :param max_attempts: a tighter cap than the policy's (never a looser one).
    :param wait_seconds: ``(policy, attempt, retry_after, elapsed) -> seconds``; default ``backoff_seconds``.
    """
    import tenacity

    attempts = policy.max_attempts if max_attempts is None else max(1, min(max_attempts, policy.max_attempts))
    waiter = wait_seconds or backoff_seconds

    def wait(retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(exc, "retry_after", None) if honour_retry_after else None
        return waiter(policy, retry_state.attempt_number, retry_after, retry_state.seconds_since_start or 0.0)

    def before_sleep(retry_state: tenacity.RetryCallState) -> None:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        log.warning(
            "Retrying %s after attempt %d of %d in %.1fs: %s",
            what,
            retry_state.attempt_number,
            attempts,
            retry_state.next_action.sleep if retry_state.next_action else 0.0,
            exc,
        )

    return {
        "stop": tenacity.stop_after_attempt(attempts) | tenacity.stop_after_delay(policy.max_total_seconds),
        "wait": wait,
        "retry": tenacity.retry_if_exception(retry_if),
        "before_sleep": before_sleep,
        "reraise": True,
    }
