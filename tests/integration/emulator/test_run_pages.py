"""The emulator's read-only HTML run pages: over plain HTTP, and rendered by headless Chromium."""

from __future__ import annotations

import http.client
import shutil
import subprocess

import pytest
import requests

from airflow_civis.operators.scripts import CivisRunScriptOperator
from tests.conftest import API_KEY
from tests.helpers import make_context

SCRIPT = """
import json, os, urllib.request
api = os.environ["CIVIS_API_ENDPOINT"].rstrip("/")
h = {"Authorization": "Bearer " + os.environ["CIVIS_API_KEY"], "Content-Type": "application/json"}
def post(path, body):
    r = urllib.request.Request(api + path, data=json.dumps(body).encode(), headers=h)
    return json.load(urllib.request.urlopen(r))
v = post("/json_values", {"name": "row_count", "valueStr": json.dumps(1234)})
post(f"/scripts/python3/{os.environ['CIVIS_JOB_ID']}/runs/{os.environ['CIVIS_RUN_ID']}/outputs",
     {"objectType": "JSONValue", "objectId": v["id"]})
print("loaded <b>1234</b> rows")
print("leaked key:", os.environ["CIVIS_API_KEY"])
"""


@pytest.fixture(scope="module")
def finished_run(emulator):
    import json
    import os

    previous = os.environ.get("AIRFLOW_CONN_CIVIS_DEFAULT")
    os.environ["AIRFLOW_CONN_CIVIS_DEFAULT"] = json.dumps(
        {"conn_type": "civis", "host": emulator.base_url, "password": API_KEY, "extra": {"emulator": True}})
    try:
        ctx = make_context()
        result = CivisRunScriptOperator(task_id="page", script_type="python3", script={"source": SCRIPT},
                                        deferrable=False, poll_interval=0.05).execute(ctx)
    finally:
        if previous is None:
            os.environ.pop("AIRFLOW_CONN_CIVIS_DEFAULT", None)
        else:
            os.environ["AIRFLOW_CONN_CIVIS_DEFAULT"] = previous
    return result, ctx["ti"].xcom["run_url"]


def test_run_page_over_http_shows_state_logs_outputs_and_never_the_key(emulator, finished_run):
    result, url = finished_run
    assert url == f"{emulator.base_url}/_emulator/ui/jobs/{result['job_id']}/runs/{result['run_id']}"
    page = requests.get(url, timeout=10)  # no API key: a browser following the link sends none
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none': no scripts
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    text = page.text
    assert 'id="state">succeeded<' in text
    assert "loaded &lt;b&gt;1234&lt;/b&gt; rows" in text and "<b>1234</b>" not in text  # escaped
    assert "row_count" in text and ">1234<" in text  # the JSONValue output and its value
    assert API_KEY not in text and "leaked key: ****" in text
    assert "<script" not in text.lower()
    job_page = requests.get(f"{emulator.base_url}/_emulator/ui/jobs/{result['job_id']}", timeout=10)
    assert job_page.status_code == 200 and f"/runs/{result['run_id']}\">{result['run_id']}</a>" in job_page.text


def test_pages_refuse_other_hosts_and_the_api_route_still_needs_the_key(emulator, finished_run):
    result, url = finished_run
    path = url.removeprefix(emulator.base_url)
    # a DNS-rebinding page reaches 127.0.0.1 under its own host name: refused
    conn = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=10)
    conn.request("GET", path, headers={"Host": "evil.example:80"})
    response = conn.getresponse()
    assert response.status == 403 and API_KEY.encode() not in response.read()
    conn.close()
    assert requests.get(f"{emulator.base_url}/_emulator/ui/jobs/999999/runs/1", timeout=10).status_code == 404
    api = f"{emulator.base_url}/jobs/{result['job_id']}/runs/{result['run_id']}"
    assert requests.get(api, timeout=10).status_code == 401  # the JSON route is unchanged
    assert requests.get(api, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10).json()["state"] == "succeeded"
    assert requests.post(url, timeout=10).status_code in (404, 405)  # read-only: no other method is served


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install -y chromium to run this test)")
def test_run_page_renders_in_headless_chromium(tmp_path, finished_run):
    result, url = finished_run
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path}",
         "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    assert f"Job {result['job_id']}, run {result['run_id']}: succeeded" in dom
    assert 'id="state">succeeded<' in dom
    assert "loaded &lt;b&gt;1234&lt;/b&gt; rows" in dom and "row_count" in dom
    assert API_KEY not in dom
