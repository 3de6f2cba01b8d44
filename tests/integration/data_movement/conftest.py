"""What the CSV import tests share: raw HTTP to the emulator, an upload, and running a job to its end."""

from __future__ import annotations

import pytest
import requests

from airflow_civis.hooks.civis import CivisHook
from airflow_civis.hooks.files import CivisFileTransfer
from tests.conftest import API_KEY
from tests.helpers import wait_for


class Api:
    """Raw HTTP to the emulator, to see status codes and error bodies as a client would."""

    def __init__(self, server):
        self.base, self.session = server.base_url, requests.Session()
        self.session.headers["Authorization"] = f"Bearer {API_KEY}"

    def __getattr__(self, method):
        return lambda path, **kw: self.session.request(method.upper(), self.base + path, timeout=30, **kw)

    def upload(self, tmp_path, data: bytes, name: str = "in.csv") -> int:
        """A Civis file holding ``data``, uploaded as a client would (through the Files API)."""
        path = tmp_path / name
        path.write_bytes(data)
        return CivisFileTransfer(CivisHook()).upload(str(path), name)

    def run_job(self, job_id: int, timeout: float = 30) -> dict:
        """Start a run of ``job_id`` and return it once it has ended."""
        run = self.post(f"/jobs/{job_id}/runs").json()

        def ended() -> dict | None:
            got = self.get(f"/jobs/{job_id}/runs/{run['id']}").json()
            return got if got["state"] in ("succeeded", "failed", "cancelled") else None

        return wait_for(ended, timeout=timeout, interval=0.05, what=f"run {run['id']} of job {job_id} ending")


@pytest.fixture
def api(civis_conn) -> Api:
    return Api(civis_conn)
