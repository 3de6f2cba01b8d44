"""The emulator's contract with the official Civis API spec (``civis/resources/civis_api_spec.json``).

:func:`install_contract` wraps the emulator app in a pure ASGI middleware (never
``BaseHTTPMiddleware``: streamed and file responses pass through untouched) that, for every request
to a path of the spec (``/_emulator/*`` and ``/endpoints`` excepted):

**Request contract.** Path, query and JSON body parameters are checked against the operation's
``parameters``: required ones present, types (``integer``, ``number``, ``boolean``, ``string``,
``array``, ``object``, recursively through the body schema) and ``enum`` values. A bad request never
reaches the routers: it gets a 400 with the API's own error body shape, as the real API words it::

    {"error": "bad_request",
     "errorDescription": "The given request was not as expected: body field 'name': required ...",
     "code": 400}

Body keys may be camelCase (as in the spec) or snake_case (what ``civis.APIClient`` sends, and what
the spec's own x-examples show): both name the same field. Keys the spec does not know are ignored,
as the real API ignores them. Query arrays may come as ``key[]=a&key[]=b`` (what the civis client
sends), repeated ``key=a&key=b``, or ``key=a,b``. Requests without valid credentials are left to
the app, so they get its 401 first, as on the real API.

**Response contract.** Every 2xx response to a spec operation is checked: the status must be one the
operation declares, and a JSON body is validated against that status's schema. Violations are
*recorded*, never turned into a different response: the pytest plugin (``tests/contract_plugin.py``)
fails the run at the end and names method, path and field (a JSON pointer into the body).

**The null rule** (from the spec's own x-examples, i.e. real responses): the real API lists nearly
every field of a response object in ``required`` and then sends ``null`` for many of them, e.g.
``PythonRun`` has ``error`` and ``finishedAt`` required and the example run sends ``"error": null``;
``maxMemoryUsage``/``maxCpuUsage`` are ``number`` + required and come back ``null``. So in responses
``required`` means *the key is present*, and any field may be ``null``:

- a required key that is absent is a violation;
- a value that is present, not null, and of the wrong type (or not in its ``enum``) is a violation;
- ``null`` is accepted for any field, required or not;
- keys the spec does not list are allowed (Swagger 2.0 objects are open).

In requests, ``required`` means present *and* not null (the real API rejects a missing name, and a
null one is the same mistake); optional fields may be null.

The report (responses checked, distinct operations ``METHOD /template``, violations) lives on
``app.state.contract_report`` and is served at ``GET /_emulator/contract`` (same Bearer auth as the
API). ``install_contract`` also mounts ``GET /endpoints``, which serves the spec, so
``civis.APIClient()`` builds its resources from the emulator.

Evidence and errata: the spec's x-examples hold 426 real 2xx responses. Under the rule above they
pass except where the spec's types are wrong (``outputs[].value`` and ``JsonValue.value`` typed
``string`` but carrying any JSON; ``fileId``/``organizationId`` typed ``string`` but sent as
integers; ...). Such disagreements, and only type/enum ones, are excused per operation and JSON
pointer pattern, computed from the operation's own examples (``_errata_for``), plus
``_ANY_TYPE_FIELDS``. Requests: the examples send numbers/booleans for ``string`` fields and a single
string for ``array`` fields, and the API accepted them, so requests accept those too.

Cost: validators are compiled lazily per operation into closures, cached process-wide; the happy
path builds no JSON pointers (only errors do). Measured on the real app (TestClient, warm): 50-160
microseconds per request+response pair (GET run 53 us, GET /users/me 64 us, GET /jobs 98 us, GET a
1.5 KB script 150 us, POST /scripts/python3 158 us), against 3-9 ms for the request itself.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from airflow_civis.emulator.spec_index import (
    GET_PATHS_WITH_ARRAY_RESPONSE,
    Operation,
    SpecIndex,
    get_index,
    normalize_path,
)

# The exact snake_case names civis.APIClient derives from the spec's camelCase (the same two
# regexes as civis._camel_to_snake; importing that would import all of civis).
_U1 = re.compile(r"(.)([A-Z][a-z]+)")
_U2 = re.compile("([a-z0-9])([A-Z])")


def camel_to_snake(word: str) -> str:
    return _U2.sub(r"\1_\2", _U1.sub(r"\1_\2", word)).lower()


__all__ = [
    "ContractReport",
    "ContractMiddleware",
    "Validators",
    "install_contract",
    "all_reports",
    "ERROR_BAD_REQUEST",
]

ERROR_BAD_REQUEST = "bad_request"  # what the real API answers (see x-examples of POST /scripts/python3)
_BAD_REQUEST_PREFIX = "The given request was not as expected: "
SKIPPED_PREFIXES = ("/_emulator",)
SKIPPED_PATHS = ("/endpoints",)
MAX_RECORDED_VIOLATIONS = 500
MAX_CHECKED_BODY = 50 * 1024 * 1024  # larger JSON bodies are counted, not parsed

# --------------------------------------------------------------------------------------------------
# Schema -> validator closures
# --------------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------------
# Per-operation validators
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------------


class ContractReport:
    """What the middleware saw: responses checked, operations covered, violations."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.id = uuid.uuid4().hex  # lets a collector merge snapshots of one report without double counting
        # True for apps built to break the contract on purpose (the contract's own tests):
        # all_reports() leaves them out, so they never fail the suite.
        self.exempt = False
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.responses_checked = 0
            self.operations: Counter[str] = Counter()
            self.requests_checked = 0
            self.requests_rejected = 0
            self.violations: list[dict[str, Any]] = []
            self.violation_count = 0
            self._seen: set[tuple[str, str, str]] = set()
            self.validation_seconds = 0.0

    def record_request(self, rejected: bool, seconds: float) -> None:
        with self._lock:
            self.requests_checked += 1
            self.requests_rejected += int(rejected)
            self.validation_seconds += seconds

    def record_response(
        self, op: Operation, path: str, status: int, problems: list[tuple[str, str]], seconds: float
    ) -> None:
        with self._lock:
            self.responses_checked += 1
            self.operations[op.key] += 1
            self.validation_seconds += seconds
            for field, message in problems:
                self.violation_count += 1
                key = (op.key, field, message)
                if key in self._seen or len(self.violations) >= MAX_RECORDED_VIOLATIONS:
                    continue
                self._seen.add(key)
                self.violations.append(
                    {
                        "method": op.method,
                        "path": path,
                        "operation": op.key,
                        "status": status,
                        "field": field,
                        "message": message,
                    }
                )

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "reportId": self.id,
                "responsesChecked": self.responses_checked,
                "operations": dict(sorted(self.operations.items())),
                "distinctOperations": len(self.operations),
                "requestsChecked": self.requests_checked,
                "requestsRejected": self.requests_rejected,
                "violationCount": self.violation_count,
                "violations": list(self.violations),
                "validationSeconds": round(self.validation_seconds, 6),
            }


# --------------------------------------------------------------------------------------------------
# The ASGI middleware
# --------------------------------------------------------------------------------------------------


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return ""


def _error_response(status: int, error: str, description: str) -> tuple[dict[str, Any], dict[str, Any]]:
    body = json.dumps({"error": error, "errorDescription": description, "code": status}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    return start, {"type": "http.response.body", "body": body, "more_body": False}


def _api_key_of(app: Any) -> str | None:
    """The emulator's API key, wherever the app keeps it (app.state.api_key by convention)."""
    state = getattr(app, "state", None)
    if state is None:
        return None
    for attr in ("contract_api_key", "api_key"):
        key = getattr(state, attr, None)
        if isinstance(key, str) and key:
            return key
    for attr in ("settings", "config", "emulator", "store", "state"):
        holder = getattr(state, attr, None)
        key = getattr(holder, "api_key", None) if holder is not None else None
        if isinstance(key, str) and key:
            return key
    return None


def api_key_from_authorization(authorization: str) -> str | None:
    """The API key an ``Authorization`` header carries, as the real API accepts it.

    ``Bearer <key>`` (the documented form) or HTTP Basic with the key as user name and an empty
    password: the official client sends the latter (``civis.base.open_session`` sets
    ``session.auth = (api_key, "")``).
    """
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if not token:
        return None
    scheme = scheme.lower()
    if scheme == "bearer":
        return token
    if scheme == "basic":
        try:
            user, _, _password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return user or None
    return None


def credentials_ok(expected: str | None, authorization: str) -> bool:
    """True when the header carries ``expected`` (compared in constant time)."""
    given = api_key_from_authorization(authorization)
    if given is None:
        return False
    return expected is None or hmac.compare_digest(given.encode(), expected.encode())


def bearer_ok(app: Any, authorization: str) -> bool:
    """True when the header carries the emulator's key (or the app has no key to compare)."""
    expected = _api_key_of(app)
    if expected is None:
        return True
    return credentials_ok(expected, authorization)


class ContractMiddleware:
    """Pure ASGI: validates requests (400 on failure) and records response checks."""

    def __init__(self, app: Any, *, owner: Any, report: ContractReport, validators: Validators) -> None:
        self.app = app
        self.owner = owner  # the FastAPI app (for its state: the API key)
        self.report = report
        self.validators = validators

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path") or "/"
        norm = normalize_path(path)
        if norm.startswith(SKIPPED_PREFIXES) or norm in SKIPPED_PATHS:
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET").upper()
        matched = self.validators.index.match(method, norm)
        if matched is None:
            await self.app(scope, receive, send)
            return
        op, path_values = matched
        if not bearer_ok(self.owner, _header(scope, b"authorization")):
            await self.app(scope, receive, send)  # the app answers 401, as the real API does first
            return
        opv = self.validators.for_operation(op)

        # -- request -------------------------------------------------------------------------------
        t0 = time.perf_counter()
        problems = opv.check_path(path_values) + opv.check_query(scope.get("query_string") or b"")
        replay = None
        if op.body_param is not None and method in ("POST", "PUT", "PATCH"):
            ctype = _header(scope, b"content-type").lower()
            if not ctype or "json" in ctype:
                chunks = []
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    chunks.append(message.get("body", b""))
                    if not message.get("more_body"):
                        break
                body = b"".join(chunks)
                problems += opv.check_body(body)
                replay = body
        self.report.record_request(bool(problems), time.perf_counter() - t0)
        if problems:
            start, end = _error_response(400, ERROR_BAD_REQUEST, _BAD_REQUEST_PREFIX + "; ".join(problems))
            await send(start)
            await send(end)
            return

        if replay is not None:
            sent = False

            async def replay_receive() -> dict[str, Any]:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": replay, "more_body": False}
                return await receive()

            inner_receive = replay_receive
        else:
            inner_receive = receive

        # -- response ------------------------------------------------------------------------------
        state: dict[str, Any] = {"status": 0, "capture": False, "ctype": "", "chunks": [], "size": 0}

        async def checking_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status = int(message["status"])
                state["status"] = status
                state["capture"] = 200 <= status < 300
                if state["capture"]:
                    for key, value in message.get("headers") or ():
                        if key.lower() == b"content-type":
                            state["ctype"] = value.decode("latin-1").lower()
                await send(message)
                return
            if message["type"] == "http.response.body" and state["capture"]:
                chunk = message.get("body", b"")
                if "json" in state["ctype"] and chunk:
                    state["size"] += len(chunk)
                    if state["size"] <= MAX_CHECKED_BODY:
                        state["chunks"].append(chunk)
                    else:
                        state["chunks"] = None
                if not message.get("more_body"):
                    state["capture"] = False
                    t1 = time.perf_counter()
                    chunks = state["chunks"]
                    body = b"".join(chunks) if chunks is not None else None
                    try:
                        found = opv.check_response(state["status"], state["ctype"], body)
                    except Exception as exc:  # a validator bug must not take the emulator down
                        found = [("(validator)", f"{type(exc).__name__}: {exc}")]
                    self.report.record_response(op, path, state["status"], found, time.perf_counter() - t1)
            await send(message)

        await self.app(scope, inner_receive, checking_send)


# --------------------------------------------------------------------------------------------------
# Wiring
# --------------------------------------------------------------------------------------------------

_SHARED_VALIDATORS: Validators | None = None
_ALL_REPORTS: list[ContractReport] = []  # every app installed in this process (for the pytest plugin)
_SHARED_LOCK = threading.Lock()


def shared_validators() -> Validators:
    """One compiled validator set per process (every app in a test session shares the cache)."""
    global _SHARED_VALIDATORS
    if _SHARED_VALIDATORS is None:
        with _SHARED_LOCK:
            if _SHARED_VALIDATORS is None:
                _SHARED_VALIDATORS = Validators()
    return _SHARED_VALIDATORS


def all_reports() -> list[ContractReport]:
    """The reports of every app that :func:`install_contract` wired in this process."""
    with _SHARED_LOCK:
        return [report for report in _ALL_REPORTS if not report.exempt]


def install_contract(app: Any) -> ContractReport:
    """Validate requests/responses against the spec; mount ``/endpoints`` and ``/_emulator/contract``.

    Idempotent. Returns the app's :class:`ContractReport` (also at ``app.state.contract_report``).
    """
    existing = getattr(app.state, "contract_report", None)
    if isinstance(existing, ContractReport):
        return existing
    report = ContractReport()
    app.state.contract_report = report
    with _SHARED_LOCK:
        _ALL_REPORTS.append(report)
    validators = shared_validators()
    app.add_middleware(ContractMiddleware, owner=app, report=report, validators=validators)

    from airflow_civis.emulator.routers.endpoints import router

    before = len(app.router.routes)
    app.include_router(router)
    # Our routes go first, so a catch-all (e.g. the 501 fallback) registered earlier cannot shadow them.
    ours = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = ours
    return report
