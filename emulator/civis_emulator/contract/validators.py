"""Per-operation validators: request parameters and bodies, response statuses and bodies."""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import parse_qsl

from civis_emulator.contract.errata import (
    _ANY_TYPE_FIELDS,
    _excused,
    _pattern,
    _violation_kind,
)
from civis_emulator.contract.schemas import Validator, _Compiler, _pointer, _short
from civis_emulator.spec_index import (
    GET_PATHS_WITH_ARRAY_RESPONSE,
    Operation,
    SpecIndex,
    get_index,
)


class _RequestError(Exception):
    pass


_TRUE = {"true", "1", "t", "yes"}
_FALSE = {"false", "0", "f", "no"}


def _coerce(raw: str, param: dict[str, Any]) -> Any:
    """A query/path string as the parameter's type; raises ValueError with the reason."""
    typ = param.get("type")
    if typ == "integer":
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"expected integer, got {_short(raw)}") from None
    if typ == "number":
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"expected number, got {_short(raw)}") from None
    if typ == "boolean":
        low = raw.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"expected boolean (true or false), got {_short(raw)}")
    return raw


def _check_enum(value: Any, enum: list[Any] | None) -> None:
    if enum and value not in enum:
        raise ValueError(f"{_short(value)} is not one of {enum}")


class OperationValidators:
    """Request and response validators of one spec operation (built on first use)."""

    def __init__(self, op: Operation, index: SpecIndex, requests: _Compiler, responses: _Compiler):
        self.op = op
        self._index = index
        self._requests = requests
        self._responses = responses
        self._body: Validator | None = None
        self._response: dict[str, Validator | None] = {}
        self._errata: dict[str, frozenset[tuple[str, str]]] = {}

    # -- requests ---------------------------------------------------------------------------------

    def check_path(self, values: dict[str, str]) -> list[str]:
        problems = []
        for name, param in self.op.path_params.items():
            raw = values.get(name)
            if raw is None:
                continue
            try:
                _check_enum(_coerce(raw, param), param.get("enum"))
            except ValueError as exc:
                problems.append(f"path parameter '{name}': {exc}")
        return problems

    def check_query(self, query_string: bytes) -> list[str]:
        params = self.op.query_params
        if not params and not query_string:
            return []
        given: dict[str, list[str]] = {}
        if query_string:
            for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
                if key.endswith("[]"):
                    key = key[:-2]
                given.setdefault(key, []).append(value)
        problems = []
        for name, param in params.items():
            values = given.get(name)
            if values is None:
                if param.get("required"):
                    problems.append(f"query parameter '{name}': required parameter is missing")
                continue
            if param.get("type") == "array":
                item = param.get("items") or {}
                flat = [v for raw in values for v in raw.split(",") if v != ""]
                for v in flat:
                    try:
                        _check_enum(_coerce(v, item), item.get("enum"))
                    except ValueError as exc:
                        problems.append(f"query parameter '{name}': {exc}")
                continue
            raw = values[-1]
            if raw == "" and not param.get("required"):
                continue  # ?archived= means "not given" to Rails
            try:
                _check_enum(_coerce(raw, param), param.get("enum"))
            except ValueError as exc:
                problems.append(f"query parameter '{name}': {exc}")
        return problems

    def check_body(self, body: bytes) -> list[str]:
        param = self.op.body_param
        if param is None:
            return []
        if self._body is None:
            self._body = self._requests.compile(param.get("schema"))
        if not body.strip():
            data: Any = {}
        else:
            try:
                data = json.loads(body)
            except ValueError as exc:
                return [f"the request body is not valid JSON ({exc})"]
        errs = self._body(data)
        if not errs:
            return []
        out = []
        for e in errs:
            where = _pointer(e).lstrip("/").replace("/", ".") or "(body)"
            out.append(f"body field '{where}': {e[0]}")
        return out

    # -- responses --------------------------------------------------------------------------------

    def check_response(self, status: int, content_type: str, body: bytes | None) -> list[tuple[str, str]]:
        """Violations as (field, message); field is a JSON pointer into the body ("" = the body)."""
        responses = self.op.responses
        declared = responses.get(str(status))
        if declared is None:
            codes = sorted(c for c in responses if c.startswith("2")) or sorted(responses)
            return [("(status)", f"status {status} is not declared by the spec (declares {', '.join(codes)})")]
        schema = declared.get("schema")
        is_json = "json" in content_type
        if schema is None:
            if is_json and body and body.strip() not in (b"", b"null", b"{}"):
                return [("(body)", f"the spec declares no body for status {status}, got JSON")]
            return []
        if body is None:  # too large to parse: counted, not validated
            return []
        if not is_json:
            return [("(body)", f"expected a JSON body, got content-type {content_type or '(none)'!r}")]
        try:
            data = json.loads(body)
        except ValueError as exc:
            return [("(body)", f"the response body is not valid JSON ({exc})")]
        validator = self._response.get(str(status))
        if validator is None:
            validator = self._responses.compile(schema)
            if self.op.method == "GET" and self.op.template in GET_PATHS_WITH_ARRAY_RESPONSE:
                validator = _also_array_of(validator)
            self._response[str(status)] = validator
        errs = validator(data)
        if not errs:
            return []
        out = [(_pointer(e) or "(body)", e[0]) for e in errs]
        errata = self._errata_for(status)
        if errata:
            out = [(f, m) for f, m in out if not _excused(errata, f, m)]
        return out

    def _errata_for(self, status: int) -> frozenset[tuple[str, str]]:
        """Where the spec's own x-examples (real responses) contradict its types, the API wins."""
        key = str(status)
        found = self._errata.get(key)
        if found is not None:
            return found
        validator = self._response.get(key)
        excused: set[tuple[str, str]] = set()
        if validator is not None:
            for example in self.op.spec.get("x-examples") or ():
                for req in example.get("requests") or ():
                    if req.get("response_status") != status or not req.get("response_body"):
                        continue
                    try:
                        data = json.loads(req["response_body"])
                    except ValueError:
                        continue
                    for e in validator(data) or ():
                        kind = _violation_kind(e[0])
                        if kind:  # type/enum disagreements only: missing keys are never excused
                            excused.add((_pattern(_pointer(e) or "(body)"), kind))
        for pattern in _ANY_TYPE_FIELDS.get(self.op.template.rstrip("/"), ()):
            excused.add((pattern, "*"))
        if self.op.template.endswith("/runs/{run_id}/outputs"):
            excused.add(("/*/value" if self.op.method == "GET" else "/value", "*"))
        frozen = self._errata[key] = frozenset(excused)
        return frozen


def _also_array_of(validator: Validator) -> Validator:
    """The spec says object; the real API sends an array of them (see spec.py)."""

    def either(value: Any) -> Any:
        if type(value) is list:
            errors = None
            for i, element in enumerate(value):
                errs = validator(element) if element is not None else None
                if errs:
                    for e in errs:
                        e.append(str(i))
                    errors = (errors or []) + errs
            return errors
        return validator(value)

    return either


class Validators:
    """All operations' validators for one spec index; each is compiled on first use."""

    def __init__(self, index: SpecIndex | None = None) -> None:
        self.index = index or get_index()
        self._requests = _Compiler(self.index.definitions, request=True)
        self._responses = _Compiler(self.index.definitions, request=False)
        self._ops: dict[str, OperationValidators] = {}
        self._lock = threading.Lock()

    def for_operation(self, op: Operation) -> OperationValidators:
        found = self._ops.get(op.key)
        if found is None:
            with self._lock:
                found = self._ops.get(op.key)
                if found is None:
                    found = self._ops[op.key] = OperationValidators(
                        op, self.index, self._requests, self._responses
                    )
        return found
