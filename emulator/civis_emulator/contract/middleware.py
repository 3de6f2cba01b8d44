"""The pure ASGI middleware: validates requests (400 on failure) and records response checks.

A method + path the spec does not have answers 404 in the API's error shape (``/_emulator/*`` and
``/endpoints`` excepted), whether or not some emulator route would serve it; query parameters the
operation does not declare are dropped before the routers see them (they have no effect).
"""

from __future__ import annotations

import json
import time
from typing import Any

from civis_emulator.contract.auth import bearer_ok
from civis_emulator.contract.described_rules import DescribedRules, parse_query
from civis_emulator.contract.report import ContractReport
from civis_emulator.contract.validators import Validators
from civis_emulator.spec_index import normalize_path

ERROR_BAD_REQUEST = "bad_request"  # what the real API answers (see x-examples of POST /scripts/python3)
_BAD_REQUEST_PREFIX = "The given request was not as expected: "
SKIPPED_PREFIXES = ("/_emulator",)
SKIPPED_PATHS = ("/endpoints",)
NOT_IN_SPEC = "The requested endpoint could not be found: the Civis API has no {method} {path}."
MAX_CHECKED_BODY = 50 * 1024 * 1024  # larger JSON bodies are counted, not parsed


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return ""


def _error_response(status: int, error: str, description: str) -> tuple[dict[str, Any], dict[str, Any]]:
    body = json.dumps({"error": error, "errorDescription": description, "code": status}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    return start, {"type": "http.response.body", "body": body, "more_body": False}


class ContractMiddleware:
    """Pure ASGI: validates requests (400 on failure) and records response checks."""

    def __init__(
        self, app: Any, *, owner: Any, report: ContractReport, validators: Validators,
        rules: DescribedRules | None = None,
    ) -> None:
        self.app = app
        self.owner = owner  # the FastAPI app (for its state: the API key)
        self.report = report
        self.validators = validators
        self.rules = rules or DescribedRules()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path") or "/"
        norm = normalize_path(path)
        if norm.startswith(SKIPPED_PREFIXES) or norm in SKIPPED_PATHS:
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET").upper()
        matched = self.validators.index.match(method, norm)
        if not bearer_ok(self.owner, _header(scope, b"authorization")):
            await self.app(scope, receive, send)  # the app answers 401, as the real API does first
            return
        if matched is None:  # the real API has no such method + path
            start, end = _error_response(404, "not_found", NOT_IN_SPEC.format(method=method, path=norm))
            await send(start)
            await send(end)
            return
        op, path_values = matched
        opv = self.validators.for_operation(op)
        rules = self.rules.for_operation(op)

        # -- request -------------------------------------------------------------------------------
        t0 = time.perf_counter()
        query = scope.get("query_string") or b""
        problems = opv.check_path(path_values) + opv.check_query(query)
        problems += rules.check_query(parse_query(query))
        declared = rules.declared_query(query)
        if declared is not None:  # parameters the operation does not declare have no effect
            scope = dict(scope, query_string=declared)
        replay = None
        if op.body_param is not None and method in ("POST", "PUT", "PATCH"):
            ctype = _header(scope, b"content-type").lower()
            if not ctype or "json" in ctype:
                chunks = []
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    chunks.append(message.get("body", b""))
                    if not message.get("more_body"):
                        break
                body = b"".join(chunks)
                problems += opv.check_body(body) + rules.check_body(body)
                replay = body
        self.report.record_request(bool(problems), time.perf_counter() - t0)
        if problems:
            start, end = _error_response(400, ERROR_BAD_REQUEST, _BAD_REQUEST_PREFIX + "; ".join(problems))
            await send(start)
            await send(end)
            return

        if replay is not None:
            sent = False

            async def replay_receive() -> dict[str, Any]:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": replay, "more_body": False}
                return await receive()

            inner_receive = replay_receive
        else:
            inner_receive = receive

        # -- response ------------------------------------------------------------------------------
        state: dict[str, Any] = {"status": 0, "capture": False, "ctype": "", "chunks": [], "size": 0}

        async def checking_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                state["status"] = status
                state["capture"] = 200 <= status < 300
                if state["capture"]:
                    for key, value in message.get("headers") or ():
                        if key.lower() == b"content-type":
                            state["ctype"] = value.decode("latin-1").lower()
                await send(message)
                return
            if message["type"] == "http.response.body" and state["capture"]:
                chunk = message.get("body", b"")
                if "json" in state["ctype"] and chunk:
                    state["size"] += len(chunk)
                    if state["size"] <= MAX_CHECKED_BODY:
                        state["chunks"].append(chunk)
                    else:
                        state["chunks"] = None
                if not message.get("more_body"):
                    state["capture"] = False
                    t1 = time.perf_counter()
                    chunks = state["chunks"]
                    body = b"".join(chunks) if chunks is not None else None
                    try:
                        found = opv.check_response(state["status"], state["ctype"], body)
                    except Exception as exc:  # a validator bug must not take the emulator down
                        found = [("(validator)", f"{type(exc).__name__}: {exc}")]
                    self.report.record_response(op, path, state["status"], found, time.perf_counter() - t1)
            await send(message)

        await self.app(scope, inner_receive, checking_send)
