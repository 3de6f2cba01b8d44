"""A FaultRule built directly (not through from_dict) matches its route: it used to have no pattern."""

from __future__ import annotations

from civis_emulator.faults import FaultRule


def test_a_rule_built_directly_matches_its_route():
    rule = FaultRule(route="/jobs/*", status=503)
    assert rule.matches("GET", "/jobs/7")
    assert not rule.matches("GET", "/files/7")
    assert rule.to_dict()["route"] == "/jobs/*" and "_regex" not in rule.to_dict()
    assert FaultRule.from_dict({"route": "/jobs/*", "status": 503}) == rule
