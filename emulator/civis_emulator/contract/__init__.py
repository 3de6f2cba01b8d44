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

**Rules written in descriptions** (``described_rules.py``, phrasings in ``rule_text.py``): list
``limit`` maxima (a larger limit is rejected), ``order``/``order_dir`` choices, "One of ..." lists,
minimums and maximums, and requirements that depend on another field of the same request
("Required if 'performNcoa' is true."), each a 400 naming the field and the fix. A method + path the
spec lacks answers 404 in the API's shape before any route; query parameters an operation does not
declare are dropped, so they have no effect. docs/emulator-coverage.md lists every rule and its test.

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

import threading
from typing import Any

from civis_emulator.contract.auth import _api_key_of as _api_key_of
from civis_emulator.contract.auth import api_key_from_authorization as api_key_from_authorization
from civis_emulator.contract.auth import bearer_ok as bearer_ok
from civis_emulator.contract.auth import credentials_ok as credentials_ok
from civis_emulator.contract.described_rules import DescribedRules
from civis_emulator.contract.middleware import _BAD_REQUEST_PREFIX as _BAD_REQUEST_PREFIX
from civis_emulator.contract.middleware import ERROR_BAD_REQUEST, ContractMiddleware
from civis_emulator.contract.middleware import MAX_CHECKED_BODY as MAX_CHECKED_BODY
from civis_emulator.contract.middleware import SKIPPED_PATHS as SKIPPED_PATHS
from civis_emulator.contract.middleware import SKIPPED_PREFIXES as SKIPPED_PREFIXES
from civis_emulator.contract.report import MAX_RECORDED_VIOLATIONS as MAX_RECORDED_VIOLATIONS
from civis_emulator.contract.report import ContractReport
from civis_emulator.contract.schemas import Validator as Validator
from civis_emulator.contract.schemas import camel_to_snake as camel_to_snake
from civis_emulator.contract.validators import OperationValidators as OperationValidators
from civis_emulator.contract.validators import Validators

__all__ = [
    "ContractReport",
    "ContractMiddleware",
    "Validators",
    "install_contract",
    "all_reports",
    "ERROR_BAD_REQUEST",
]


_SHARED_VALIDATORS: Validators | None = None
_SHARED_RULES = DescribedRules()  # compiled per operation on first use, like the validators
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
    app.add_middleware(ContractMiddleware, owner=app, report=report, validators=validators, rules=_SHARED_RULES)

    from civis_emulator.routers.endpoints import router

    before = len(app.router.routes)
    app.include_router(router)
    # Our routes go first, so a catch-all (e.g. the 501 fallback) registered earlier cannot shadow them.
    ours = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = ours
    return report
