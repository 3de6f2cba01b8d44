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


def check_bool(field: str, value: Any, task_id: str | None = None) -> bool:
    """Only real booleans: YAML's quoted ``"false"`` would otherwise silently mean True."""
    where = f"Task {task_id!r}: " if task_id else ""
    if not isinstance(value, bool):
        raise ValueError(f"{where}{field} must be true or false (unquoted in YAML), got {value!r}")
    return value


def check_count(field: str, value: Any, task_id: str | None = None, minimum: int = 0) -> int:
    where = f"Task {task_id!r}: " if task_id else ""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{where}{field} must be a whole number >= {minimum}, got {value!r}")
    return value


def _templated(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


def check_table_name(field: str, value: Any, task_id: str | None = None) -> Any:
    """``schema.table`` (both parts present); templated strings are checked after rendering."""
    where = f"Task {task_id!r}: " if task_id else ""
    if _templated(value):
        return value
    parts = value.split(".") if isinstance(value, str) else []
    if len(parts) != 2 or not all(p.strip().strip('"') for p in parts):
        raise ValueError(f"{where}{field} must be 'schema.table', got {value!r}")
    return value


def check_non_negative_int(field: str, value: Any, task_id: str | None = None, *, allow_none: bool = True) -> Any:
    where = f"Task {task_id!r}: " if task_id else ""
    if value is None and allow_none:
        return None
    if _templated(value):
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where}{field} must be an integer >= 0, got {value!r}")
    return value


def check_required(field: str, value: Any, task_id: str | None = None, hint: str = "") -> Any:
    where = f"Task {task_id!r}: " if task_id else ""
    if value is None or (isinstance(value, (str, list, tuple)) and not value):
        raise ValueError(f"{where}{field} is required{': ' + hint if hint else ''}")
    return value
