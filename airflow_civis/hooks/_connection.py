"""Turn an Airflow connection into the settings both hooks need; one place for its rules and errors.

Connection fields: password = API key (required); host = API URL (default
``https://api.civisanalytics.com``; a host without a scheme gets https, or http when the connection is
the emulator's); port is appended when given. Extra (JSON): ``emulator`` (true for the local Civis API
emulator: its own run pages, http by default; default false, so a loopback tunnel to real Civis is
still Civis), ``verify`` (true/false or a CA bundle path, default true), ``timeout`` (seconds per
request, default 60), ``retry`` (see ``RetryPolicy``).
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
    #: Said by the connection (extra ``emulator``), never guessed from a loopback host.
    is_emulator: bool = False

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


def _base_url(host: str | None, port: int | None, emulator: bool = False) -> str:
    host = (host or "").strip().rstrip("/")
    if not host:
        return DEFAULT_API_URL
    if "://" not in host:
        scheme = "http" if emulator else "https"
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
    emulator = _flag(extra.get("emulator", False), "emulator", conn_id)
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
        base_url=_base_url(conn.host, conn.port, emulator),
        api_key=api_key,
        verify=verify,
        timeout=timeout,
        retry=policy,
        is_emulator=emulator,
    )


def _flag(value: Any, name: str, conn_id: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise CivisConnectionError(
        f"Connection {conn_id!r}: extra {name!r} must be true or false, got {value!r}"
        + (' (set {"emulator": true} only for the local Civis API emulator)' if name == "emulator" else "")
    )
