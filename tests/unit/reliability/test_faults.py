"""The emulator's fault rules: matching, determinism, validation, and the admin endpoint (in-process)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from civis_emulator.app import create_app
from civis_emulator.faults import FaultRule, FaultStore

KEY = "unit-faults-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.mark.parametrize(("route", "path", "hit"), [
    ("/scripts/{kind}/{id}/runs", "/scripts/python3/12/runs", True),
    ("/scripts/{kind}/{id}/runs", "/scripts/python3/12/runs/4", False),
    ("/jobs/*", "/jobs/3/runs/4", True),
    ("*", "/users/me", True),
    ("/users/me", "/users/me/", True),
    ("/jobs/{id}", "/jobs", False),
])
def test_route_matching(route, path, hit):
    assert FaultRule.from_dict({"route": route, "status": 500}).matches("GET", path) is hit


def test_methods_filter():
    rule = FaultRule.from_dict({"route": "*", "methods": ["post"], "status": 502})
    assert rule.matches("POST", "/x") and not rule.matches("GET", "/x")


def test_same_seed_same_faults():
    def pattern(seed: int) -> list[bool]:
        store = FaultStore()
        store.configure({"seed": seed, "rules": [{"route": "*", "status": 503, "rate": 0.3}]})
        return [store.decide("GET", "/jobs")[1] is not None for _ in range(200)]

    assert pattern(4) == pattern(4) != pattern(5)
    assert 40 <= sum(pattern(4)) <= 80


@pytest.mark.parametrize(("rule", "message"), [
    ({"route": "*", "status": 418}, "status must be one of"),
    ({"route": "*", "drop": "sideways"}, "drop must be"),
    ({"route": "*", "status": 500, "rate": 2}, "rate must be between 0 and 1"),
    ({"route": "*", "status": 500, "drop": "after"}, "not both"),
    ({"route": "*", "color": "red"}, "unknown rule field"),
])
def test_bad_rules_are_rejected_with_the_reason(rule, message):
    with pytest.raises(ValueError, match=message):
        FaultStore().configure({"rules": [rule]})


def test_admin_endpoint_and_counters():
    app = create_app(KEY)
    try:
        with TestClient(app, headers=AUTH) as client:
            assert client.get("/_emulator/faults").json()["rules"] == []
            bad = client.post("/_emulator/faults", json={"rules": [{"status": 200}]})
            assert bad.status_code == 400 and "status must be one of" in bad.json()["errorDescription"]
            client.post("/_emulator/faults", json={"seed": 1, "rules": [
                {"route": "/users/me", "status": 429, "retry_after": 3}]})
            answer = client.get("/users/me")
            assert answer.status_code == 429 and answer.headers["retry-after"] == "3"
            assert client.get("/users/me", headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert client.get("/_emulator/faults").json()["injected"] == {"status_429": 1}
            stats = client.get("/_emulator/stats").json()["requests"]
            assert {"method": "GET", "route": "/users/me", "status": 429, "count": 1} in stats
            assert client.delete("/_emulator/faults").json()["rules"] == []
            assert client.get("/users/me").status_code == 200
    finally:
        app.state.emulator.close()


def test_off_by_default_and_not_for_other_hosts():
    app = create_app(KEY)
    try:
        with TestClient(app, headers=AUTH) as client:
            client.post("/_emulator/faults", json={"rules": [{"route": "*", "status": 500}]})
            # A second client from another address (no lifespan of its own, so the app stays open).
            remote = TestClient(app, headers=AUTH, client=("203.0.113.9", 5000))
            assert remote.get("/users/me").status_code == 200
    finally:
        app.state.emulator.close()
