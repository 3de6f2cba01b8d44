"""Turn an Airflow connection into the settings both hooks need; one place for its rules and errors.

Connection fields: password = API key (required); host = API URL (default
``https://api.civisanalytics.com``; a bare loopback host such as ``127.0.0.1`` means the local emulator
over http); port is appended when given. Extra (JSON): ``verify`` (true/false or a CA bundle path,
default true), ``timeout`` (seconds per request, default 60), ``retry`` (see ``RetryPolicy``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_civis import __version__
from airflow_civis.exceptions import CivisConnectionError
from airflow_civis.hooks._retry import RetryPolicy

DEFAULT_API_URL = "https://api.civisanalytics.com"
DEFAULT_TIMEOUT = 60.0
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
PLATFORM_APP_URL = "https://platform.civisanalytics.com"


def user_agent() -> str:
    try:
        from airflow import __version__ as airflow_version
    except ImportError:  # pragma: no cover
        airflow_version = "unknown"
    return f"airflow-civis/{__version__} apache-airflow/{airflow_version}"


@dataclass(frozen=True)
class CivisSettings:
    conn_id: str
    base_url: str
    api_key: str = field(repr=False)
    verify: bool | str = True
    timeout: float = DEFAULT_TIMEOUT
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @property
    def is_emulator(self) -> bool:
        return (urlsplit(self.base_url).hostname or "") in _LOOPBACK_HOSTS

    @property
    def app_url(self) -> str:
        """Where people look at runs: the platform's web app, or the emulator's own pages."""
        return self.base_url if self.is_emulator else PLATFORM_APP_URL

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.api_key}",
            "Accept": "application/json",
            "User-Agent": user_agent(),
        }


def _base_url(host: str | None, port: int | None) -> str:
    host = (host or "").strip().rstrip("/")
    if not host:
        return DEFAULT_API_URL
    if "://" not in host:
        scheme = "http" if host.split(":")[0] in _LOOPBACK_HOSTS else "https"
        host = f"{scheme}://{host}"
    parts = urlsplit(host)
    if port and not parts.port:
        host = f"{parts.scheme}://{parts.hostname}:{int(port)}{parts.path}"
    return host.rstrip("/")


def settings_from_connection(conn: Any, retry: RetryPolicy | dict | None = None) -> CivisSettings:
    """Read and check a connection; every error names the connection and what to set."""
    conn_id = getattr(conn, "conn_id", "?")
    api_key = (conn.password or "").strip()
    if not api_key:
        raise CivisConnectionError(
            f"Connection {conn_id!r} has no API key: put your Civis API key in its password field."
        )
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else {}
    verify = extra.get("verify", True)
    if isinstance(verify, str) and verify.lower() in {"true", "false"}:
        verify = verify.lower() == "true"
    try:
        timeout = float(extra.get("timeout", DEFAULT_TIMEOUT))
    except (TypeError, ValueError):
        raise CivisConnectionError(
            f"Connection {conn_id!r}: extra 'timeout' must be a number of seconds, got {extra.get('timeout')!r}"
        ) from None
    if timeout <= 0:
        raise CivisConnectionError(f"Connection {conn_id!r}: extra 'timeout' must be > 0, got {timeout}")
    try:
        policy = RetryPolicy.from_value(retry if retry is not None else extra.get("retry"))
    except ValueError as err:
        raise CivisConnectionError(f"Connection {conn_id!r}: {err}") from None
    return CivisSettings(
        conn_id=conn_id,
        base_url=_base_url(conn.host, conn.port),
        api_key=api_key,
        verify=verify,
        timeout=timeout,
        retry=policy,
    )
