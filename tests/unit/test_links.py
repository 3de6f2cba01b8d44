"""The "Civis Run" extra link: the platform's run page, or the emulator's own HTML page."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from airflow_civis.exceptions import CivisConnectionError
from airflow_civis.hooks._connection import settings_from_connection
from airflow_civis.links import RUN_URL_XCOM_KEY, CivisRunLink, run_page_url


def _settings(host, extra=None):
    conn = SimpleNamespace(conn_id="c", host=host, port=None, password="key", extra_dejson=extra or {})
    return settings_from_connection(conn)


PLATFORM_RUN = "https://platform.civisanalytics.com/spa/#/jobs/12?runId=34"


@pytest.mark.parametrize("host, extra, expected", [
    (None, None, PLATFORM_RUN),
    ("https://api.civisanalytics.com", None, PLATFORM_RUN),
    ("127.0.0.1:8000", {"emulator": True}, "http://127.0.0.1:8000/_emulator/ui/jobs/12/runs/34"),
    ("http://localhost:9000/", {"emulator": True}, "http://localhost:9000/_emulator/ui/jobs/12/runs/34"),
    ("http://[::1]:9000", {"emulator": True}, "http://[::1]:9000/_emulator/ui/jobs/12/runs/34"),
])
def test_run_page_url_follows_the_connection(host, extra, expected):
    settings = _settings(host, extra)
    assert run_page_url(settings.app_url, 12, 34, emulator=settings.is_emulator) == expected
    assert "key" not in expected


@pytest.mark.parametrize("host, api_url", [
    ("127.0.0.1:8443", "https://127.0.0.1:8443"),
    ("localhost:8443", "https://localhost:8443"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("[::1]:8443", "https://[::1]:8443"),
])
def test_a_loopback_tunnel_to_real_civis_gets_https_and_platform_links(host, api_url):
    """A loopback host alone is not the emulator: it may be a tunnel (ssh -L) to the real API."""
    settings = _settings(host)
    assert settings.base_url == api_url and not settings.is_emulator
    assert settings.app_url == "https://platform.civisanalytics.com"
    assert run_page_url(settings.app_url, 12, 34, emulator=settings.is_emulator) == PLATFORM_RUN


@pytest.mark.parametrize("flag, emulator", [(True, True), ("true", True), (False, False), ("False", False)])
def test_the_emulator_flag_is_read_from_the_extra(flag, emulator):
    settings = _settings("127.0.0.1:8000", {"emulator": flag})
    assert settings.is_emulator is emulator
    assert settings.base_url == ("http://127.0.0.1:8000" if emulator else "https://127.0.0.1:8000")


def test_a_bad_emulator_flag_names_the_field_and_the_fix():
    with pytest.raises(CivisConnectionError, match=r"'c'.*extra 'emulator' must be true or false, got 'yes'"):
        _settings("127.0.0.1:8000", {"emulator": "yes"})


def test_workflow_execution_page_follows_the_flag():
    from airflow_civis.operators.workflows import workflow_page_url

    emu = _settings("http://127.0.0.1:8000", {"emulator": True})
    assert workflow_page_url(emu.app_url, 5, 6, emulator=emu.is_emulator) == (
        "http://127.0.0.1:8000/_emulator/ui/workflows/5/executions/6")
    tunnel = _settings("http://127.0.0.1:8000")
    assert workflow_page_url(tunnel.app_url, 5, 6, emulator=tunnel.is_emulator) == (
        "https://platform.civisanalytics.com/spa/#/workflows/5/executions/6")


def test_link_reads_the_url_pushed_before_waiting(mocker):
    get_value = mocker.patch("airflow.sdk.bases.xcom.BaseXCom.get_value", return_value="http://x/_emulator/ui/jobs/1/runs/2")
    key = object()
    serialized = SimpleNamespace(task_id="t")  # the api-server's view: no live operator state
    assert CivisRunLink().get_link(serialized, ti_key=key) == "http://x/_emulator/ui/jobs/1/runs/2"
    get_value.assert_called_once_with(key=RUN_URL_XCOM_KEY, ti_key=key)
    get_value.return_value = None  # task never started a run
    assert CivisRunLink().get_link(serialized, ti_key=key) == ""


def test_link_of_the_operator_that_just_ran_needs_no_xcom_lookup(mocker):
    """A failed start leaves no run: the link is empty, with no error-level "XCom not found" lookup."""
    from airflow_civis.operators.jobs import CivisRunJobOperator

    get_value = mocker.patch("airflow.sdk.bases.xcom.BaseXCom.get_value",
                             side_effect=AssertionError("no XCom lookup expected"))
    task = CivisRunJobOperator(task_id="t", job_id=1)
    assert CivisRunLink().get_link(task, ti_key=object()) == ""
    task.run_url = "http://x/_emulator/ui/jobs/1/runs/2"
    assert CivisRunLink().get_link(task, ti_key=object()) == "http://x/_emulator/ui/jobs/1/runs/2"
    get_value.assert_not_called()
