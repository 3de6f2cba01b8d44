"""The one exception the warehouse raises."""

from __future__ import annotations


class WarehouseError(Exception):
    """A warehouse operation failed; the message is the warehouse's own (safe to show to users)."""
