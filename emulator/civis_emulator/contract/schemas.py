"""Swagger 2.0 schema -> validator closures, with the JSON type checks they use.

Response rules and request rules (see the package docstring) differ only in how ``required``, ``null``,
strings and single values for arrays are treated: one :class:`_Compiler` per rule set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

# The exact snake_case names civis.APIClient derives from the spec's camelCase (the same two
# regexes as civis._camel_to_snake; importing that would import all of civis).
_U1 = re.compile(r"(.)([A-Z][a-z]+)")
_U2 = re.compile("([a-z0-9])([A-Z])")


def camel_to_snake(word: str) -> str:
    return _U2.sub(r"\1_\2", _U1.sub(r"\1_\2", word)).lower()


# A validator takes a value and returns None (valid) or a list of errors; an error is
# [message, key_n, ..., key_1]: keys are appended while the error bubbles up, so the happy path
# builds no strings at all.
Validator = Callable[[Any], "list[list[Any]] | None"]

_JSON_TYPE = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
    type(None): "null",
}


def _type_name(value: Any) -> str:
    return _JSON_TYPE.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_integer(v: Any) -> bool:
    return (type(v) is int) or (type(v) is float and v.is_integer())


def _is_number(v: Any) -> bool:
    return type(v) in (int, float)


_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "integer": _is_integer,
    "number": _is_number,
    "string": lambda v: type(v) is str,
    "boolean": lambda v: type(v) is bool,
    "array": lambda v: type(v) is list,
    "object": lambda v: type(v) is dict,
}


def _is_scalar(v: Any) -> bool:
    return type(v) in (str, int, float, bool)


def _ok(_value: Any) -> None:
    return None


class _Compiler:
    """Compiles Swagger 2.0 schemas into validator closures.

    ``request=False``: response rules (required = key present; null accepted everywhere).
    ``request=True``: request rules (required = present and not null; snake_case aliases).
    """

    def __init__(self, definitions: dict[str, Any], *, request: bool) -> None:
        self.definitions = definitions
        self.request = request
        self._refs: dict[str, Validator] = {}

    def compile(self, schema: dict[str, Any] | None) -> Validator:
        if not schema:
            return _ok
        ref = schema.get("$ref")
        if ref:
            return self._ref(ref)
        typ = schema.get("type")
        props = schema.get("properties")
        if typ is None and props is not None:
            typ = "object"
        if typ == "object" or props is not None:
            return self._object(schema)
        if typ == "array":
            return self._array(schema)
        enum = schema.get("enum")
        check = _TYPE_CHECKS.get(typ) if isinstance(typ, str) else None
        if self.request and typ == "string":
            check = _is_scalar  # Rails casts numbers/booleans sent for a string (x-examples do it)
        if check is None and not enum:
            return _ok
        enum_set = frozenset(enum) if enum else None

        def scalar(value: Any, _check=check, _typ=typ, _enum=enum_set, _enum_list=enum):
            if _check is not None and not _check(value):
                return [[f"expected {_typ}, got {_type_name(value)} {_short(value)}"]]
            if _enum is not None:
                try:
                    hit = value in _enum
                except TypeError:
                    hit = False
                if not hit:
                    return [[f"{_short(value)} is not one of {_enum_list}"]]
            return None

        return scalar

    def _ref(self, ref: str) -> Validator:
        hit = self._refs.get(ref)
        if hit is not None:
            return hit
        cell: list[Validator] = []

        def by_ref(value: Any) -> Any:
            return cell[0](value)

        self._refs[ref] = by_ref  # registered first: recursive definitions (JobNestedJob) terminate
        name = ref.rsplit("/", 1)[-1]
        cell.append(self.compile(self.definitions.get(name, {})))
        return by_ref

    def _array(self, schema: dict[str, Any]) -> Validator:
        item = self.compile(schema.get("items"))

        lenient = self.request

        def array(value: Any) -> Any:
            if type(value) is not list:
                if lenient and type(value) is not dict:
                    return item(value)  # one scalar for a list: the real API wraps it (x-examples)
                return [[f"expected array, got {_type_name(value)} {_short(value)}"]]
            if item is _ok:
                return None
            errors = None
            for i, element in enumerate(value):
                if element is None:
                    continue
                errs = item(element)
                if errs:
                    for e in errs:
                        e.append(str(i))
                    errors = (errors or []) + errs
            return errors

        return array

    def _object(self, schema: dict[str, Any]) -> Validator:
        props: dict[str, Any] = schema.get("properties") or {}
        required = tuple(schema.get("required") or ())
        # Compile children lazily: big request/response trees are only compiled where used.
        compiled: dict[str, Validator] = {}

        def child(name: str) -> Validator:
            fn = compiled.get(name)
            if fn is None:
                fn = compiled[name] = self.compile(props.get(name))
            return fn

        if not self.request:

            def response_object(value: Any) -> Any:
                if type(value) is not dict:
                    return [[f"expected object, got {_type_name(value)} {_short(value)}"]]
                errors = None
                for name in required:
                    if name not in value:
                        errors = (errors or []) + [["required key is missing", name]]
                for name, v in value.items():
                    if v is None or name not in props:
                        continue
                    errs = child(name)(v)
                    if errs:
                        for e in errs:
                            e.append(name)
                        errors = (errors or []) + errs
                return errors

            return response_object

        aliases: dict[str, str] = {}
        for name in props:
            aliases[name] = name
            aliases.setdefault(camel_to_snake(name), name)

        def request_object(value: Any) -> Any:
            if type(value) is not dict:
                return [[f"expected object, got {_type_name(value)} {_short(value)}"]]
            errors = None
            seen = set()
            for key, v in value.items():
                name = aliases.get(key)
                if name is None:
                    continue  # unknown keys are ignored, as the real API does
                seen.add(name)
                if v is None:
                    if name in required:
                        errors = (errors or []) + [["required field must not be null", key]]
                    continue
                errs = child(name)(v)
                if errs:
                    for e in errs:
                        e.append(key)
                    errors = (errors or []) + errs
            for name in required:
                if name not in seen:
                    snake = camel_to_snake(name)
                    errors = (errors or []) + [["required field is missing", snake]]
            return errors

        return request_object


def _pointer(parts: list[Any]) -> str:
    """[message, key_n, ..., key_1] -> "/key_1/.../key_n" (RFC 6901 escaped)."""
    keys = [str(k).replace("~", "~0").replace("/", "~1") for k in reversed(parts[1:])]
    return "/" + "/".join(keys) if keys else ""
