"""Helpers shared by the routers: timestamps, the emulated user, spec-shaped responses, lists."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from . import spec
from .errors import bad_request

USER: dict[str, Any] = {
    "id": 1,
    "name": "Emulator User",
    "username": "emulator",
    "email": "emulator@localhost",
    "initials": "EU",
    "online": True,
}
ORGANIZATION: dict[str, Any] = {"id": 1, "name": "Civis Emulator", "slug": "civis-emulator"}


def now_iso() -> str:
    t = datetime.now(timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def author() -> dict:
    return {k: USER[k] for k in ("id", "name", "username", "initials", "online")}


def template_of(request: Request) -> str:
    template, _ = spec.match(request.method, request.url.path)
    return template or request.url.path


def shaped(request: Request, data: Any, status: int = 200, template: str | None = None) -> Any:
    template = template or template_of(request)
    return spec.conform(spec.response_schema(request.method, template, status), data)


def respond(request: Request, data: Any, status: int = 200, headers: dict | None = None) -> Response:
    if data is None:
        return Response(status_code=status, headers=headers)
    return JSONResponse(shaped(request, data, status), status_code=status, headers=headers)


def _camel(s: str) -> str:
    head, *rest = s.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _sort_value(item: dict, order: str):
    value: Any = item
    for part in order.split("."):
        value = value.get(_camel(part)) if isinstance(value, dict) else None
    return value


def _sort_key(value: Any) -> tuple:
    if value is None:  # as PostgreSQL orders: NULLs above every value (last ascending, first descending)
        return (3, 0)
    if isinstance(value, (bool, int, float)):
        return (1, value)
    return (2, str(value))


def query_list(request: Request, name: str) -> list[str] | None:
    """A comma-separated (``a,b``) or repeated array (``name[]=a&name[]=b``) query parameter."""
    values = request.query_params.getlist(name) + request.query_params.getlist(name + "[]")
    if not values:
        return None
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer") from None


def paginate(request: Request, items: Iterable[dict], template: str | None = None) -> Response:
    """Order and page ``items`` like a Civis list endpoint, with the X-Pagination-* headers."""
    template = template or template_of(request)
    d = spec.list_defaults(template)
    items = list(items)
    order = request.query_params.get("order") or d["order"] or "id"
    if d["orders"] and order not in d["orders"]:
        raise bad_request(f"order must be one of: {', '.join(d['orders'])}")
    order_dir = (request.query_params.get("order_dir") or d["order_dir"]).lower()
    if order_dir not in ("asc", "desc"):
        raise bad_request("order_dir must be asc or desc")
    items.sort(key=lambda it: it.get("id") or 0)
    items.sort(key=lambda it: _sort_key(_sort_value(it, order)))
    if order_dir == "desc":
        items.reverse()
    limit = _int_param(request, "limit") or d["limit"] or 50
    if d["max_limit"]:
        limit = min(limit, d["max_limit"])
    limit = max(limit, 1)
    page = max(_int_param(request, "page_num") or 1, 1)
    total = len(items)
    chunk = items[(page - 1) * limit: page * limit]
    headers = {
        "X-Pagination-Current-Page": str(page),
        "X-Pagination-Per-Page": str(limit),
        "X-Pagination-Total-Entries": str(total),
        "X-Pagination-Total-Pages": str(max(1, math.ceil(total / limit))),
        "Access-Control-Expose-Headers": "X-Pagination-Per-Page, X-Pagination-Current-Page, "
        "X-Pagination-Total-Pages, X-Pagination-Total-Entries",
    }
    return JSONResponse(shaped(request, chunk, 200, template), headers=headers)


# Keys whose values are user data (their keys must not be re-cased).
_OPAQUE = {"arguments", "value", "providerMetadata", "featureFlags", "preferences"}


def camelize(data: Any) -> Any:
    """Accept snake_case request bodies (the API's own examples use them) as well as camelCase."""
    if isinstance(data, list):
        return [camelize(x) for x in data]
    if not isinstance(data, dict):
        return data
    out = {}
    for key, value in data.items():
        key = _camel(key) if isinstance(key, str) and "_" in key.strip("_") else key
        out[key] = value if key in _OPAQUE else camelize(value)
    return out


def parse_body(body: Any, required: Iterable[str] = ()) -> dict:
    """Validate a JSON request body (FastAPI parsed it) and re-case its keys to camelCase."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    body = camelize(body)
    missing = [f for f in required if body.get(f) in (None, "")]
    if missing:
        raise bad_request("Validation failed: " + ", ".join(f"{m} is required" for m in missing))
    return body


def required_fields(method: str, template: str) -> list[str]:
    schema = spec.body_schema(method, template) or {}
    return list(schema.get("required", []))


_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def snake(s: str) -> str:
    return _SNAKE.sub("_", s).lower()
