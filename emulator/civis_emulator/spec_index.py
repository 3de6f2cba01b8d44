"""Operation index over the official Civis API spec, for the contract (request/response checks).

The spec file itself is located and parsed by :mod:`civis_emulator.spec` (shared with the
emulator core); this module adds what the contract needs:

- :func:`spec_bytes`: the file's raw bytes (what ``GET /endpoints`` serves, byte for byte).
- :class:`SpecIndex` (via :func:`get_index`): concrete request path -> spec :class:`Operation`
  (``GET /scripts/python3/7/runs/3`` -> ``GET /scripts/python3/{id}/runs/{run_id}``) with its
  path/query/body parameters split out. Static segments win over path parameters
  (``/scripts/python3/types`` is not ``{id}="types"``); ``/models/`` and ``/models`` are one route.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from civis_emulator import spec as _spec

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

# The Civis API documents these GET paths as returning an object but actually returns an array
# (civis-python carries the same list in civis/resources/_resources.py).
GET_PATHS_WITH_ARRAY_RESPONSE = frozenset(
    """
    /credentials/types
    /databases/{id}/users
    /jobs/{id}/children
    /jobs/{id}/parents
    /notebooks/{id}/git/commits
    /reports/{id}/git/commits
    /scripts/javascript/{id}/git/commits
    /scripts/python3/{id}/git/commits
    /scripts/r/{id}/git/commits
    /scripts/sql/{id}/git/commits
    /scripts/{id}/history
    /workflows/{id}/git/commits
    """.split()
)


@functools.lru_cache(maxsize=1)
def spec_bytes() -> bytes:
    """The spec file's raw bytes (what ``GET /endpoints`` serves)."""
    with open(_spec.spec_path(), "rb") as fh:
        return fh.read()


def load_spec() -> dict[str, Any]:
    return _spec.load_spec()


def normalize_path(path: str) -> str:
    """One leading slash, no trailing one."""
    stripped = path.strip("/")
    return "/" + stripped if stripped else "/"


@dataclass
class Operation:
    """One (method, path template) of the spec."""

    method: str  # upper case
    template: str  # as written in the spec, e.g. "/scripts/python3/{id}" (or "/models/")
    spec: dict[str, Any]
    path_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    query_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    body_param: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        return f"{self.method} {normalize_path(self.template)}"

    @property
    def summary(self) -> str:
        return self.spec.get("summary") or ""

    @property
    def responses(self) -> dict[str, Any]:
        return self.spec.get("responses", {})


class _Node:
    __slots__ = ("static", "param", "ops")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.param: _Node | None = None
        self.ops: dict[str, Operation] | None = None


class SpecIndex:
    """Path-template router over the spec's paths."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.definitions: dict[str, Any] = spec.get("definitions", {})
        self._root = _Node()
        self.operations: dict[str, Operation] = {}
        for template, ops in spec.get("paths", {}).items():
            node = self._root
            for seg in _segments(template):
                if seg.startswith("{") and seg.endswith("}"):
                    if node.param is None:
                        node.param = _Node()
                    node = node.param
                else:
                    node = node.static.setdefault(seg, _Node())
            if node.ops is None:
                node.ops = {}
            for verb, op_spec in ops.items():
                if verb.lower() not in HTTP_METHODS or not isinstance(op_spec, dict):
                    continue
                op = Operation(method=verb.upper(), template=template, spec=op_spec)
                for param in op_spec.get("parameters", []):
                    where = param.get("in")
                    if where == "path":
                        op.path_params[param["name"]] = param
                    elif where == "query":
                        op.query_params[param["name"]] = param
                    elif where == "body":
                        op.body_param = param
                node.ops[op.method] = op
                self.operations[op.key] = op

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The spec operation for a concrete request, and its path parameter values."""
        found = self._walk(self._root, _segments(path), 0, [])
        if found is None:
            return None
        node, values = found
        op = (node.ops or {}).get(method.upper())
        if op is None:
            return None
        names = [s[1:-1] for s in _segments(op.template) if s.startswith("{")]
        return op, dict(zip(names, values))

    def _walk(self, node: _Node, segs: list[str], i: int, values: list[str]):
        if i == len(segs):
            return (node, values) if node.ops else None
        seg = segs[i]
        child = node.static.get(seg)
        if child is not None:
            hit = self._walk(child, segs, i + 1, values)
            if hit is not None:
                return hit
        if node.param is not None and seg:
            return self._walk(node.param, segs, i + 1, values + [seg])
        return None


def _segments(path: str) -> list[str]:
    stripped = path.split("?", 1)[0].strip("/")
    return stripped.split("/") if stripped else []


@functools.lru_cache(maxsize=1)
def get_index() -> SpecIndex:
    return SpecIndex(load_spec())
