"""Parse-time checks of the CivisML operators' arguments: each error names the task, the field and the fix."""

from __future__ import annotations

from typing import Any

from airflow_civis.validation import check_int_id, check_table_name


def where(task_id: str) -> str:
    return f"Task {task_id!r}: "


def column_names(field: str, value: Any, task_id: str, *, required: bool = False) -> list[str] | str | None:
    """A column name or list of them (templated strings pass through)."""
    if value is None or value == [] or value == "":
        if required:
            raise ValueError(f"{where(task_id)}{field} is required: name the column(s) to use")
        return None
    if isinstance(value, str):
        return value if "{{" in value else value.split()
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) and v.strip() for v in value):
        return list(value)
    raise ValueError(f"{where(task_id)}{field} must be a column name or a list of column names, got {value!r}")


def one_source(task_id: str, table_name: Any, file_id: Any) -> None:
    """Exactly one of a table and a Civis file holds the data."""
    if (table_name is None) == (file_id is None):
        raise ValueError(
            f"{where(task_id)}give exactly one data source: table_name ('schema.table') or file_id "
            "(a Civis file holding a CSV)"
        )
    if file_id is not None:
        check_int_id("file_id", file_id, task_id)
    if table_name is not None:
        check_table_name("table_name", table_name, task_id)


def joined(names: list[str] | str | None) -> str | None:
    """Column names as CivisML's space-separated argument (a templated string passes through)."""
    if not names:
        return None
    return names if isinstance(names, str) else " ".join(names)
