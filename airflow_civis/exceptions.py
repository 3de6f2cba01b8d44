"""One exception hierarchy for everything the provider raises about Civis."""

from __future__ import annotations

from airflow.exceptions import AirflowException


class CivisError(AirflowException):
    """Base class: every Civis-specific failure."""


class CivisAPIError(CivisError):
    """An API call failed: carries method, path, status and the API's own message (never the key)."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int | None,
        message: str,
        *,
        retry_after: float | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.api_message = message
        self.retry_after = retry_after
        where = f"{method} {path}"
        status_text = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"Civis API {where} failed ({status_text}): {message}")


class CivisConnectionError(CivisError):
    """The Airflow connection is missing or unusable; the message names the connection and the fix."""


class CivisRunError(CivisError):
    """A Civis run ended in ``failed`` or ``cancelled``; the message carries its error and last log lines."""

    def __init__(self, message: str, *, state: str, job_id: int, run_id: int, log_tail: list[str]) -> None:
        self.state = state
        self.job_id = job_id
        self.run_id = run_id
        self.log_tail = log_tail
        super().__init__(message)


class CivisRunTimeoutError(CivisError):
    """A Civis run did not finish before the operator's deadline."""


class CivisTransportError(CivisAPIError):
    """No HTTP answer (refused, timed out, dropped). ``request_sent`` tells whether it may have taken effect."""

    def __init__(self, method: str, path: str, message: str, *, request_sent: bool) -> None:
        self.request_sent = request_sent
        super().__init__(method, path, None, message)


class CivisLookupError(CivisError, ValueError):
    """A database, credential or table did not resolve. The message names what was looked up, what exists
    and the fix; ``what``/``wanted``/``available`` carry the same for code. A ``ValueError`` too: it is bad
    input, as civis-python's ``get_database_id`` says (and as CivisML's lookup here used to raise)."""

    def __init__(self, message: str, *, what: str, wanted: object, available: list[str] | None = None) -> None:
        self.what = what
        self.wanted = wanted
        self.available = list(available or [])
        super().__init__(message)
