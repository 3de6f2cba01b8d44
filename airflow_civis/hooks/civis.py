"""CivisHook: authenticated, retried, paginated access to the Civis API from an Airflow connection.

The sync I/O half of the hook (requests + tenacity); everything it shares with the async twin lives in
``_core.CivisHookBase``, every retry decision in ``_retry``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import requests
import tenacity

from airflow_civis._compat import mask_secret
from airflow_civis.exceptions import CivisAPIError
from airflow_civis.hooks._connection import CivisSettings
from airflow_civis.hooks._core import CivisHookBase
from airflow_civis.hooks._retry import (  # noqa: F401 - AMBIGUOUS_STATUSES, may_have_taken_effect: re-exported
    AMBIGUOUS_STATUSES,
    RetryPolicy,
    may_have_taken_effect,
)
from airflow_civis.hooks._start import START_ATTEMPTS, start_exactly_once
from airflow_civis.hooks.run_logs import LogLines, log_lines
from airflow_civis.runs import CANCEL_REFUSALS, RunRef, refused_cancel, runs_path, started_run_id

__all__ = ["START_ATTEMPTS", "CivisHook", "may_have_taken_effect"]

DEFAULT_PAGE_SIZE = 50
OUTPUTS_PAGE_SIZE = 50  # the spec: "Defaults to its maximum of 50"
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


def new_session(verify: bool | str, transport: Any = None, headers: dict[str, str] | None = None) -> requests.Session:
    """A session with the connection's TLS setting; ``transport`` (a requests adapter) replaces the network."""
    session = requests.Session()
    if headers:
        session.headers.update(headers)
    session.verify = verify
    if transport is not None:
        session.mount("http://", transport)
        session.mount("https://", transport)
    return session


class CivisHook(CivisHookBase):
    """
    Talk to the Civis API with the key from an Airflow connection of type ``civis``.

    :param civis_conn_id: the connection: API key in the password, API URL in host.
    :param retry: overrides the connection's retry policy (``{"max_attempts": 5, ...}``).
    :param transport: a requests adapter to send through instead of the network (tests).
    """

    def __init__(
        self, civis_conn_id: str = CivisHookBase.default_conn_name, retry: RetryPolicy | dict | None = None,
        transport: requests.adapters.BaseAdapter | None = None,
    ) -> None:
        super().__init__(civis_conn_id, retry, transport)
        self._session: requests.Session | None = None
        #: Called as ``(kind, job_id, baseline_run_id)`` just before a run is started (see ``start_run``).
        self.start_journal: Callable[[str, int, int | None], None] | None = None

    @property
    def settings(self) -> CivisSettings:
        if self._settings is None:
            try:
                conn = self.get_connection(self.civis_conn_id)
            except Exception as err:  # AirflowNotFoundException and secrets-backend errors alike
                raise self._unloadable(err) from err
            settings = self._settings_from(conn)
            mask_secret(settings.api_key)
            self._settings = settings
        return self._settings

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = new_session(self.settings.verify, self.transport, self.settings.headers())
        return self._session

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
        retrying = tenacity.Retrying(**self._retry_arguments(self.settings))
        return retrying(
            self._send, method, path, url, params=params, json=json, timeout=timeout, stream=stream, **kwargs
        )

    def _send(self, method: str, path: str, url: str, *, timeout: float | None, **kwargs: Any) -> requests.Response:
        try:
            # verify per request: requests lets REQUESTS_CA_BUNDLE override a session's own setting.
            response = self.session.request(method, url, timeout=timeout or self.settings.timeout,
                                            verify=self.settings.verify, **kwargs)
        except requests.RequestException as exc:
            raise self._transport_error(method, path, exc, request_sent=_request_was_sent(exc)) from None
        if response.status_code >= 400:
            raise self._status_error(method, path, response.status_code, response.content, response.reason,
                                     response.headers.get("Retry-After"))
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
        """Every item of a list endpoint, page by page (``limit``/``page_num``), lazily.

        ``X-Pagination-Total-Pages`` says when to stop. Without it (endpoints the spec gives no
        ``limit``/``page_num``, such as ``GET /databases``, answer everything at once and send no page
        headers) a page is the last one when it is short, longer than the ``limit`` asked for (the
        endpoint ignored it), or the same as the page before (the endpoint ignored ``page_num``): a list
        of 50 or more items then costs one extra request, never an endless loop.
        """
        params = dict(params or {})
        params["limit"] = page_size
        page = int(params.pop("page_num", 1))
        previous: list[Any] | None = None
        while True:
            response = self.request("GET", path, params={**params, "page_num": page})
            items = response.json() or []
            total_pages = response.headers.get("X-Pagination-Total-Pages")
            if total_pages is None and items == previous:
                return
            yield from items
            if total_pages is not None:
                if page >= int(total_pages):
                    return
            elif len(items) != page_size:
                return
            previous = items
            page += 1

    def test_connection(self) -> tuple[bool, str]:
        """Used by the UI and ``airflow connections test``: calls ``GET /users/me``."""
        try:
            me = self.call("GET", "/users/me")
        except CivisAPIError as err:
            if err.status in (401, 403):
                return False, (
                    f"Connection {self.civis_conn_id!r}: {self.settings.base_url} refused its API key "
                    f"(HTTP {err.status}: {err.api_message}). Put a valid Civis API key in its password field."
                )
            return False, f"Connection {self.civis_conn_id!r}: {err}"
        except Exception as err:
            return False, str(err)
        return True, f"Connected to {self.settings.base_url} as {me.get('username') or me.get('name')}"

    # -- the run lifecycle ---------------------------------------------------------------------------
    def start_run(self, kind: str, job_id: int) -> RunRef:
        """Start exactly one run of the job, even when the POST fails ambiguously.

        The POST itself is never repeated blindly (see ``_retry``). When it fails in a way that may have
        taken effect (500/502/504, dropped after sending, read timeout), the job's newest run is compared
        with the one it had before the attempt: a newer run is ours and is adopted; none means nothing
        started, so starting again is safe. A 409 ("already running") after such a failure means our
        earlier attempt landed late: its run is adopted too. ``start_journal``, if set, is called with
        ``(kind, job_id, baseline_run_id)`` before the first POST, so that a crash between the POST and
        the caller saving the run id can be reconciled by the next try (see ``find_run_since``).
        """
        job_id = int(job_id)
        path = runs_path(kind, job_id)
        try:
            baseline, can_reconcile = self.last_run_id(job_id), True
        except CivisAPIError as err:  # no generic view of this job: start as before, without reconciling
            self.log.info("Cannot read job %s before starting it (%s); a failed start will not be reconciled",
                          job_id, err.api_message)
            baseline, can_reconcile = None, False

        def post() -> RunRef:
            return RunRef(kind=kind, job_id=job_id, run_id=started_run_id(kind, self.call("POST", path)))

        if not can_reconcile:
            return post()
        if self.start_journal is not None:
            self.start_journal(kind, job_id, baseline)
        return start_exactly_once(self.settings.retry, self.log, post,
                                  lambda: self.find_run_since(kind, job_id, baseline), f"POST {path}")

    def create(self, path: str, json: Any = None) -> Any:
        """A POST whose accidental repeat is harmless (a new file record, a completed upload).

        Repeated after an ambiguous failure too (500/502/504, dropped after sending), as the retry policy
        allows: the worst case is an unused object, never a second run; run starts go through
        :meth:`start_run` instead.
        """
        retrying = tenacity.Retrying(**self._retry_arguments(
            self.settings, retry_if=may_have_taken_effect, what=f"POST {path} (a duplicate is harmless)"))
        return retrying(self.call, "POST", path, json=json)

    def last_run_id(self, job_id: int) -> int | None:
        """Id of the job's newest run (``GET /jobs/{id}`` ``lastRun``), None if it has none."""
        last = (self.get_job(job_id) or {}).get("lastRun") or {}
        return int(last["id"]) if last.get("id") else None

    def find_run_since(self, kind: str, job_id: int, baseline: int | None) -> RunRef | None:
        """The job's newest run if it is newer than ``baseline`` (a run we started and lost track of)."""
        newest = self.last_run_id(job_id)
        if newest is not None and (baseline is None or newest > int(baseline)):
            return RunRef(kind=kind, job_id=int(job_id), run_id=newest)
        return None

    def get_run(self, ref: RunRef) -> dict[str, Any]:
        return self.call("GET", ref.path)

    def cancel_run(self, ref: RunRef) -> None:
        """Ask Civis to cancel; a run that already finished is not an error.

        A refusal (404/409/422) is read as "already finished" only once the run is seen finished: a
        404 from a path the API lacks, or any refusal of a run still going, is raised, not swallowed.
        """
        try:
            self.request(*ref.cancel_request)
        except CivisAPIError as err:
            if err.status not in CANCEL_REFUSALS:
                raise
            try:
                state = (self.get_run(ref) or {}).get("state")
            except CivisAPIError:
                raise err from None
            refused = refused_cancel(ref, err, state)
            if refused is not None:
                raise refused from err
            self.log.info("Cancel of %s not needed (%s): %s", ref, state, err.api_message)

    def get_run_logs(self, ref: RunRef, last_id: int | None = None) -> LogLines:
        """Published log lines, oldest id first: every line above ``last_id`` (page by page), or without
        it the newest ``LOG_PAGE_SIZE``. ``.final`` says whether the API expects more lines (see
        ``hooks/run_logs.py``: lines can be published late, below ids already returned)."""
        params: dict[str, Any] = {"limit": LOG_PAGE_SIZE}
        if last_id is not None:
            params["last_id"] = last_id
        items: list[dict[str, Any]] = []
        while True:
            response = self.request("GET", ref.logs_path, params=params)
            page = (response.json() if response.content else None) or []
            items.extend(page)
            if last_id is None or len(page) < LOG_PAGE_SIZE:
                return log_lines(items, response.headers)
            params["last_id"] = max(line.get("id") or 0 for line in page)

    def list_run_outputs(self, ref: RunRef) -> list[dict[str, Any]]:
        """Every output of the run (``GET /jobs/{id}/runs/{run_id}/outputs``, as civis-python reads them),
        all pages: the endpoint answers at most 50 a page."""
        return list(self.paginate(ref.outputs_path, page_size=OUTPUTS_PAGE_SIZE))

    def get_job(self, job_id: int) -> dict[str, Any]:
        return self.call("GET", f"/jobs/{int(job_id)}")

    def get_json_value(self, json_value_id: int) -> Any:
        return self.call("GET", f"/json_values/{int(json_value_id)}").get("value")
