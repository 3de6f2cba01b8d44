"""Checks run when a DAG is parsed: each error names the task, the field and the fix."""

from __future__ import annotations

from typing import Any


def check_positive_number(field: str, value: Any, task_id: str | None = None) -> float:
    where = f"Task {task_id!r}: " if task_id else ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}{field} must be a number of seconds > 0, got {value!r}")
    if value <= 0:
        raise ValueError(f"{where}{field} must be > 0, got {value!r}")
    return float(value)


def check_choice(field: str, value: Any, choices: tuple[str, ...], task_id: str | None = None) -> str:
    where = f"Task {task_id!r}: " if task_id else ""
    if value not in choices:
        raise ValueError(f"{where}{field} must be one of {', '.join(choices)}; got {value!r}")
    return value


def check_int_id(field: str, value: Any, task_id: str | None = None) -> Any:
    """Ids may be templated strings (``{{ ti.xcom_pull(...) }}``), checked after rendering."""
    where = f"Task {task_id!r}: " if task_id else ""
    if isinstance(value, str) and "{{" in value:
        return value
    if isinstance(value, bool):
        raise ValueError(f"{where}{field} must be an integer id, got {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}{field} must be an integer id, got {value!r}") from None
    if number <= 0:
        raise ValueError(f"{where}{field} must be a positive id, got {value!r}")
    return number
