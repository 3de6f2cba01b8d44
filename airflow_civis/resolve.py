"""The one resolver: databases, credentials and table names, looked up the same way everywhere.

Every operator, sensor and lineage builder resolves through here, so a database named ``"Redshift"``
means the same database to a query, a CivisML model and a lineage event:

- a database by id (``7``, ``"7"``: no request) or by name (``GET /databases``, as civis-python's
  ``get_database_id``: an exact match first, else a case-insensitive one); no database means the only one
  the API key sees, never a guess among several;
- the user's default *database* credential (``GET /credentials?default=true&type=Database``, as
  civis-python's ``default_database_credential_id``);
- ``schema.table`` names (:func:`split_table`) and a table's details
  (``GET /databases/{id}/schemas/{schema}/tables/{table}``).

A lookup that finds nothing raises :class:`~airflow_civis.exceptions.CivisLookupError`, naming what was
looked up, what exists and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_civis.exceptions import CivisAPIError, CivisLookupError

if TYPE_CHECKING:
    from airflow_civis.hooks.civis import CivisHook


@dataclass(frozen=True)
class Target:
    """Where SQL runs: the database's id and the credential to use."""

    database_id: int
    credential_id: int


def list_databases(hook: CivisHook) -> list[dict[str, Any]]:
    """Every database the API key sees (``GET /databases``; the hook's paging stops after the one page
    this endpoint answers)."""
    return list(hook.paginate("/databases"))


def _names(databases: list[dict[str, Any]]) -> list[str]:
    return [repr(d.get("name")) for d in databases]


def find_database(hook: CivisHook, database: int | str | None, *, argument: str = "database") -> dict[str, Any]:
    """The database's record (``id``, ``name``) from an id, a name (exact, else case-insensitive) or
    None (the only database the API key sees). ``argument``: the operator's own name for it, for the fix."""
    databases = list_databases(hook)
    available = _names(databases)
    if database is None or str(database).strip() == "":
        if len(databases) != 1:
            raise CivisLookupError(
                f"No database given and this API key sees {len(databases)} databases "
                f"({', '.join(available) or 'none'}): pass {argument}= (a name or an id)",
                what="database", wanted=None, available=available)
        return databases[0]
    text = str(database).strip()
    if text.isdigit():
        hits = [d for d in databases if str(d.get("id")) == text]
    else:
        hits = [d for d in databases if d.get("name") == text] or [
            d for d in databases if str(d.get("name", "")).lower() == text.lower()]
    if not hits:
        raise CivisLookupError(
            f"Database {text!r} not found; the databases this API key can see: {', '.join(available) or 'none'}. "
            f"Pass {argument}= one of these names, or an id", what="database", wanted=database, available=available)
    return hits[0]


def resolve_database(hook: CivisHook, database: int | str | None, *, argument: str = "database") -> int:
    """A database id: an id as given (no request), else :func:`find_database`'s."""
    if isinstance(database, int) and not isinstance(database, bool):
        return database
    if database is not None and str(database).strip().isdigit():
        return int(str(database).strip())
    return int(find_database(hook, database, argument=argument)["id"])


def database_name(hook: CivisHook, database: int | str | None) -> str | None:
    """The database's name as the API lists it; None when it cannot be resolved (lineage then names the
    database by what the DAG gave)."""
    try:
        return str(find_database(hook, database)["name"])
    except CivisLookupError:
        return None


def default_credential_id(hook: CivisHook) -> int:
    """The user's default *database* credential, as civis-python's ``default_database_credential_id``
    (``type=Database``: an account's default credential of another type is no database login)."""
    creds = hook.call("GET", "/credentials", params={"default": "true", "type": "Database"}) or []
    if not creds:
        raise CivisLookupError(
            "No default database credential (GET /credentials?default=true&type=Database found none): "
            "pass credential_id explicitly", what="credential", wanted="default Database credential")
    return int(creds[0]["id"])


def resolve_target(hook: CivisHook, database: int | str | None, credential_id: int | str | None = None) -> Target:
    """Database id and credential id (the user's default database credential when none is given)."""
    db_id = resolve_database(hook, database)
    cred = int(credential_id) if credential_id not in (None, "") else default_credential_id(hook)
    return Target(db_id, cred)


def split_table(table: Any, field: str = "table", task_id: str | None = None) -> tuple[str, str]:
    """``"schema.table"`` -> ``("schema", "table")`` (surrounding quotes and spaces dropped); a
    ``ValueError`` naming the task, the field and the expected form otherwise."""
    parts = table.strip().split(".") if isinstance(table, str) else []
    names = [p.strip().strip('"') for p in parts]
    if len(names) != 2 or not all(names):
        where = f"Task {task_id!r}: " if task_id else ""
        raise ValueError(f"{where}{field} must be 'schema.table', got {table!r}")
    return names[0], names[1]


def get_table(hook: CivisHook, database_id: int, schema: str, table: str) -> dict[str, Any] | None:
    """The table's details (columns, rowCount, lastRefresh, ...), or None when it does not exist."""
    try:
        return hook.call("GET", f"/databases/{int(database_id)}/schemas/{schema}/tables/{table}")
    except CivisAPIError as err:
        if err.status == 404:
            return None
        raise
