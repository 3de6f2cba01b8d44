"""Rules that tie a field to another field of the same request ("Required if 'performNcoa' is true.",
"Cannot be present if group_ids is.") and the query rules about times.

A requirement is enforced on POST and PUT (the whole object is sent); a PATCH may rely on values the
API already stores, so only what the PATCH itself contradicts is rejected.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from civis_emulator.contract.rule_values import BodyCheck, QueryCheck, _short, _words

_FULL = ("POST", "PUT")  # conditional requirements: a PATCH may rely on stored values


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _required_if_flag(match: re.Match[str], schema: dict[str, Any]) -> BodyCheck:
    other, flag = match.group(1), match.group(2).lower() == "true"

    def check(obj: dict[str, Any], name: str, method: str, root: dict[str, Any]) -> str | None:
        if method in _FULL and obj.get(other) is flag and _empty(obj.get(name)):
            return f"required when {other} is {str(flag).lower()}: give {name}"
        return None

    return check


def _required_for_mode(match: re.Match[str], schema: dict[str, Any]) -> BodyCheck:
    mode = match.group(1)

    def check(obj: dict[str, Any], name: str, method: str, root: dict[str, Any]) -> str | None:
        rows = obj.get("existingTableRows", root.get("existingTableRows"))  # destination.primaryKeys
        if method in _FULL and rows == mode and _empty(obj.get(name)):
            return f"required when existingTableRows is {mode!r}: give {name}"
        return None

    return check


def _columns_when_dropped(match: re.Match[str], schema: dict[str, Any]) -> BodyCheck:
    def check(obj: dict[str, Any], name: str, method: str, root: dict[str, Any]) -> str | None:
        if method not in _FULL or obj.get("existingTableRows") != "drop":
            return None
        columns = obj.get(name)
        if _empty(columns):
            return f"required when existingTableRows is 'drop' (the table is re-created): give {name}"
        for i, column in enumerate(columns if isinstance(columns, list) else ()):
            if isinstance(column, dict) and not (column.get("sqlType") or column.get("sql_type")):
                return f"item {i} has no sqlType: every column needs one when the table is dropped"
        return None

    return check


def _custom_mapping(match: re.Match[str], schema: dict[str, Any]) -> BodyCheck:
    def check(obj: dict[str, Any], name: str, method: str, root: dict[str, Any]) -> str | None:
        if method in _FULL and obj.get(name) is False and _empty(obj.get("columnMapping")):
            return f"{name} is false: give a columnMapping"
        return None

    return check


def _not_with_template(match: re.Match[str], schema: dict[str, Any]) -> BodyCheck:
    def check(obj: dict[str, Any], name: str, method: str, root: dict[str, Any]) -> str | None:
        if obj.get("templateScriptId") is not None and not _empty(obj.get(name)):
            return f"cannot be set on a script from a template (templateScriptId): leave {name} out"
        return None

    return check


def _default_not_for_required(match: re.Match[str], schema: dict[str, Any]) -> BodyCheck:
    def check(obj: dict[str, Any], name: str, method: str, root: dict[str, Any]) -> str | None:
        if _empty(obj.get(name)):
            return None
        if obj.get("required") is True:
            return "a required parameter cannot have a default: drop the default or make it optional"
        if str(obj.get("type") or "").lower().startswith("credential"):
            return "a credential parameter cannot have a default: leave the default out"
        return None

    return check


def _exclusive(match: re.Match[str], param: dict[str, Any]) -> QueryCheck:
    other = match.group(1)

    def check(given: dict[str, list[str]], name: str) -> str | None:
        if given.get(name) and given.get(other):
            return f"cannot be given together with {other}: give one of them"
        return None

    return check


def _requires_value(match: re.Match[str], param: dict[str, Any]) -> QueryCheck:
    value, other = match.group(1), match.group(2)

    def check(given: dict[str, list[str]], name: str) -> str | None:
        if any(given.get(name, ())) and [v for r in given.get(other, ()) for v in r.split(",")] != [value]:
            return f"needs {other}={value} (the spec: {_words(match)!r})"
        return None

    return check


def _time_window(match: re.Match[str], param: dict[str, Any]) -> QueryCheck:
    hours = int(match.group(1))

    def check(given: dict[str, list[str]], name: str) -> str | None:
        raw = (given.get(name) or [""])[-1]
        if not raw:
            return None
        try:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return f"{_short(raw)} is not an ISO 8601 time"
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        now = datetime.now(timezone.utc)
        if not now - timedelta(seconds=5) <= when <= now + timedelta(hours=hours):
            return f"{raw} is outside the allowed window: give a time between now and {hours} hours from now"
        return None

    return check
