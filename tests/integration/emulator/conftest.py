from __future__ import annotations

import pytest
import requests

from civis_emulator.server import EmulatorServer
from tests.integration.emulator.emu_integration_helpers import KEY


@pytest.fixture
def server():
    with EmulatorServer(api_key=KEY) as s:
        yield s
    report = getattr(s.app.state, "contract_report", None)
    if report is not None:
        assert report.violation_count == 0, report.violations


@pytest.fixture
def http(server):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {KEY}"
    yield session
    session.close()
