"""Where the spec's types are wrong and the real API wins: fields excused per operation and pointer."""

from __future__ import annotations

import re

# Fields the spec types as "string" that carry any JSON value on the real API (its x-examples send
# objects and numbers): a JSON value's value, and run outputs' value (handled by template suffix).
_ANY_TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "/json_values": ("/value",),
    "/json_values/{id}": ("/value",),
    "/queries": ("/*/resultRows/*/*",),
    "/queries/{id}": ("/resultRows/*/*",),
}

_INDEX = re.compile(r"/\d+(?=/|$)")


def _pattern(pointer: str) -> str:
    return _INDEX.sub("/*", pointer)


def _violation_kind(message: str) -> str | None:
    """"expected string, got integer 8" -> "integer"; '"X" is not one of [...]' -> '"X"'."""
    if message.startswith("expected "):
        got = message.split(", got ", 1)
        return got[1].split(" ", 1)[0] if len(got) == 2 else None
    if " is not one of " in message:
        return message.split(" is not one of ", 1)[0]
    return None


def _excused(errata: frozenset[tuple[str, str]], field: str, message: str) -> bool:
    pattern = _pattern(field)
    if (pattern, "*") in errata:
        return True
    kind = _violation_kind(message)
    return kind is not None and (pattern, kind) in errata
