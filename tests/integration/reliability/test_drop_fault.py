"""The emulator's 'drop' fault really closes the connection, also for JSON requests the request log read."""

from __future__ import annotations

import pytest
import requests

from tests.integration.reliability.conftest import RELIABILITY_KEY


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_dropped_json_post_gets_no_answer_at_all(conn, when):
    conn.faults({"route": "/scripts/python3", "methods": ["POST"], "rate": 1.0, "drop": when})
    with pytest.raises(requests.ConnectionError):
        requests.post(conn.base_url + "/scripts/python3", json={"name": "dropped", "source": "print(1)"},
                      headers={"Authorization": f"Bearer {RELIABILITY_KEY}"}, timeout=30)
    conn.call("DELETE", "/_emulator/faults")
    scripts = conn.call("GET", "/scripts", params={"hidden": "true"}) + conn.call("GET", "/scripts")
    created = [s for s in scripts if s.get("name") == "dropped"]
    assert len(created) == (1 if when == "after" else 0)  # 'after' took effect, 'before' never did
