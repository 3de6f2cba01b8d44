"""One page of ``GET /jobs`` as the triggers read it: the items, and how many the whole list holds."""

from __future__ import annotations

from typing import Any


def items_and_total(response: Any) -> tuple[list[dict[str, Any]], int]:
    """The page's items and ``X-Pagination-Total-Entries`` (the page's own length when absent or bad)."""
    items = response.json() or []
    try:
        total = int(response.headers.get("X-Pagination-Total-Entries", len(items)))
    except ValueError:
        total = len(items)
    return items, total
