"""The emulator's databases, in one place (``GET /databases``, ``GET /databases/{id}/schemas``).

Database 1 is the local warehouse. A warehouse implementation plugs in with::

    from civis_emulator import databases
    databases.set_schema_provider(1, lambda state: ["public", "scratch"])   # state: EmulatorState
    databases.register_database({"id": 2, "name": "Other", ...})           # fields of GET /databases
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DEFAULT_DATABASE_ID = 1
DEFAULT_DATABASE_NAME = "Civis Emulator Warehouse"

_DATABASES: dict[int, dict] = {
    DEFAULT_DATABASE_ID: {
        "id": DEFAULT_DATABASE_ID,
        "name": DEFAULT_DATABASE_NAME,
        "adapter": "redshift",
        "clusterIdentifier": None,
        "host": "127.0.0.1",
        "port": 5439,
        "databaseName": "emulator",
        "managed": True,
    }
}
_SCHEMA_PROVIDERS: dict[int, Callable[[Any], list[str]]] = {DEFAULT_DATABASE_ID: lambda state: ["public"]}


def register_database(doc: dict, schema_provider: Callable[[Any], list[str]] | None = None) -> None:
    _DATABASES[int(doc["id"])] = dict(doc)
    if schema_provider is not None:
        _SCHEMA_PROVIDERS[int(doc["id"])] = schema_provider


def set_schema_provider(database_id: int, fn: Callable[[Any], list[str]]) -> None:
    _SCHEMA_PROVIDERS[database_id] = fn


def list_databases() -> list[dict]:
    return [dict(d) for _, d in sorted(_DATABASES.items())]


def get_database(database_id: int) -> dict | None:
    d = _DATABASES.get(database_id)
    return dict(d) if d else None


def find_by_name(name: str) -> dict | None:
    return next((dict(d) for d in _DATABASES.values() if d["name"] == name), None)


def list_schemas(state: Any, database_id: int) -> list[str]:
    provider = _SCHEMA_PROVIDERS.get(database_id)
    return sorted(provider(state)) if provider else []
