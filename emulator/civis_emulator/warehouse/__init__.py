"""The emulator's warehouse (DuckDB): imports, queries, exports and table metadata, no HTTP.

Public API: :class:`Warehouse`, :class:`WarehouseError`, :class:`ImportResult`, :class:`QueryResult`.
"""

from __future__ import annotations

from .common import DEFAULT_SCHEMA, IF_EXISTS_MODES
from .core import Warehouse
from .errors import WarehouseError
from .results import ImportResult, QueryResult

__all__ = ["DEFAULT_SCHEMA", "IF_EXISTS_MODES", "ImportResult", "QueryResult", "Warehouse", "WarehouseError"]
