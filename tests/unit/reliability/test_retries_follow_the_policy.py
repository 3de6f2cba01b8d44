"""Every retry the provider makes is decided by the connection's RetryPolicy: run-start reconciliation,
harmless creates, the lifecycle's start-over, the file data plane (with its own statuses, ``Retry-After``
ignored) and presigned downloads (with the connection's ``verify``, never the API key)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
import requests

from airflow_civis.exceptions import CivisAPIError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.hooks.files import CivisFileTransfer
from airflow_civis.runs import RunRef
from tests.transports import Transport

API_KEY = "unit-policy-key-81f0d2"
DROPPED = requests.ConnectionError("('Connection aborted.', RemoteDisconnected('closed'))")


def route_key(request: requests.PreparedRequest) -> str:
    parts = urlsplit(request.url)
    return f"{request.method} {parts.hostname}{parts.path}"


class Routes(Transport):
    """Answers by "METHOD host/path" from a queue per route; records what went out, with its ``verify``."""

    def __init__(self, routes: dict[str, list]) -> None:
        queues = {key: list(replies) for key, replies in routes.items()}
        super().__init__(lambda request: queues[route_key(request)].pop(0))

    def keys(self) -> list[str]:
        return [route_key(request) for request in self.requests]


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr("tenacity.nap.time.sleep", waited.append)
    return waited


def connect(monkeypatch, retry: dict | None = None, verify: object = True) -> None:
    extra: dict = {"verify": verify}
    if retry is not None:
        extra["retry"] = retry
    monkeypatch.setenv("AIRFLOW_CONN_CIVIS_DEFAULT", json.dumps(
        {"conn_type": "civis", "password": API_KEY, "host": "https://api.example.test", "extra": extra}))


def job(last_run_id: int | None) -> tuple[int, dict]:
    return 200, {"id": 5, "lastRun": {"id": last_run_id, "state": "queued"} if last_run_id else None}


# -- run start reconciliation ----------------------------------------------------------------------
def test_reconciliation_waits_and_stops_as_the_policy_says(monkeypatch, sleeps):
    connect(monkeypatch, retry={"max_attempts": 2, "backoff_initial": 0.25})
    adapter = Routes({"GET api.example.test/jobs/5": [job(3)] * 3,
                      "POST api.example.test/scripts/python3/5/runs": [(502, None), DROPPED]})
    with pytest.raises(CivisAPIError):
        CivisHook(transport=adapter).start_run("python3", 5)
    assert adapter.keys().count("POST api.example.test/scripts/python3/5/runs") == 2  # the policy's 2, not 5
    assert sleeps == [0.25, 0.5]  # the policy's backoff steps, before each look for a landed run
    assert adapter.keys()[-1] == "GET api.example.test/jobs/5"  # after the last POST it still looked


def test_a_policy_of_one_attempt_still_adopts_a_run_that_landed(monkeypatch, sleeps):
    connect(monkeypatch, retry={"max_attempts": 1})
    adapter = Routes({"GET api.example.test/jobs/5": [job(3), job(4)],
                      "POST api.example.test/scripts/python3/5/runs": [(504, None)]})
    assert CivisHook(transport=adapter).start_run("python3", 5) == RunRef("python3", 5, 4)
    assert sleeps == [0.5]


# -- harmless creates ------------------------------------------------------------------------------
def test_create_repeats_up_to_the_policys_attempts(monkeypatch, sleeps):
    connect(monkeypatch, retry={"max_attempts": 3, "backoff_initial": 0.0})
    adapter = Routes({"POST api.example.test/files": [(502, None), DROPPED, (504, None), (200, {"id": 1})]})
    with pytest.raises(CivisAPIError) as info:
        CivisHook(transport=adapter).create("/files", json={"name": "a.csv"})
    assert info.value.status == 504 and len(adapter.sent) == 3 and len(sleeps) == 2


# -- the file data plane ---------------------------------------------------------------------------
def created_file(upload_url: str = "https://bucket.example.test/upload") -> tuple[int, dict]:
    return 200, {"id": 12, "uploadUrl": upload_url, "uploadFields": {"key": "k/12", "policy": "p"}}


def test_presigned_upload_retries_its_statuses_ignoring_retry_after(monkeypatch, sleeps, tmp_path):
    connect(monkeypatch, retry={"max_attempts": 4, "backoff_initial": 0.5, "backoff_max": 2.0},
            verify="/etc/ssl/company-ca.pem")
    source = tmp_path / "a.csv"
    source.write_text("a,b\n1,2\n")
    adapter = Routes({
        "POST api.example.test/files": [created_file()],
        "POST bucket.example.test/upload": [(503, b"<Error>SlowDown</Error>", {"Retry-After": "120"}),
                                            (500, b"<Error>InternalError</Error>"), (204, b"")],
    })
    assert CivisFileTransfer(CivisHook(transport=adapter)).upload(str(source)) == 12
    uploads = [(request, kwargs) for request, kwargs in adapter.calls if route_key(request).endswith("/upload")]
    assert len(uploads) == 3
    assert len(sleeps) == 2 and all(wait <= 2.0 for wait in sleeps)  # the policy's backoff, not Retry-After
    for request, kwargs in uploads:
        assert "Authorization" not in request.headers  # presigned URLs authorise themselves
        assert kwargs["verify"] == "/etc/ssl/company-ca.pem"  # even with REQUESTS_CA_BUNDLE set


def test_presigned_upload_gives_up_after_the_policys_attempts_without_the_signature(monkeypatch, sleeps, tmp_path):
    connect(monkeypatch, retry={"max_attempts": 2, "backoff_initial": 0.0})
    source = tmp_path / "a.csv"
    source.write_text("x\n")
    adapter = Routes({
        "POST api.example.test/files": [created_file("https://bucket.example.test/upload?X-Amz-Signature=s3cr3t")],
        "POST bucket.example.test/upload": [(503, b"busy"), (503, b"busy"), (204, b"")],
    })
    with pytest.raises(CivisAPIError) as info:
        CivisFileTransfer(CivisHook(transport=adapter)).upload(str(source))
    assert info.value.status == 503 and "s3cr3t" not in str(info.value)
    assert adapter.keys().count("POST bucket.example.test/upload") == 2


def test_presigned_upload_does_not_retry_a_refusal(monkeypatch, sleeps, tmp_path):
    connect(monkeypatch)
    source = tmp_path / "a.csv"
    source.write_text("x\n")
    adapter = Routes({"POST api.example.test/files": [created_file()],
                      "POST bucket.example.test/upload": [(403, b"<Error>AccessDenied</Error>")]})
    with pytest.raises(CivisAPIError, match="AccessDenied"):
        CivisFileTransfer(CivisHook(transport=adapter)).upload(str(source))
    assert sleeps == []


def test_presigned_download_is_retried_with_the_connections_verify_and_no_key(monkeypatch, sleeps, tmp_path):
    connect(monkeypatch, retry={"max_attempts": 3, "backoff_initial": 0.0}, verify=False)
    info = {"id": 7, "name": "a.csv", "fileSize": 8, "fileUrl": "https://bucket.example.test/7?sig=x"}
    adapter = Routes({"GET api.example.test/files/7": [(200, info)],
                      "GET bucket.example.test/7": [DROPPED, (200, b"abc"), (200, b"a,b\n1,2\n")]})
    target = tmp_path / "out.csv"
    CivisFileTransfer(CivisHook(transport=adapter)).download(7, str(target))
    assert target.read_bytes() == b"a,b\n1,2\n"  # a dropped GET retried, then a short file read again whole
    downloads = [(request, kwargs) for request, kwargs in adapter.calls
                 if route_key(request) == "GET bucket.example.test/7"]
    assert len(downloads) == 3 and len(sleeps) == 2
    assert all(kwargs["verify"] is False and "Authorization" not in r.headers for r, kwargs in downloads)
