"""Fault injection for reliability tests: ``/_emulator/faults`` (off by default, loopback traffic only).

``POST /_emulator/faults`` replaces the rules::

    {"seed": 7, "rules": [
        {"route": "/scripts/{kind}/{id}/runs", "methods": ["POST"], "status": 502, "rate": 0.2},
        {"route": "/jobs/*", "status": 429, "retry_after": 1, "rate": 0.1},
        {"route": "*", "drop": "after", "rate": 0.02},
        {"route": "*", "latency_ms": 50},
        {"route": "/scripts/python3/{id}/runs", "methods": ["POST"], "hang_runs": true}
    ]}

* ``route``: a spec template (``/jobs/{id}/runs``: any ``{name}`` matches one segment), a glob
  (``/jobs/*``, ``*``) or a concrete path; ``methods``: default every method.
* ``status``: answer with this error instead of calling the API (429/503 carry ``Retry-After`` when
  ``retry_after`` is given); the request never takes effect.
* ``drop``: ``before`` closes the connection without calling the API; ``after`` lets the request take
  effect, then closes the connection before the response is sent (the client cannot tell which).
* ``latency_ms``: delay the request; ``hang_runs``: runs started by the request never finish until
  cancelled (they hold one of the emulator's run workers while they hang).
* ``rate`` (default 1.0): chance per matching request, drawn from one ``random.Random(seed)``.
* ``user_agent``: a glob the request's User-Agent must match, e.g. ``airflow-civis/*`` to fault only
  the provider's own calls and not those the code inside emulated runs makes.

The first rule whose draw fires decides the outcome (latency rules add up and do not stop the search).
``GET`` returns the rules and counters of the faults injected per kind; ``DELETE`` clears both.
``/_emulator/*`` itself is never faulted, and neither is traffic from anything but loopback. The
middleware sits inside the auth/stats middleware: a bad key is still a 401, and stats count injected
answers (a dropped connection is counted as status 500).
"""

from __future__ import annotations

import asyncio
import contextvars
import fnmatch
import json
import random
import re
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from fastapi import APIRouter, Request

from . import runs

_LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}
_STATUSES = (429, 500, 502, 503, 504)
_MESSAGES = {
    429: ("rate_limited", "Rate limit exceeded (injected by the emulator)."),
    500: ("internal_error", "Internal server error (injected by the emulator)."),
    502: ("bad_gateway", "Bad gateway (injected by the emulator)."),
    503: ("unavailable", "Service unavailable (injected by the emulator)."),
    504: ("gateway_timeout", "Gateway timeout (injected by the emulator)."),
}
_HANG = contextvars.ContextVar("civis_emulator_hang_runs", default=False)


class DroppedConnection(Exception):
    """Raised where the server's transport is out of reach (in-process test clients): no response."""


@dataclass(frozen=True)
class FaultRule:
    route: str = "*"
    methods: tuple[str, ...] = ()
    status: int | None = None
    rate: float = 1.0
    retry_after: float | None = None
    latency_ms: float = 0.0
    drop: str | None = None
    hang_runs: bool = False
    user_agent: str | None = None
    _regex: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Here, not in from_dict: a rule built directly must match too (it had no pattern before).
        object.__setattr__(self, "_regex", _route_regex(self.route))

    @classmethod
    def from_dict(cls, data: Any) -> FaultRule:
        if not isinstance(data, dict):
            raise ValueError(f"a rule must be an object, got {data!r}")
        known = {"route", "methods", "status", "rate", "retry_after", "latency_ms", "drop", "hang_runs",
                 "user_agent"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown rule field(s) {unknown}; use {sorted(known)}")
        methods = data.get("methods") or ()
        if isinstance(methods, str):
            methods = (methods,)
        rule = cls(
            route=str(data.get("route", "*")), methods=tuple(m.upper() for m in methods),
            status=data.get("status"), rate=float(data.get("rate", 1.0)),
            retry_after=data.get("retry_after"), latency_ms=float(data.get("latency_ms", 0) or 0),
            drop=data.get("drop"), hang_runs=bool(data.get("hang_runs", False)),
            user_agent=data.get("user_agent"),
        )
        if rule.status is not None and rule.status not in _STATUSES:
            raise ValueError(f"status must be one of {list(_STATUSES)}, got {rule.status!r}")
        if rule.drop not in (None, "before", "after"):
            raise ValueError(f"drop must be 'before' or 'after', got {rule.drop!r}")
        if not 0.0 <= rule.rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, got {rule.rate}")
        if rule.status is not None and rule.drop is not None:
            raise ValueError("a rule either answers with a status or drops the connection, not both")
        return rule

    def matches(self, method: str, path: str, user_agent: str = "") -> bool:
        return ((not self.methods or method in self.methods) and bool(self._regex.fullmatch(path.rstrip("/")))
                and (self.user_agent is None or fnmatch.fnmatchcase(user_agent, self.user_agent)))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("_regex")
        out["methods"] = list(self.methods)
        return out


def _route_regex(route: str) -> re.Pattern:
    """``{name}`` is one path segment; ``*``/``?`` are globs (``*`` may span segments)."""
    route = route.rstrip("/") or "*"
    parts = re.split(r"(\{[^}/]+\})", route)
    pattern = "".join("[^/]+" if p.startswith("{") else fnmatch.translate(p)[4:-3] for p in parts)
    return re.compile(pattern)


class FaultStore:
    """The rules and counters of one emulator (``state.extras["faults"]``); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.rules: list[FaultRule] = []
        self.seed: int | None = None
        self._random = random.Random()
        self.injected: Counter = Counter()

    @property
    def active(self) -> bool:
        return bool(self.rules)

    def configure(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("rules", []), list):
            raise ValueError('send {"rules": [...], "seed": N}')
        rules = [FaultRule.from_dict(r) for r in body.get("rules", [])]
        with self._lock:
            self.rules, self.seed = rules, body.get("seed")
            self._random = random.Random(self.seed)
            self.injected.clear()
        return self.snapshot()

    def clear(self) -> dict[str, Any]:
        return self.configure({"rules": []})

    def decide(self, method: str, path: str, user_agent: str = "") -> tuple[float, FaultRule | None]:
        """Total added latency (ms) and the rule whose fault fires, if any; counts what it picks."""
        latency, chosen = 0.0, None
        with self._lock:
            for rule in self.rules:
                if not rule.matches(method, path, user_agent) or self._random.random() >= rule.rate:
                    continue
                if rule.latency_ms:
                    latency += rule.latency_ms
                    self.injected["latency"] += 1
                if rule.status or rule.drop or rule.hang_runs:
                    chosen = rule
                    kind = (f"status_{rule.status}" if rule.status else
                            f"drop_{rule.drop}" if rule.drop else "hang_runs")
                    self.injected[kind] += 1
                    break
        return latency, chosen

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seed": self.seed, "rules": [r.to_dict() for r in self.rules],
                "injected": dict(self.injected), "total_injected": sum(
                    n for k, n in self.injected.items() if k != "latency"),
            }


def faults_of(state: Any) -> FaultStore:
    store = state.extras.get("faults")
    if store is None:
        store = state.extras.setdefault("faults", FaultStore())
    return store


class FaultMiddleware:
    """Pure ASGI: inject the configured faults into loopback API requests (never ``/_emulator/*``)."""

    def __init__(self, app: Any, state: Any) -> None:
        self.app = app
        self.faults = faults_of(state)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (scope["type"] != "http" or not self.faults.active or scope["path"].startswith("/_emulator/")
                or (scope.get("client") or ("",))[0] not in _LOOPBACK):
            await self.app(scope, receive, send)
            return
        agent = next((v for k, v in scope.get("headers", ()) if k == b"user-agent"), b"").decode("latin-1")
        latency, rule = self.faults.decide(scope["method"], scope["path"], agent)
        if latency:
            await asyncio.sleep(latency / 1000.0)
        if rule is None:
            await self.app(scope, receive, send)
        elif rule.status:
            await _send_error(send, rule, rule.status)
        elif rule.drop == "before":
            await _drop(receive)
        elif rule.drop == "after":
            async def swallow(message: Any) -> None:
                return None

            await self.app(scope, receive, swallow)
            await _drop(receive)
        else:  # hang_runs: the runs this request starts wait for a cancel
            token = _HANG.set(True)
            try:
                await self.app(scope, receive, send)
            finally:
                _HANG.reset(token)


async def _send_error(send: Any, rule: FaultRule, status: int) -> None:
    error, description = _MESSAGES[status]
    body = json.dumps({"error": error, "errorDescription": description, "code": status}).encode()
    headers = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    if rule.retry_after is not None and status in (429, 503):
        headers.append((b"retry-after", str(rule.retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drop(receive: Any) -> None:
    """Close the TCP connection with no response (uvicorn: abort its transport)."""
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if cycle is None or transport is None:
        raise DroppedConnection("connection dropped by an injected fault")
    cycle.disconnected = True  # uvicorn then neither logs nor answers 500 for this request
    transport.abort()


def _hanging_runner(ctx: runs.RunContext) -> None:
    ctx.log("this run hangs (fault injected by the emulator) until it is cancelled")
    ctx.cancelled.wait()


def _fault_aware(get_runner: Any) -> Any:
    """Runs started while a ``hang_runs`` fault is active get a runner that waits for their cancel."""

    def get(job_type: str) -> Any:
        runner = get_runner(job_type)
        return _hanging_runner if runner is not None and _HANG.get() else runner

    get.__wrapped__ = get_runner  # type: ignore[attr-defined]
    return get


if not hasattr(runs.get_runner, "__wrapped__"):
    # The registry looks its runner up in the request's thread (FastAPI copies the context var there).
    runs.get_runner = _fault_aware(runs.get_runner)


router = APIRouter(prefix="/_emulator")


@router.get("/faults")
def get_faults(request: Request) -> dict:
    return faults_of(request.app.state.emulator).snapshot()


@router.post("/faults")
async def set_faults(request: Request):
    from .errors import error_response

    try:
        body = await request.json()
        return faults_of(request.app.state.emulator).configure(body)
    except ValueError as err:
        return error_response(400, "bad_request", f"Bad fault rules: {err}")


@router.delete("/faults")
def clear_faults(request: Request) -> dict:
    return faults_of(request.app.state.emulator).clear()


def standard_profile(error_rate: float = 0.2, drop_rate: float = 0.02, *, seed: int | None = 0,
                     retry_after: float = 1, user_agent: str | None = "airflow-civis/*") -> dict[str, Any]:
    """Rules for the reliability scenarios: ``error_rate`` of requests answered 429/500/502/503/504 (equal
    shares), ``drop_rate`` dropped (half before, half after taking effect), on every API route.

    Rules are tried in order with one draw each, so each rate is conditional on the earlier rules not
    firing: the overall shares come out exactly as asked.
    """
    wanted: list[tuple[dict[str, Any], float]] = [({"status": s}, error_rate / 5) for s in (429, 500, 502, 503, 504)]
    wanted += [({"drop": d}, drop_rate / 2) for d in ("before", "after")]
    rules: list[dict[str, Any]] = []
    left = 1.0
    for fault, share in wanted:
        rule: dict[str, Any] = {"route": "*", "rate": min(1.0, share / left), **fault}
        if fault.get("status") in (429, 503):
            rule["retry_after"] = retry_after
        if user_agent:
            rule["user_agent"] = user_agent
        rules.append(rule)
        left -= share
    return {"seed": seed, "rules": rules}
