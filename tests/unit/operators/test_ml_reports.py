"""CivisML's JSON reports: reading them (presigned URL, connection TLS settings, no API key) and failing
on a model exception they record, as ``civis.ml.ModelFuture`` does."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest
import requests

from airflow_civis.exceptions import CivisRunError
from airflow_civis.hooks._retry import RetryPolicy
from airflow_civis.operators.ml.reports import checked_report, read_json_output
from airflow_civis.runs import RunRef

RUN = RunRef(kind="custom", job_id=12, run_id=34)


class _Hook:
    """The hook surface the reader uses: ``call`` for the file record and the connection's settings."""

    settings = SimpleNamespace(verify="/etc/ssl/company-ca.pem", timeout=7.0, retry=RetryPolicy(max_attempts=1),
                               base_url="https://api.civisanalytics.com")
    log = logging.getLogger("test")

    def call(self, method, path, **kwargs):
        assert (method, path) == ("GET", "/files/5")
        return {"id": 5, "fileUrl": "https://files.example.com/5?X-Amz-Signature=abc"}


def test_reports_are_read_from_the_presigned_url_with_the_connections_verify_and_no_api_key(mocker):
    sent = {}

    def fake_request(session, method, url, **kwargs):
        # verify as the request goes out (the per-request value wins over the session's, as in requests)
        sent.update({"verify": session.verify, **kwargs}, method=method, url=url, headers=dict(session.headers))
        response = requests.Response()
        response.status_code, response._content = 200, json.dumps({"run": {"status": "succeeded"}}).encode()
        response._content_consumed = True
        return response

    mocker.patch.object(requests.Session, "request", autospec=True, side_effect=fake_request)
    report = read_json_output(_Hook(), {"model_info.json": {"file_id": 5}}, "model_info.json")
    assert report == {"run": {"status": "succeeded"}}
    assert sent["url"].startswith("https://files.example.com/5") and sent["verify"] == "/etc/ssl/company-ca.pem"
    assert "Authorization" not in sent["headers"] and sent["timeout"] == 7.0
    assert read_json_output(_Hook(), {}, "metrics.json") is None


def test_a_recorded_model_exception_fails_with_job_run_and_error():
    trace = "Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: Input X contains NaN.\n"
    with pytest.raises(CivisRunError) as info:
        checked_report({"run": {"status": "exception", "stack_trace": trace}}, RUN, "training", "metrics.json",
                       required=False)
    err = info.value
    headline = "CivisML training job 12 run 34 failed: ValueError: Input X contains NaN. (metrics.json)"
    assert str(err).startswith(headline)
    assert "Model stack trace:" in str(err) and (err.state, err.job_id, err.run_id) == ("exception", 12, 34)
    assert err.log_tail[-1] == "ValueError: Input X contains NaN."


def test_missing_reports():
    with pytest.raises(CivisRunError, match="job 12 run 34 failed: the run has no model_info.json output"):
        checked_report(None, RUN, "prediction", "model_info.json", required=True)
    assert checked_report(None, RUN, "training", "metrics.json", required=False) is None
    ok = {"run": {"status": "succeeded"}, "metrics": {"accuracy": 1.0}}
    assert checked_report(ok, RUN, "training", "metrics.json", required=True) is ok
