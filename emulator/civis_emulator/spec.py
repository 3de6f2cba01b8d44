"""The official Civis API spec (shipped in the ``civis`` package), used as the emulator's source of truth.

* :func:`match` maps a concrete request path to the spec's templated path (``/scripts/python3/{id}/runs``).
* :func:`response_schema` / :func:`conform` project a stored document onto the response schema, so every
  field the spec declares is present (``null`` when the emulator has no value) and nothing else leaks out.
* :func:`list_defaults` reads the default/maximum ``limit`` and default ``order``/``order_dir`` of a list
  endpoint from the parameter descriptions.

Only the JSON file is read: ``civis.APIClient`` is never imported.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
from typing import Any

_METHODS = ("get", "post", "put", "patch", "delete")


def spec_path() -> str:
    found = importlib.util.find_spec("civis")
    if found is None or not found.submodule_search_locations:
        raise RuntimeError("the 'civis' package (which ships the API spec) is not installed")
    return os.path.join(list(found.submodule_search_locations)[0], "resources", "civis_api_spec.json")


@functools.lru_cache(maxsize=1)
def load_spec() -> dict:
    with open(spec_path(), encoding="utf-8") as fh:
        return json.load(fh)


def normalize(path: str) -> str:
    return path.rstrip("/") or "/"


@functools.lru_cache(maxsize=1)
def _templates() -> list[tuple[re.Pattern, str, frozenset, int]]:
    """(regex, normalized template, methods, literal segment count), most literal first."""
    out = []
    for template, ops in load_spec()["paths"].items():
        int_params = {
            p["name"]
            for op in ops.values()
            if isinstance(op, dict)
            for p in op.get("parameters", [])
            if p.get("in") == "path" and p.get("type") == "integer"
        }
        norm = normalize(template)
        parts, literals = [], 0
        for seg in norm.strip("/").split("/"):
            m = re.fullmatch(r"\{(\w+)\}", seg)
            if m:
                parts.append(r"\d+" if m.group(1) in int_params else r"[^/]+")
            else:
                literals += 1
                parts.append(re.escape(seg))
        regex = re.compile("^/" + "/".join(parts) + "$")
        methods = frozenset(m.upper() for m in ops if m in _METHODS)
        out.append((regex, norm, methods, literals))
    out.sort(key=lambda t: -t[3])
    return out


@functools.lru_cache(maxsize=4096)
def match(method: str, path: str) -> tuple[str | None, bool]:
    """Return (templated path, method supported) for a concrete path, or (None, False)."""
    path = normalize(path)
    method = method.upper()
    first = None
    for regex, norm, methods, _ in _templates():
        if regex.match(path):
            if method in methods:
                return norm, True
            first = first or norm
    return first, False


def _raw_template(template: str) -> str:
    paths = load_spec()["paths"]
    if template in paths:
        return template
    return template + "/"


def operation(method: str, template: str) -> dict:
    return load_spec()["paths"][_raw_template(template)].get(method.lower()) or {}


def resolve(schema: dict | None) -> dict:
    while schema and "$ref" in schema:
        schema = load_spec()["definitions"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema or {}


def response_schema(method: str, template: str, status: int) -> dict | None:
    responses = operation(method, template).get("responses", {})
    resp = responses.get(str(status)) or next(iter(responses.values()), None)
    return resolve(resp.get("schema")) if resp and resp.get("schema") else None


def body_schema(method: str, template: str) -> dict | None:
    for p in operation(method, template).get("parameters", []):
        if p.get("in") == "body":
            return resolve(p.get("schema"))
    return None


def conform(schema: dict | None, data: Any) -> Any:
    """Shape ``data`` like ``schema``: declared fields only, missing ones as None, recursively."""
    schema = resolve(schema)
    if data is None or not schema:
        return data
    if schema.get("type") == "array":
        if isinstance(data, list):
            return [conform(schema.get("items"), item) for item in data]
        return data
    props = schema.get("properties")
    if props and isinstance(data, dict):
        return {key: conform(sub, data.get(key)) for key, sub in props.items()}
    return data


@functools.lru_cache(maxsize=512)
def list_defaults(template: str) -> dict:
    """Defaults of a list endpoint: limit, max_limit, order, orders, order_dir (from the spec text)."""
    out: dict[str, Any] = {"limit": None, "max_limit": None, "order": None, "orders": (), "order_dir": "desc"}
    for p in operation("get", template).get("parameters", []):
        desc = p.get("description") or ""
        if p["name"] == "limit":
            m = re.search(r"Defaults? (?:to |of )(?:its maximum of )?(\d+)", desc)
            out["limit"] = int(m.group(1)) if m else None
            m = re.search(r"[Mm]aximum (?:allowed is |of )(\d+)", desc)
            out["max_limit"] = int(m.group(1)) if m else out["limit"]
        elif p["name"] == "order":
            m = re.search(r"Defaults to ([\w.]+)\.", desc)
            out["order"] = m.group(1) if m else None
            m = re.search(r"Must be one of: ([\w., ]+)\.", desc)
            out["orders"] = tuple(x.strip() for x in m.group(1).split(",")) if m else ()
        elif p["name"] == "order_dir":
            m = re.search(r"defaulting to (asc|desc)", desc)
            out["order_dir"] = m.group(1) if m else "desc"
    return out
