"""What the sync and the async Civis hook share, written once (as httpx's ``BaseClient`` is for its
``Client`` and ``AsyncClient``): the connection attributes and form, reading the connection into
settings, the retry policy, and turning HTTP answers and transport failures into our errors.

Each subclass adds only its I/O (requests + tenacity, httpx + tenacity). A ``transport`` given to the
constructor replaces the network (a requests adapter for the sync hook, an ``httpx`` transport such as
``httpx.MockTransport`` for the async one), so tests never patch private attributes.
"""

from __future__ import annotations

from typing import Any

from airflow_civis._compat import BaseHook
from airflow_civis.exceptions import CivisAPIError, CivisConnectionError, CivisTransportError
from airflow_civis.hooks._connection import CivisSettings, settings_from_connection
from airflow_civis.hooks._errors import status_error
from airflow_civis.hooks._retry import RetryPolicy, tenacity_arguments


class CivisHookBase(BaseHook):
    """
    The shared half of :class:`~airflow_civis.hooks.civis.CivisHook` and its async twin.

    :param civis_conn_id: the connection: API key in the password, API URL in host.
    :param retry: overrides the connection's retry policy (``{"max_attempts": 5, ...}``).
    :param transport: replaces the network (tests): a requests adapter (sync) or an httpx transport (async).
    """

    conn_name_attr = "civis_conn_id"
    default_conn_name = "civis_default"
    conn_type = "civis"
    hook_name = "Civis Platform"

    def __init__(
        self, civis_conn_id: str = default_conn_name, retry: RetryPolicy | dict | None = None, transport: Any = None
    ) -> None:
        super().__init__()
        self.civis_conn_id = civis_conn_id
        self._retry_override = RetryPolicy.from_value(retry) if retry is not None else None
        self.transport = transport
        self._settings: CivisSettings | None = None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The form in provider info (``airflow_civis.CONNECTION_UI_FIELD_BEHAVIOUR``), in the hook API's spelling."""
        from airflow_civis import CONNECTION_UI_FIELD_BEHAVIOUR

        return {key.replace("-", "_"): value for key, value in CONNECTION_UI_FIELD_BEHAVIOUR.items()}

    # -- settings ----------------------------------------------------------------------------------
    def _settings_from(self, conn: Any) -> CivisSettings:
        return settings_from_connection(conn, self._retry_override)

    def _unloadable(self, err: Exception, where: str = "") -> CivisConnectionError:
        return CivisConnectionError(
            f"Civis connection {self.civis_conn_id!r} could not be loaded{where} ({err}). Define it, e.g. "
            f"AIRFLOW_CONN_{self.civis_conn_id.upper()}="
            '\'{"conn_type": "civis", "password": "<API key>"}\''
        )

    # -- retries and errors ------------------------------------------------------------------------
    def _retry_arguments(self, settings: CivisSettings, **overrides: Any) -> dict[str, Any]:
        """Tenacity arguments from the connection's policy (see ``_retry.tenacity_arguments``)."""
        return tenacity_arguments(settings.retry, self.log, **overrides)

    @staticmethod
    def _status_error(
        method: str, path: str, status: int, body: bytes, reason: str | None, retry_after: str | None
    ) -> CivisAPIError:
        return status_error(method, path, status, body, reason, retry_after)

    @staticmethod
    def _transport_error(method: str, path: str, exc: Exception, *, request_sent: bool) -> CivisTransportError:
        """A failure with no HTTP answer; ``request_sent`` says whether the server may have acted on it."""
        return CivisTransportError(method, path, f"{type(exc).__name__}: {exc}", request_sent=request_sent)
