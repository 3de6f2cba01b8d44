"""The civis connection type as Airflow sees it: provider registry, connection form, `connections test`."""

from __future__ import annotations

import json
import subprocess

import pytest

from airflow_civis import CONNECTION_UI_FIELD_BEHAVIOUR, get_provider_info
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.testing.dagrun import _airflow, airflow_env, civis_connection_env
from tests.conftest import API_KEY

TESTABLE = {"AIRFLOW__CORE__TEST_CONNECTION": "Enabled"}  # Airflow 3 disables connection tests by default


def airflow(tmp_path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_airflow(), *args], env=airflow_env(tmp_path / "home", tmp_path / "dags", env),
        capture_output=True, text=True, timeout=120,
    )


def test_form_behaviour_in_provider_info_matches_the_hook():
    """Airflow >= 3.2 reads the provider info, older 3.x calls the hook: both must describe one form."""
    (conn_type,) = get_provider_info()["connection-types"]
    assert conn_type["ui-field-behaviour"] == CONNECTION_UI_FIELD_BEHAVIOUR
    hook_form = CivisHook.get_ui_field_behaviour()
    assert {key.replace("_", "-"): value for key, value in hook_form.items()} == CONNECTION_UI_FIELD_BEHAVIOUR


def test_providers_manager_serves_the_connection_form():
    from airflow.providers_manager import ProvidersManager

    metadata = ProvidersManager().iter_connection_type_hook_ui_metadata()
    (meta,) = [m for m in metadata if m.connection_type == "civis"]
    assert meta.hook_name == "Civis Platform"
    assert meta.hook_class_name == "airflow_civis.hooks.civis.CivisHook"
    assert meta.field_behaviour["relabeling"] == {"password": "API Key", "host": "API URL"}
    assert set(meta.field_behaviour["hidden_fields"]) == {"schema", "login", "port"}


@pytest.mark.slow
def test_airflow_providers_list_shows_airflow_civis(tmp_path):
    result = airflow(tmp_path, "providers", "list", "-o", "json")
    assert result.returncode == 0, result.stderr[-2000:]
    providers = {p["package_name"]: p for p in json.loads(result.stdout)}
    assert providers["airflow-civis"]["version"] == get_provider_info()["versions"][0]


@pytest.mark.slow
def test_airflow_connections_test_succeeds_against_the_emulator(tmp_path, emulator):
    env = {**civis_connection_env(emulator.base_url, API_KEY), **TESTABLE}
    result = airflow(tmp_path, "connections", "test", "civis_default", env=env)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "Connection success!" in result.stdout


@pytest.mark.slow
def test_airflow_connections_test_reports_a_wrong_key(tmp_path, emulator):
    env = {**civis_connection_env(emulator.base_url, "not-the-key"), **TESTABLE}
    result = airflow(tmp_path, "connections", "test", "civis_default", env=env)
    assert result.returncode != 0
    assert "401" in result.stdout and "API key" in result.stdout
    assert "not-the-key" not in result.stdout + result.stderr


def test_missing_key_names_the_connection_and_the_field(monkeypatch, emulator):
    conn = {"conn_type": "civis", "host": emulator.base_url, "extra": {"emulator": True}}
    monkeypatch.setenv("AIRFLOW_CONN_CIVIS_NOKEY", json.dumps(conn))
    ok, message = CivisHook("civis_nokey").test_connection()
    assert not ok
    assert "'civis_nokey'" in message and "API key" in message and "password" in message


def test_missing_connection_says_how_to_define_it(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_CIVIS_NOWHERE", raising=False)
    ok, message = CivisHook("civis_nowhere").test_connection()
    assert not ok
    assert "'civis_nowhere'" in message and "AIRFLOW_CONN_CIVIS_NOWHERE" in message


def test_wrong_key_names_the_connection(monkeypatch, emulator):
    monkeypatch.setenv(
        "AIRFLOW_CONN_CIVIS_WRONG",
        json.dumps({"conn_type": "civis", "host": emulator.base_url, "password": "wrong", "extra": {"emulator": True}}),
    )
    ok, message = CivisHook("civis_wrong").test_connection()
    assert not ok
    assert "'civis_wrong'" in message
