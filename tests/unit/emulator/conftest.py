from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from civis_emulator.app import create_app
from civis_emulator.warehouse import Warehouse
from tests.unit.emulator.emu_unit_helpers import AUTH, KEY, assert_no_contract_violations


@pytest.fixture
def app():
    app = create_app(KEY)
    yield app
    app.state.emulator.close()
    assert_no_contract_violations(app)


@pytest.fixture
def client(app):
    with TestClient(app, headers=AUTH) as c:
        yield c


@pytest.fixture
def wh():
    """A warehouse in memory, for the warehouse's own tests (no app around it)."""
    warehouse = Warehouse(None)
    yield warehouse
    warehouse.close()
