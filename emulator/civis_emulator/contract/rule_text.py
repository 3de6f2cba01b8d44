"""Rules the spec states in prose, read from a field's description into checks.

The Civis spec declares few ``enum``/``maximum`` keywords; most rules live in the descriptions
("One of "fail", "truncate", "append", or "drop".", "Must be at least 2 shares.", "Required if
'performNcoa' is true."). Each entry of :data:`BODY_RULES` / :data:`QUERY_RULES` is one such
phrasing: a regex over the description and a factory that turns the match into a check
(factories: :mod:`.rule_values` for a field's own value, :mod:`.rule_relations` for rules tying it to
another field). Nothing here names an endpoint: a rule applies wherever the spec writes its words.

A body check is ``check(obj, name, method, root) -> message | None``: ``obj`` is the JSON object
holding the field and ``root`` the whole body (keys re-cased to the spec's camelCase), ``name`` the
field. A query check is ``check(given, name) -> message | None`` over ``{param: [raw values]}``.
Messages name the field's fix; the engine adds the field's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from civis_emulator.contract.rule_relations import (
    _columns_when_dropped,
    _custom_mapping,
    _default_not_for_required,
    _exclusive,
    _not_with_template,
    _required_for_mode,
    _required_if_flag,
    _requires_value,
    _time_window,
)
from civis_emulator.contract.rule_values import (
    _MANY_OF,
    _ONE_OF,
    BodyCheck,
    QueryCheck,
    _at_least,
    _at_most,
    _between,
    _enum_body,
    _enum_query,
    _max_items,
    _object_count,
    _output_level,
    _retired,
    _single_ascii,
    allowed_values,
)

__all__ = ["BODY_RULES", "QUERY_RULES", "RulePhrase", "BodyCheck", "QueryCheck", "allowed_values", "checks_for"]


@dataclass(frozen=True)
class RulePhrase:
    """One way the spec words a rule: ``rule`` names it (docs, tests); ``pattern`` finds it."""

    rule: str
    pattern: re.Pattern[str]
    factory: Callable[..., Any]


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
