"""Rules the spec states in prose, read from a field's description into checks.

The Civis spec declares few ``enum``/``maximum`` keywords; most rules live in the descriptions
("One of "fail", "truncate", "append", or "drop".", "Must be at least 2 shares.", "Required if
'performNcoa' is true."). Each entry of :data:`BODY_RULES` / :data:`QUERY_RULES` is one such
phrasing: a regex over the description and a factory that turns the match into a check. Nothing
here names an endpoint: a rule applies wherever the spec writes its words.

A body check is ``check(obj, name, method, root) -> message | None``: ``obj`` is the JSON object
holding the field and ``root`` the whole body (keys re-cased to the spec's camelCase), ``name`` the
field. A query check is
``check(given, name) -> message | None`` over ``{param: [raw values]}``. Messages name the fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_civis.emulator.contract.schemas import _short

BodyCheck = Callable[[dict[str, Any], str, str, dict[str, Any]], "str | None"]
QueryCheck = Callable[[dict[str, list[str]], str], "str | None"]
_FULL = ("POST", "PUT")  # conditional requirements: a PATCH may rely on stored values


@dataclass(frozen=True)
class RulePhrase:
    """One way the spec words a rule: ``rule`` names it (docs, tests); ``pattern`` finds it."""

    rule: str
    pattern: re.Pattern[str]
    factory: Callable[..., Any]


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


# -- requirements that depend on another field of the same request --------------------------------

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


def _phrase(rule: str, regex: str, factory: Callable[..., Any]) -> RulePhrase:
    return RulePhrase(rule, re.compile(regex, re.I | re.S), factory)


BODY_RULES: tuple[RulePhrase, ...] = (
    _phrase("output-level", r"For CASS enhancements, one of (.+?)\s*For NCOA enhancements, one of (.+?)\s*By default",
            _output_level),
    _phrase("one-of", _ONE_OF.pattern, _enum_body),
    _phrase("at-least", r"Must be at least (\d+)", _at_least),
    _phrase("maximum", r"\(maximum: (\d+)\)", _at_most),
    _phrase("range", r"Must not be less than (\d+) (seconds?|minutes?|hours?) "
                     r"or greater than (\d+) (seconds?|minutes?|hours?)", _between),
    _phrase("max-items", r"provide a maximum of (\w+)", _max_items),
    _phrase("single-ascii", r"Must be a single ASCII character", _single_ascii),
    _phrase("retired", r"no longer available; defaults to (true|false) but cannot be used", _retired),
    _phrase("one-object", r"(Should contain only|Specify exactly) one (?:of the following objects|source|destination)",
            _object_count),
    _phrase("required-if-flag", r"Required if '(\w+)' is (true|false)", _required_if_flag),
    _phrase("required-for-mode", r"(?:^|\.\s*)If the import mode is \"(\w+)\", this field is required",
            _required_for_mode),
    _phrase("columns-when-dropped", r"required if the table does not exist, the table is being dropped",
            _columns_when_dropped),
    _phrase("custom-mapping", r"If false, a custom column mapping must be provided", _custom_mapping),
    _phrase("not-with-template", r"Cannot be set if this script uses a template script", _not_with_template),
    _phrase("default-not-for-required", r"Cannot be used for parameters that are required or a credential type",
            _default_not_for_required),
)


# -- query parameters ------------------------------------------------------------------------------

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


QUERY_RULES: tuple[RulePhrase, ...] = (
    _phrase("one-of", _MANY_OF.pattern, _enum_query),
    _phrase("one-of", _ONE_OF.pattern, _enum_query),
    _phrase("exclusive", r"Cannot be present if (\w+) is", _exclusive),
    _phrase("requires-value", r"'(\w+)' must be specified for '(\w+)'", _requires_value),
    _phrase("time-window", r"Must be a time between now and (\d+) hours from now", _time_window),
)


def checks_for(rules: tuple[RulePhrase, ...], description: str, schema: dict[str, Any]) -> list[tuple[str, Any]]:
    """(rule name, check) for every phrasing found in ``description`` (first of a rule name wins)."""
    found: list[tuple[str, Any]] = []
    names: set[str] = set()
    for phrase in rules:
        if phrase.rule in names or (phrase.rule == "one-of" and "output-level" in names):
            continue
        match = phrase.pattern.search(description)
        if match is None:
            continue
        check = phrase.factory(match, schema)
        if check is not None:
            found.append((phrase.rule, check))
            names.add(phrase.rule)
    return found
