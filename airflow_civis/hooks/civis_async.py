"""The async twin of CivisHook, for triggers: httpx, the same retry policy and errors, no sync I/O.

One ``httpx.AsyncClient`` per hook; triggers that share a connection share a hook (see the trigger's
poller), so a triggerer watching many runs keeps a handful of sockets open, not one per run.
"""

from __future__ import annotations

from typing import Any

import httpx
import tenacity

from airflow_civis._compat import aget_connection, amask_secret
from airflow_civis.exceptions import CivisAPIError
from airflow_civis.hooks._connection import CivisSettings
from airflow_civis.hooks._core import CivisHookBase
from airflow_civis.hooks._retry import RetryPolicy
from airflow_civis.runs import CANCEL_REFUSALS, RunRef, refused_cancel

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class CivisAsyncHook(CivisHookBase):
    """Async Civis API access: ``CivisAsyncHook(conn_id)``, used with ``async with`` or closed with ``aclose``.

    The connection is read on the first call (``await hook.settings()``), never in ``__init__``, so the
    hook can be built anywhere and loads its connection inside the event loop.

    :param transport: an ``httpx.AsyncBaseTransport`` (e.g. ``httpx.MockTransport``) instead of the network.
    """

    hook_name = "Civis Platform (async)"

    def __init__(
        self, civis_conn_id: str = CivisHookBase.default_conn_name, retry: RetryPolicy | dict | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(civis_conn_id, retry, transport)
        self._client: httpx.AsyncClient | None = None

    async def settings(self) -> CivisSettings:
        if self._settings is None:
            try:
                conn = await aget_connection(self.civis_conn_id)
            except Exception as err:
                raise self._unloadable(err, " in the triggerer") from err
            settings = self._settings_from(conn)
            await amask_secret(settings.api_key)
            self._settings = settings
        return self._settings

    async def client(self) -> httpx.AsyncClient:
        if self._client is None:
            settings = await self.settings()
            self._client = httpx.AsyncClient(
                base_url=settings.base_url,
                headers=settings.headers(),
                verify=settings.verify,
                timeout=settings.timeout,
                limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
                transport=self.transport,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> CivisAsyncHook:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        method = method.upper()
        settings = await self.settings()
        client = await self.client()
        retrying = tenacity.AsyncRetrying(**self._retry_arguments(settings))
        return await retrying(self._send, client, method, path, **kwargs)

    async def _send(self, client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise self._transport_error(method, path, exc, request_sent=not isinstance(exc, _NOT_SENT)) from None
        if response.status_code >= 400:
            raise self._status_error(method, path, response.status_code, response.content,
                                     response.reason_phrase, response.headers.get("Retry-After"))
        return response

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        return response.json() if response.content else None

    async def get_run(self, ref: RunRef) -> dict[str, Any]:
        return await self.call("GET", ref.path)

    async def cancel_run(self, ref: RunRef) -> None:
        """As ``CivisHook.cancel_run``: a refusal is "already finished" only once the run is seen finished."""
        try:
            await self.request(*ref.cancel_request)
        except CivisAPIError as err:
            if err.status not in CANCEL_REFUSALS:
                raise
            try:
                state = ((await self.get_run(ref)) or {}).get("state")
            except CivisAPIError:
                raise err from None
            refused = refused_cancel(ref, err, state)
            if refused is not None:
                raise refused from err
