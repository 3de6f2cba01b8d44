"""A log of every request the emulator answers, in arrival order, for differential tests.

The differential tests (``tests/integration/differential/``) run the official client and our operators
against one emulator and compare what each *asked*: per request the method, the spec's path template
(``/scripts/sql/{id}/runs/{run_id}``), the sorted top-level JSON body keys, the sorted query parameter
names and the status. Values are never kept (bodies carry SQL, credentials, data), only names.

Served at ``GET /_emulator/requests?since=N`` (entries with ``seq >= N``) and cleared by
``DELETE /_emulator/requests`` (``routers/admin.py``). ``/_emulator/*`` admin traffic is not logged;
the presigned data-plane URLs are, under a stable pseudo-template since they are not API paths
(``PUT /_emulator/presigned/parts/7/2?signature=...`` is logged as ``/_emulator/presigned/parts/{n}/{n}``).
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from typing import Any
from urllib.parse import parse_qsl

from . import spec
from .presign import PRESIGNED_PREFIX

MAX_ENTRIES = 50_000  # the oldest are dropped past this; ``seq`` keeps counting
MAX_PARSED_BODY = 1024 * 1024  # larger JSON bodies are passed through unparsed (keys not logged)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NUMBER_SEGMENT = re.compile(r"(?<=/)\d+(?=/|$)")


def template_for(method: str, path: str) -> str:
    """The spec's template for a concrete path; presigned and unknown paths get digits as ``{n}``."""
    if not path.startswith(PRESIGNED_PREFIX):
        template, supported = spec.match(method, path)
        if template and supported:
            return template
    return _NUMBER_SEGMENT.sub("{n}", spec.normalize(path))


def query_names(query_string: bytes) -> list[str]:
    """Sorted distinct parameter names; ``key[]`` (what civis-python sends for arrays) counts as ``key``."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    return sorted({name[:-2] if name.endswith("[]") else name for name, _ in pairs})


def body_keys(body: bytes) -> list[str] | None:
    """Sorted top-level keys of a JSON object body; None when the body is not a JSON object."""
    if not body:
        return None
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return sorted(doc) if isinstance(doc, dict) else None


class RequestLog:
    """Thread-safe, bounded, append-only; ``seq`` numbers increase for the emulator's lifetime."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=max_entries)
        self._next = 0

    def open(self, method: str, path: str, query: list[str], user_agent: str) -> dict[str, Any]:
        """Log a request as it arrives (so order is arrival order); the caller fills status and keys."""
        with self._lock:
            entry = {"seq": self._next, "method": method, "path": path, "template": template_for(method, path),
                     "query": query, "bodyKeys": None, "status": None, "userAgent": user_agent}
            self._next += 1
            self._entries.append(entry)
            return entry

    def since(self, seq: int = 0) -> dict[str, Any]:
        """``{"requests": [...], "next": <seq to ask for next time>}``, oldest first."""
        with self._lock:
            return {"requests": [dict(e) for e in self._entries if e["seq"] >= seq], "next": self._next}

    def clear(self) -> dict[str, Any]:
        with self._lock:
            self._entries.clear()
            return {"requests": [], "next": self._next}


class RequestLogMiddleware:
    """Pure ASGI, outermost: logs every non-admin request, then passes it on untouched.

    A JSON body (up to :data:`MAX_PARSED_BODY`) is read in full before the app sees it and replayed, so
    its keys are logged even when the request is refused early (401, injected faults, 400).
    """

    def __init__(self, app: Any, log: RequestLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path") or "/"
        if scope["type"] != "http" or (path.startswith("/_emulator/") and not path.startswith(PRESIGNED_PREFIX)):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        method = scope.get("method", "GET").upper()
        entry = self.log.open(method, path, query_names(scope.get("query_string") or b""),
                              headers.get(b"user-agent", b"").decode("latin-1"))
        inner_receive = receive
        ctype = headers.get(b"content-type", b"").decode("latin-1").lower()
        length = headers.get(b"content-length", b"")
        small = not length.isdigit() or int(length) <= MAX_PARSED_BODY
        if method in _BODY_METHODS and "json" in ctype and small:
            body, disconnected = await _read_body(receive)
            entry["bodyKeys"] = body_keys(body)
            inner_receive = _replay(body, disconnected, receive)

        async def logging_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, inner_receive, logging_send)
        finally:
            if entry["status"] is None:
                entry["status"] = 500  # the app raised or the connection dropped before an answer


async def _read_body(receive: Any) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), True
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks), False


def _replay(body: bytes, disconnected: bool, receive: Any) -> Any:
    """``receive`` that hands the already-read body over once, then defers to the server's own.

    A bound method of :class:`_Replay`, which stands in for the server's connection cycle: code that
    reaches the connection through ``receive.__self__`` (``faults._drop`` aborting it, the upload route's
    transport) still finds it behind this middleware.
    """
    return _Replay(body, disconnected, receive).receive


class _Replay:
    def __init__(self, body: bytes, disconnected: bool, receive: Any) -> None:
        self._body, self._disconnected, self._receive = body, disconnected, receive
        self._sent = False
        self._cycle = getattr(receive, "__self__", None)

    @property
    def transport(self) -> Any:
        return getattr(self._cycle, "transport", None)

    @property
    def disconnected(self) -> bool:
        return bool(getattr(self._cycle, "disconnected", False))

    @disconnected.setter
    def disconnected(self, value: bool) -> None:
        if self._cycle is not None:
            self._cycle.disconnected = value

    async def receive(self) -> dict[str, Any]:
        if not self._sent:
            self._sent = True
            if self._disconnected:
                return {"type": "http.disconnect"}
            return {"type": "http.request", "body": self._body, "more_body": False}
        result: dict[str, Any] = await self._receive()
        return result
