"""One engine for the rules the spec writes in prose, compiled per operation from the spec alone.

:class:`OperationRules` answers three questions for a request to one spec operation:

- :meth:`~OperationRules.check_query`: list endpoints' ``limit`` maxima ("Defaults to its maximum of
  50", "Maximum allowed is 100"), ``order``/``order_dir`` choices, and every query rule phrased in a
  parameter description (:data:`~.rule_text.QUERY_RULES`).
- :meth:`~OperationRules.check_body`: every body rule phrased in a property description
  (:data:`~.rule_text.BODY_RULES`), at any depth (``csvSettings.compression``,
  ``advancedOptions.invalidCharReplacement``, ``params[].default``). Keys may be camelCase or the
  snake_case civis-python sends.
- :meth:`~OperationRules.declared_query`: the query string without the parameters the operation does
  not declare, so they have no effect (``limit``/``page_num`` on ``GET /databases``).

A ``limit`` above its maximum is *rejected*, not clamped: the spec says "Maximum allowed", no example
shows either behaviour, and a client that stays within the maximum is right under both readings,
while one that relies on clamping silently loses rows where the API rejects (or checks "a short page
means the last page" where it clamps).
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any
from urllib.parse import parse_qsl, urlencode

from civis_emulator import spec as _spec
from civis_emulator.contract.rule_text import (
    BODY_RULES,
    QUERY_RULES,
    BodyCheck,
    QueryCheck,
    checks_for,
)
from civis_emulator.contract.schemas import _short, camel_to_snake
from civis_emulator.spec_index import Operation, normalize_path

_LIST_PARAMS = ("limit", "order", "order_dir", "page_num")
_MAX_DEPTH = 8
_MAXIMUM = re.compile(r"[Mm]aximum (?:allowed is |of )(\d+)")  # not "Default of 10000" (log pages)


def parse_query(query_string: bytes) -> dict[str, list[str]]:
    """``a=1&b[]=x&b[]=y`` -> ``{"a": ["1"], "b": ["x", "y"]}`` (``[]`` forms as the client sends)."""
    given: dict[str, list[str]] = {}
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        given.setdefault(key[:-2] if key.endswith("[]") else key, []).append(value)
    return given


def _camel(key: Any) -> Any:
    if not isinstance(key, str) or "_" not in key.strip("_"):
        return key
    head, *rest = key.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


class _ObjectRules:
    """The checks on one object schema's properties, and the nested objects that have some."""

    def __init__(self, checks: dict[str, list[tuple[str, BodyCheck]]], children: dict[str, _ObjectRules]):
        self.checks = checks
        self.children = children
        self.aliases: dict[str, str] = {}
        for name in (*checks, *children):
            self.aliases[name] = name
            self.aliases.setdefault(camel_to_snake(name), name)

    def run(self, value: Any, method: str, where: str, out: list[str], root: dict[str, Any]) -> None:
        if isinstance(value, list):
            for i, item in enumerate(value):
                self.run(item, method, f"{where}[{i}]" if where else f"[{i}]", out, root)
            return
        if not isinstance(value, dict):
            return
        names = {key: self.aliases.get(key) or _camel(key) for key in value}  # siblings too (columnMapping)
        obj = {names[key]: v for key, v in value.items()}
        sent = {names[key]: key for key in value}
        for name, checks in self.checks.items():
            for _rule, check in checks:
                message = check(obj, name, method, root)
                if message:
                    field = (where + "." if where else "") + sent.get(name, name)
                    out.append(f"body field '{field}': {message}")
        for name, child in self.children.items():
            if obj.get(name) is not None:
                child.run(obj[name], method, (where + "." if where else "") + sent.get(name, name), out, root)


def _compile_object(schema: dict[str, Any] | None, depth: int = 0) -> _ObjectRules | None:
    schema = _spec.resolve(schema)
    if schema.get("type") == "array":
        schema = _spec.resolve(schema.get("items"))
    props = schema.get("properties") or {}
    if not props or depth > _MAX_DEPTH:
        return None
    checks: dict[str, list[tuple[str, BodyCheck]]] = {}
    children: dict[str, _ObjectRules] = {}
    for name, raw in props.items():
        sub = _spec.resolve(raw)
        description = raw.get("description") or sub.get("description") or ""
        found = checks_for(BODY_RULES, description, sub) if description else []
        if found:
            checks[name] = found
        child = _compile_object(sub, depth + 1)
        if child is not None:
            children[name] = child
    if not checks and not children:
        return None
    return _ObjectRules(checks, children)


class OperationRules:
    """The described rules of one spec operation (compiled once, on first use)."""

    def __init__(self, op: Operation) -> None:
        self.op = op
        self.declared = frozenset(op.query_params)
        self.query_checks: dict[str, list[tuple[str, QueryCheck]]] = {}
        for name, param in op.query_params.items():
            if name in _LIST_PARAMS:
                continue
            found = checks_for(QUERY_RULES, param.get("description") or "", param)
            if found:
                self.query_checks[name] = found
        self.list_defaults = _spec.list_defaults(normalize_path(op.template)) if op.method == "GET" else None
        limit = (op.query_params.get("limit") or {}).get("description") or ""
        maximum = _MAXIMUM.search(limit)
        self.max_limit = int(maximum.group(1)) if maximum else None
        body = op.body_param.get("schema") if op.body_param else None
        self.body = _compile_object(body) if body else None

    def declared_query(self, query_string: bytes) -> bytes | None:
        """The query string without undeclared parameters; None when nothing was dropped."""
        if not query_string:
            return None
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if (k[:-2] if k.endswith("[]") else k) in self.declared]
        if len(kept) == len(pairs):
            return None
        return urlencode(kept).encode("latin-1")

    def check_query(self, given: dict[str, list[str]]) -> list[str]:
        problems: list[str] = []
        if self.list_defaults is not None and self.declared.intersection(_LIST_PARAMS):
            problems += self._list_params(given)
        for name, checks in self.query_checks.items():
            if name not in given:
                continue
            for _rule, check in checks:
                message = check(given, name)
                if message:
                    problems.append(f"query parameter '{name}': {message}")
        return problems

    def _list_params(self, given: dict[str, list[str]]) -> list[str]:
        d = self.list_defaults or {}
        out = []
        raw = (given.get("limit") or [""])[-1]
        if self.max_limit and re.fullmatch(r"\d+", raw or ""):
            limit, high = int(raw), self.max_limit
            if limit > high:
                out.append(
                    f"query parameter 'limit': {limit} is above the maximum of {high} for this list: "
                    f"give {high} or less and page with page_num"
                )
        order = (given.get("order") or [""])[-1]
        if order and d.get("orders") and order not in d["orders"]:
            out.append(f"query parameter 'order': {_short(order)} is not allowed: use one of {', '.join(d['orders'])}")
        order_dir = (given.get("order_dir") or [""])[-1]
        if order_dir and "order_dir" in self.declared and order_dir.lower() not in ("asc", "desc"):
            out.append(f"query parameter 'order_dir': {_short(order_dir)} is not allowed: use asc or desc")
        return out

    def check_body(self, body: bytes) -> list[str]:
        if self.body is None or not body.strip():
            return []
        try:
            data = json.loads(body)
        except ValueError:
            return []  # the schema check already reports it
        problems: list[str] = []
        root = {_camel(k): v for k, v in data.items()} if isinstance(data, dict) else {}
        self.body.run(data, self.op.method, "", problems, root)
        return problems


class DescribedRules:
    """Every operation's :class:`OperationRules`, compiled on first use and shared process-wide."""

    def __init__(self) -> None:
        self._ops: dict[str, OperationRules] = {}
        self._lock = threading.Lock()

    def for_operation(self, op: Operation) -> OperationRules:
        found = self._ops.get(op.key)
        if found is None:
            with self._lock:
                found = self._ops.get(op.key)
                if found is None:
                    found = self._ops[op.key] = OperationRules(op)
        return found
