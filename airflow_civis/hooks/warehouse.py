"""Databases, credentials and tables: the lookups every data-movement operator shares.

Resolve a database given by name or id (``GET /databases``), the user's default database credential
(``GET /credentials?default=true&type=Database``), and a table by ``schema.table``
(``GET /databases/{id}/schemas/{schema}/tables/{table}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_civis.exceptions import CivisAPIError, CivisError
from airflow_civis.hooks.civis import CivisHook


@dataclass(frozen=True)
class Target:
    """Where SQL runs: the database's id and the credential to use."""

    database_id: int
    credential_id: int


def resolve_database(hook: CivisHook, database: int | str | None) -> int:
    """A database id from an id (``7``, ``"7"``) or a name (exact, else case-insensitive); ``None`` means
    the only database the API key can see (never a guess among several)."""
    if isinstance(database, int) and not isinstance(database, bool):
        return database
    if database is None or str(database).strip() == "":
        return _sole_database(hook)
    text = str(database).strip()
    if text.isdigit():
        return int(text)
    found = list(hook.paginate("/databases"))
    for match in (lambda d: d.get("name") == text, lambda d: str(d.get("name", "")).lower() == text.lower()):
        hits = [d for d in found if match(d)]
        if hits:
            return int(hits[0]["id"])
    names = ", ".join(repr(d.get("name")) for d in found) or "none"
    raise CivisError(f"Database {text!r} not found; the databases this API key can see: {names}")


def _sole_database(hook: CivisHook) -> int:
    found = list(hook.paginate("/databases"))
    if len(found) != 1:
        names = ", ".join(repr(d.get("name")) for d in found) or "none"
        raise CivisError(f"No database given and this API key sees {len(found)} databases ({names}): "
                         "pass database= (a name or an id)")
    return int(found[0]["id"])


def default_credential_id(hook: CivisHook) -> int:
    """The user's default *database* credential, as civis-python's ``default_database_credential_id``
    (``type=Database``: an account's default credential of another type is no database login)."""
    creds = hook.call("GET", "/credentials", params={"default": "true", "type": "Database"}) or []
    if not creds:
        raise CivisError("No default database credential: pass credential_id explicitly")
    return int(creds[0]["id"])


def resolve_target(hook: CivisHook, database: int | str | None, credential_id: int | str | None = None) -> Target:
    """Database id and credential id (the user's default credential when none is given)."""
    db_id = resolve_database(hook, database)
    cred = int(credential_id) if credential_id not in (None, "") else default_credential_id(hook)
    return Target(db_id, cred)


def split_table(table: str) -> tuple[str, str]:
    """``"schema.table"`` -> ``("schema", "table")``; ValueError naming the expected form."""
    parts = str(table).strip().split(".")
    if len(parts) != 2 or not all(p.strip().strip('"') for p in parts):
        raise ValueError(f"table must be 'schema.table', got {table!r}")
    return parts[0].strip().strip('"'), parts[1].strip().strip('"')


def get_table(hook: CivisHook, database_id: int, schema: str, table: str) -> dict[str, Any] | None:
    """The table's details (columns, rowCount, lastRefresh, ...), or None when it does not exist."""
    try:
        return hook.call("GET", f"/databases/{int(database_id)}/schemas/{schema}/tables/{table}")
    except CivisAPIError as err:
        if err.status == 404:
            return None
        raise
