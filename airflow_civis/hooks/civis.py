"""CivisHook: authenticated, retried, paginated access to the Civis API from an Airflow connection."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Any

import requests
import tenacity
from airflow.sdk import BaseHook

from airflow_civis.exceptions import CivisAPIError, CivisConnectionError, CivisTransportError
from airflow_civis.hooks._connection import CivisSettings, settings_from_connection
from airflow_civis.hooks._errors import api_error_message
from airflow_civis.hooks._retry import RetryPolicy, parse_retry_after, tenacity_arguments
from airflow_civis.runs import RunRef, runs_path

DEFAULT_PAGE_SIZE = 50
LOG_PAGE_SIZE = 10000


def _request_was_sent(exc: requests.RequestException) -> bool:
    """A refused or timed-out *connect* never reached the API; anything later may have."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        text = repr(exc.args[0] if exc.args else exc)
        return not any(
            marker in text for marker in ("NewConnectionError", "NameResolutionError", "Connection refused")
        )
    return True


class CivisHook(BaseHook):
    """
    Talk to the Civis API with the key from an Airflow connection of type ``civis``.

    :param civis_conn_id: the connection: API key in the password, API URL in host.
    :param retry: overrides the connection's retry policy (``{"max_attempts": 5, ...}``).
    """

    conn_name_attr = "civis_conn_id"
    default_conn_name = "civis_default"
    conn_type = "civis"
    hook_name = "Civis Platform"

    def __init__(self, civis_conn_id: str = default_conn_name, retry: RetryPolicy | dict | None = None) -> None:
        super().__init__()
        self.civis_conn_id = civis_conn_id
        self._retry_override = RetryPolicy.from_value(retry) if retry is not None else None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": ["schema", "login", "port"],
            "relabeling": {"password": "API Key", "host": "API URL"},
            "placeholders": {
                "host": "https://api.civisanalytics.com (or http://127.0.0.1:PORT for the emulator)",
                "password": "Civis API key",
                "extra": '{"timeout": 60, "verify": true, "retry": {"max_attempts": 6}}',
            },
        }

    @cached_property
    def settings(self) -> CivisSettings:
        try:
            conn = self.get_connection(self.civis_conn_id)
        except Exception as err:  # AirflowNotFoundException and secrets-backend errors alike
            raise CivisConnectionError(
                f"Civis connection {self.civis_conn_id!r} could not be loaded ({err}). Define it, e.g. "
                f"AIRFLOW_CONN_{self.civis_conn_id.upper()}="
                '\'{"conn_type": "civis", "password": "<API key>"}\''
            ) from err
        settings = settings_from_connection(conn, self._retry_override)
        from airflow.sdk.log import mask_secret

        mask_secret(settings.api_key)
        return settings

    @cached_property
    def session(self) -> requests.Session:
        session = requests.Session()
        session.headers.update(self.settings.headers())
        session.verify = self.settings.verify
        return session

    def get_conn(self) -> requests.Session:
        return self.session

    # -- raw calls -------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        timeout: float | None = None,
        stream: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        """One API call with the retry policy; raises ``CivisAPIError`` naming method, path and status."""
        method = method.upper()
        url = f"{self.settings.base_url}{path}"
        retrying = tenacity.Retrying(**tenacity_arguments(self.settings.retry, self.log))
        return retrying(
            self._send, method, path, url, params=params, json=json, timeout=timeout, stream=stream, **kwargs
        )

    def _send(self, method: str, path: str, url: str, *, timeout: float | None, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, url, timeout=timeout or self.settings.timeout, **kwargs)
        except requests.RequestException as exc:
            raise CivisTransportError(
                method, path, f"{type(exc).__name__}: {exc}", request_sent=_request_was_sent(exc)
            ) from None
        if response.status_code >= 400:
            raise CivisAPIError(
                method,
                path,
                response.status_code,
                api_error_message(response.content, response.reason or "error"),
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        return response

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Like :meth:`request`, returning the decoded JSON body (``None`` for an empty one)."""
        response = self.request(method, path, **kwargs)
        if not response.content:
            return None
        return response.json()

    def paginate(
        self, path: str, params: dict[str, Any] | None = None, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, page by page (``limit``/``page_num``), lazily."""
        params = dict(params or {})
        params["limit"] = page_size
        page = int(params.pop("page_num", 1))
        while True:
            response = self.request("GET", path, params={**params, "page_num": page})
            items = response.json() or []
            yield from items
            total_pages = response.headers.get("X-Pagination-Total-Pages")
            if total_pages is not None:
                if page >= int(total_pages):
                    return
            elif len(items) < page_size:
                return
            page += 1

    def test_connection(self) -> tuple[bool, str]:
        """Used by the UI and ``airflow connections test``: calls ``GET /users/me``."""
        try:
            me = self.call("GET", "/users/me")
        except Exception as err:
            return False, str(err)
        return True, f"Connected to {self.settings.base_url} as {me.get('username') or me.get('name')}"

    # -- the run lifecycle ---------------------------------------------------------------------------
    def start_run(self, kind: str, job_id: int) -> RunRef:
        """Start a run; a POST, so it is never retried once it may have reached the API."""
        run = self.call("POST", runs_path(kind, job_id))
        return RunRef(kind=kind, job_id=int(job_id), run_id=int(run["id"]))

    def get_run(self, ref: RunRef) -> dict[str, Any]:
        return self.call("GET", ref.path)

    def cancel_run(self, ref: RunRef) -> None:
        """Ask Civis to cancel; a run that already finished is not an error."""
        try:
            self.request("DELETE", ref.path)
        except CivisAPIError as err:
            if err.status not in (404, 409, 422):
                raise
            self.log.info("Cancel of %s not needed: %s", ref, err.api_message)

    def get_run_logs(self, ref: RunRef, last_id: int | None = None) -> list[dict[str, Any]]:
        """Log lines after ``last_id``, oldest first."""
        params: dict[str, Any] = {"limit": LOG_PAGE_SIZE}
        if last_id is not None:
            params["last_id"] = last_id
        lines = self.call("GET", f"{ref.path}/logs", params=params) or []
        return sorted(lines, key=lambda line: line.get("id") or 0)

    def list_run_outputs(self, ref: RunRef) -> list[dict[str, Any]]:
        return self.call("GET", f"{ref.path}/outputs") or []

    def get_job(self, job_id: int) -> dict[str, Any]:
        return self.call("GET", f"/jobs/{int(job_id)}")

    def get_json_value(self, json_value_id: int) -> Any:
        return self.call("GET", f"/json_values/{int(json_value_id)}").get("value")
