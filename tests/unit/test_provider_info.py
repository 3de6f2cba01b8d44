"""What the provider tells Airflow (``get_provider_info``) must name things that exist: Airflow imports them
by name, late, and a typo shows up only as a missing connection type or link in a running deployment."""

from __future__ import annotations

import importlib

import pytest

from airflow_civis import CONNECTION_UI_FIELD_BEHAVIOUR, __version__, get_provider_info
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.hooks.civis_async import CivisAsyncHook


def load(dotted: str) -> object:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_the_civis_connection_type_and_its_hook():
    info = get_provider_info()
    assert info["package-name"] == "airflow-civis" and info["versions"] == [__version__]
    (conn_type,) = info["connection-types"]
    assert conn_type["connection-type"] == "civis"
    hook = load(conn_type["hook-class-name"])
    assert hook is CivisHook and hook.conn_type == "civis" and hook.hook_name == conn_type["hook-name"]


def test_connection_form_is_the_same_in_provider_info_and_in_both_hooks():
    """Airflow >= 3.2 reads the form from provider info, older 3.x asks the hook: one form either way."""
    (conn_type,) = get_provider_info()["connection-types"]
    assert conn_type["ui-field-behaviour"] == CONNECTION_UI_FIELD_BEHAVIOUR
    for hook in (CivisHook, CivisAsyncHook):
        form = {key.replace("_", "-"): value for key, value in hook.get_ui_field_behaviour().items()}
        assert form == CONNECTION_UI_FIELD_BEHAVIOUR


@pytest.mark.parametrize("link", get_provider_info()["extra-links"])
def test_extra_links_import_and_have_a_name(link):
    cls = load(link)
    assert isinstance(getattr(cls, "name", None), str) and cls.name


@pytest.mark.parametrize("dotted", [
    *(d["class-name"] for d in get_provider_info().get("task-decorators", [])),
    *(a["handler"] for a in get_provider_info().get("asset-uris", [])),
])
def test_decorators_and_asset_handlers_import(dotted):
    assert callable(load(dotted))


def test_every_asset_scheme_is_registered_with_airflow_and_has_its_own_handler():
    """Airflow applies a scheme's normaliser only if provider discovery registered it; the event trigger's
    ``civis-job`` scheme and the tables' ``civis`` scheme each have theirs."""
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    registered = ProvidersManagerTaskRuntime().asset_uri_handlers
    declared = {scheme: entry["handler"] for entry in get_provider_info()["asset-uris"] for scheme in entry["schemes"]}
    assert declared == {"civis": "airflow_civis.lineage.sanitize_uri",
                        "civis-job": "airflow_civis.lineage.job_assets.sanitize_job_uri"}
    for scheme, handler in declared.items():
        assert registered[scheme] is load(handler), scheme
