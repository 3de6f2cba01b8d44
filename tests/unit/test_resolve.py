"""The one resolver (``airflow_civis.resolve``): databases by id or name, the default database credential,
``schema.table`` names, and the one lookup error they raise. The hook is a stand-in at the HTTP boundary
that records what was asked of it."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_civis.exceptions import CivisError, CivisLookupError
from airflow_civis.resolve import (
    database_name,
    default_credential_id,
    find_database,
    resolve_database,
    resolve_target,
    split_table,
)

DATABASES = [{"id": 3, "name": "redshift-general"}, {"id": 4, "name": "Redshift-General"},
             {"id": 7, "name": "Analytics"}]


class RecordingHook:
    """Answers ``GET /databases`` and ``GET /credentials`` the way the API does, and records each request."""

    def __init__(self, databases: list[dict[str, Any]], credentials: list[dict[str, Any]] | None = None) -> None:
        self.databases = databases
        self.credentials = credentials or []
        self.requests: list[tuple[str, str, dict[str, Any] | None]] = []

    def paginate(self, path: str, params: dict[str, Any] | None = None) -> Any:
        self.requests.append(("GET", path, params))
        assert path == "/databases"
        return iter(self.databases)

    def call(self, method: str, path: str, params: dict[str, Any] | None = None, **_: Any) -> Any:
        self.requests.append((method, path, params))
        assert (method, path) == ("GET", "/credentials")
        return [c for c in self.credentials if params and c["type"] == params.get("type")]


def test_a_name_matches_exactly_before_case_insensitively():
    hook = RecordingHook(DATABASES)
    assert resolve_database(hook, "Redshift-General") == 4  # the exact match, not the first folded one
    assert resolve_database(hook, "redshift-general") == 3
    assert resolve_database(hook, "  analytics ") == 7  # no exact match: the case-insensitive one
    assert find_database(hook, "ANALYTICS") == {"id": 7, "name": "Analytics"}


def test_an_id_needs_no_request_and_a_name_needs_one():
    hook = RecordingHook(DATABASES)
    assert resolve_database(hook, 7) == 7
    assert resolve_database(hook, "7") == 7
    assert hook.requests == []
    resolve_database(hook, "Analytics")
    assert hook.requests == [("GET", "/databases", None)]


def test_no_database_means_the_only_one_and_never_a_guess():
    assert resolve_database(RecordingHook([{"id": 9, "name": "Only"}]), None) == 9
    with pytest.raises(CivisLookupError, match=r"sees 3 databases .*'Analytics'.*: pass database_name="):
        resolve_database(RecordingHook(DATABASES), "", argument="database_name")


def test_a_missing_database_is_one_typed_error_naming_what_exists_and_the_fix():
    with pytest.raises(CivisLookupError) as info:
        resolve_database(RecordingHook(DATABASES), "warehouse")
    err = info.value
    assert isinstance(err, CivisError) and isinstance(err, ValueError)
    assert (err.what, err.wanted) == ("database", "warehouse")
    assert err.available == ["'redshift-general'", "'Redshift-General'", "'Analytics'"]
    assert str(err) == ("Database 'warehouse' not found; the databases this API key can see: 'redshift-general', "
                        "'Redshift-General', 'Analytics'. Pass database= one of these names, or an id")


def test_database_name_reads_the_listed_name_and_is_none_when_it_cannot():
    hook = RecordingHook(DATABASES)
    assert database_name(hook, 7) == "Analytics"
    assert database_name(hook, "analytics") == "Analytics"
    assert database_name(hook, 99) is None
    assert database_name(hook, None) is None  # several databases: no guess


def test_the_default_credential_is_the_default_database_credential():
    hook = RecordingHook([], [{"id": 12, "type": "Amazon Web Services S3"}, {"id": 5, "type": "Database"}])
    assert default_credential_id(hook) == 5
    assert hook.requests == [("GET", "/credentials", {"default": "true", "type": "Database"})]
    target = resolve_target(hook, 3)
    assert (target.database_id, target.credential_id) == (3, 5)
    assert resolve_target(hook, 3, "8").credential_id == 8


def test_no_default_database_credential_is_a_lookup_error_with_the_fix():
    hook = RecordingHook([], [{"id": 12, "type": "Amazon Web Services S3"}])
    with pytest.raises(CivisLookupError, match="No default database credential.*pass credential_id") as info:
        default_credential_id(hook)
    assert info.value.what == "credential"


@pytest.mark.parametrize(("value", "expected"), [
    ("sales.orders", ("sales", "orders")),
    (' "Sales" . "Orders" ', ("Sales", "Orders")),
])
def test_split_table(value, expected):
    assert split_table(value) == expected


@pytest.mark.parametrize("value", ["orders", "a.b.c", ".orders", "sales.", 'sales.""', None, 3])
def test_split_table_names_the_task_the_field_and_the_form(value):
    with pytest.raises(ValueError, match=rf"Task 'load': source_table must be 'schema.table', got {value!r}"):
        split_table(value, "source_table", "load")
    with pytest.raises(ValueError, match=r"^table must be 'schema.table'"):
        split_table(value)


def test_civisml_resolves_its_database_arguments_through_the_resolver():
    from airflow_civis.operators.ml import CivisMLTrainOperator

    op = CivisMLTrainOperator(task_id="t", model_type="sparse_logistic", dependent_variable="y",
                              table_name="sales.orders", database_name="analytics")
    op.__dict__["hook"] = RecordingHook(DATABASES)
    assert op.database_argument("analytics", None) == {"database": 7}  # case-insensitive, as everywhere
    assert op.database_argument(None, "4") == {"database": 4}
    with pytest.raises(CivisLookupError, match="Database 'nope' not found.*Pass database_name="):
        op.database_argument("nope", None)
