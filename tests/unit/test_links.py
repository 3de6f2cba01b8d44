"""The "Civis Run" extra link: the platform's run page, or the emulator's own HTML page."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from airflow_civis.hooks._connection import settings_from_connection
from airflow_civis.links import RUN_URL_XCOM_KEY, CivisRunLink, run_page_url


@pytest.mark.parametrize("host, expected", [
    (None, "https://platform.civisanalytics.com/spa/#/jobs/12?runId=34"),
    ("https://api.civisanalytics.com", "https://platform.civisanalytics.com/spa/#/jobs/12?runId=34"),
    ("127.0.0.1:8000", "http://127.0.0.1:8000/_emulator/ui/jobs/12/runs/34"),
    ("http://localhost:9000/", "http://localhost:9000/_emulator/ui/jobs/12/runs/34"),
    ("http://[::1]:9000", "http://[::1]:9000/_emulator/ui/jobs/12/runs/34"),
])
def test_run_page_url_follows_the_connection(host, expected):
    conn = SimpleNamespace(conn_id="c", host=host, port=None, password="key", extra_dejson={})
    settings = settings_from_connection(conn)
    assert run_page_url(settings.app_url, 12, 34) == expected
    assert "key" not in expected


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
