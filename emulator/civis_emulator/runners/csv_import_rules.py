"""The Imports API's rule for ``tableColumns`` on ``POST /imports/files/csv``, in one place.

The spec: ``tableColumns`` "is required if the table does not exist, the table is being dropped, or the
columns in the source file do not appear in the same order as in the destination table. The "sqlType"
key is not required when appending to an existing table." The request is checked when the import is
created or changed (the table's existence as it is then), and the run checks again (the table may have
been dropped since), so a client that leaves the columns out never gets them guessed for it.
"""

from __future__ import annotations

from typing import Any


def table_columns_problem(doc: dict[str, Any], table_exists: bool) -> str | None:
    """Why ``doc`` (a CSV import's fields) cannot load into its table as it stands, or None."""
    dest = doc.get("destination") or {}
    where = f"{dest.get('schema')}.{dest.get('table')}"
    dropping = (doc.get("existingTableRows") or "fail") == "drop"
    if table_exists and not dropping:
        return None
    why = "is being dropped (existingTableRows: drop)" if table_exists else "does not exist"
    columns = doc.get("tableColumns") or []
    if not columns:
        return (f"tableColumns is required because table {where} {why}: list every column of the file in "
                "order as {\"name\", \"sqlType\"} (POST /files/preprocess/csv with detectTableColumns "
                "detects them)")
    untyped = [str(c.get("name")) for c in columns if not c.get("sqlType")]
    if untyped:
        return (f"tableColumns[].sqlType is required because table {where} {why} (it is optional only when "
                f"appending to an existing table); missing for column(s) {', '.join(untyped)}")
    return None
