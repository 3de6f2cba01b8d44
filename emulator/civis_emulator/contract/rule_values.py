"""Rules about one field's own value, as the spec words them: "One of ...", minimums, maximums, sizes.

Each factory takes the regex match of the spec's words and the field's schema and returns a check
(see :mod:`.rule_text` for the shapes), or None when the words are too unclear to enforce.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from civis_emulator.contract.schemas import _short

BodyCheck = Callable[[dict[str, Any], str, str, dict[str, Any]], "str | None"]
QueryCheck = Callable[[dict[str, list[str]], str], "str | None"]


def _words(match: re.Match[str]) -> str:
    return match.group(0).strip()


# -- "One of ..." lists ----------------------------------------------------------------------------

_ONE_OF = re.compile(r"\b(?:one of:?|must be one of:?)\s+(?!the |these )(.+?)(?:\s*\[|\.(?=\s|(?-i:[A-Z])|$)|$)", re.I)
_MANY_OF = re.compile(
    r"\b(?:one or more of:?|possible values are|the valid types are)\s+(.+?)(?:\.(?=\s|(?-i:[A-Z])|$)|$)", re.I
)
_TOKEN = re.compile(r"^[\w:/ -]{1,40}$")


def allowed_values(segment: str) -> tuple[str, ...] | None:
    """'"fail", "truncate", or "drop"' / 'gzip or zip, or none' -> the values; None if unclear."""
    quoted = re.findall(r"[\"']([^\"']+)[\"']", segment)
    if quoted:
        values = [v.strip().rstrip(".") for v in quoted]  # "'cass' or 'all.'"
    else:
        values = [re.sub(r"^(?:and|or)\s+", "", v.strip()) for v in re.split(r",|\s+or\s+|\s+and\s+", segment)]
        values = [v for v in values if v]
    if len(values) < 2 or not all(_TOKEN.match(v) for v in values):
        return None
    return tuple(values)


def _enum_body(match: re.Match[str], schema: dict[str, Any]) -> BodyCheck | None:
    values = allowed_values(match.group(1))
    if values is None or schema.get("enum") or schema.get("type") not in (None, "string"):
        return None

    def check(obj: dict[str, Any], name: str, method: str, root: dict[str, Any]) -> str | None:
        value = obj.get(name)
        if value is None or value in values:
            return None
        return f"{_short(value)} is not allowed: use one of {', '.join(values)}"

    return check


def _output_level(match: re.Match[str], schema: dict[str, Any]) -> BodyCheck:
    cass, ncoa = allowed_values(match.group(1)) or (), allowed_values(match.group(2)) or ()

    def check(obj: dict[str, Any], name: str, method: str, root: dict[str, Any]) -> str | None:
        value = obj.get(name)
        values = cass if obj.get("performNcoa") is False else ncoa
        if value is None or value in values:
            return None
        kind = "CASS (performNcoa false)" if values is cass else "NCOA"
        return f"{_short(value)} is not allowed for {kind} enhancements: use one of {', '.join(values)}"

    return check


# -- numbers and sizes -----------------------------------------------------------------------------

def _number(value: Any) -> float | None:
    return float(value) if type(value) in (int, float) else None


def _at_least(match: re.Match[str], schema: dict[str, Any]) -> BodyCheck:
    low = int(match.group(1))

    def check(obj: dict[str, Any], name: str, method: str, root: dict[str, Any]) -> str | None:
        value = _number(obj.get(name))
        return f"{value:g} is too small: it must be at least {low}" if value is not None and value < low else None

    return check


def _at_most(match: re.Match[str], schema: dict[str, Any]) -> BodyCheck:
    high = int(match.group(1))

    def check(obj: dict[str, Any], name: str, method: str, root: dict[str, Any]) -> str | None:
        value = _number(obj.get(name))
        return f"{value:g} is too large: the maximum is {high}" if value is not None and value > high else None

    return check


_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600}


def _between(match: re.Match[str], schema: dict[str, Any]) -> BodyCheck:
    low = int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower().rstrip("s")]
    high = int(match.group(3)) * _UNIT_SECONDS[match.group(4).lower().rstrip("s")]

    def check(obj: dict[str, Any], name: str, method: str, root: dict[str, Any]) -> str | None:
        value = _number(obj.get(name))
        if value is None or low <= value <= high:
            return None
        return f"{value:g} seconds is out of range: use {low} to {high} seconds ({_words(match)!r})"

    return check


_SMALL = {"one": 1, "two": 2, "three": 3}


def _max_items(match: re.Match[str], schema: dict[str, Any]) -> BodyCheck:
    word = match.group(1).lower()
    high = _SMALL.get(word) or int(word)

    def check(obj: dict[str, Any], name: str, method: str, root: dict[str, Any]) -> str | None:
        value = obj.get(name)
        if isinstance(value, list) and len(value) > high:
            return f"{len(value)} items given: provide at most {high}"
        return None

    return check


def _single_ascii(match: re.Match[str], schema: dict[str, Any]) -> BodyCheck:
    def check(obj: dict[str, Any], name: str, method: str, root: dict[str, Any]) -> str | None:
        value = obj.get(name)
        if value is None or (isinstance(value, str) and len(value) == 1 and value.isascii()):
            return None
        return f"{_short(value)} is not allowed: give exactly one ASCII character"

    return check


def _retired(match: re.Match[str], schema: dict[str, Any]) -> BodyCheck:
    default = match.group(1).lower() == "true"

    def check(obj: dict[str, Any], name: str, method: str, root: dict[str, Any]) -> str | None:
        value = obj.get(name)
        if value is None or value == default:
            return None
        return f"this attribute is no longer available: leave it out (it is always {str(default).lower()})"

    return check


def _object_count(match: re.Match[str], schema: dict[str, Any]) -> BodyCheck:
    exactly = match.group(1).lower().startswith("specify exactly")
    children = tuple((schema.get("properties") or {}).keys())

    def check(obj: dict[str, Any], name: str, method: str, root: dict[str, Any]) -> str | None:
        value = obj.get(name)
        if not isinstance(value, dict):
            return None
        given = [k for k in value if value[k] is not None]
        if len(given) > 1 or (exactly and not given):
            what = "exactly one" if exactly else "only one"
            return f"give {what} of {', '.join(children)} (got {', '.join(given) or 'none'})"
        return None

    return check


def _enum_query(match: re.Match[str], param: dict[str, Any]) -> QueryCheck | None:
    values = allowed_values(match.group(1))
    if values is None or param.get("enum"):
        return None
    lowered = {v.lower() for v in values}
    many = _MANY_OF.search(match.group(0)) is not None or "comma-separated" in (param.get("description") or "")

    def check(given: dict[str, list[str]], name: str) -> str | None:
        raws = [r for r in given.get(name, ()) if r != ""]
        items = [v.strip() for r in raws for v in (r.split(",") if many else [r])]
        bad = [v for v in items if v and v.lower() not in lowered]
        if bad:
            return f"{_short(bad[0])} is not allowed: use {'any' if many else 'one'} of {', '.join(values)}"
        return None

    return check
