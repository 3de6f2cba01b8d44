"""scripts/emulator_coverage.py: seed parsing and the spec mapping it relies on."""

from __future__ import annotations

import glob
import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SEED = next(iter(sorted(glob.glob("/work/shared/seeds/001_*.txt"))), None)


@pytest.fixture(scope="module")
def coverage():
    spec = importlib.util.spec_from_file_location("emulator_coverage", REPO / "scripts" / "emulator_coverage.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(SEED is None, reason="seed reference not available")
def test_seed_parses_into_13_classes(coverage):
    classes = coverage.parse_python_seed(Path(SEED))
    assert len(classes) == 13
    names = {(c, m) for c, ms in classes.items() for m, _ in ms}
    assert ("Scripts", "post_python3") in names and ("Users", "list_me") in names
    assert sum(len(ms) for ms in classes.values()) == len(names)  # no duplicates


def test_method_names_map_like_the_civis_client(coverage):
    from civis_emulator.spec import load_spec

    names = coverage.method_map(load_spec())
    assert names[("scripts", "post_python3_runs")][:2] == ("POST", "/scripts/python3/{id}/runs")
    assert names[("scripts", "get_python3_runs")][:2] == ("GET", "/scripts/python3/{id}/runs/{run_id}")
    assert names[("users", "list_me")][:2] == ("GET", "/users/me")
    assert names[("users", "get_me")][:2] == ("GET", "/users/me")


def test_r_helper_endpoints_are_spec_operations(coverage):
    from civis_emulator.spec_index import get_index

    ops = get_index().operations
    for helper, endpoints in coverage.R_HELPERS.items():
        for endpoint in endpoints:
            assert endpoint == "GET /endpoints" or endpoint in ops, (helper, endpoint)


def test_rules_section_lists_every_engine_rule_with_a_test_that_exists(coverage):
    """docs/emulator-coverage.md "Rules the emulator enforces": each rule row names a real test."""
    from civis_emulator.spec_index import get_index

    lines = coverage.rules_section({key: 200 for key in get_index().operations})
    text = "\n".join(lines)
    for rule in coverage.ENGINE_RULES:
        assert f"({rule})" in text, rule
    tests = {row[3] for row in coverage.OTHER_RULES}
    tests.update(test for _, _, test in coverage.ENGINE_RULES.values())
    for ref in tests:
        path, _, names = ref.partition("::")
        source = (REPO / path).read_text(encoding="utf-8")
        for name in names.split(", "):
            assert f"def {name}(" in source, ref


def test_the_docs_rules_section_is_current(coverage):
    doc = (REPO / "docs" / "emulator-coverage.md").read_text(encoding="utf-8")
    assert "## Rules the emulator enforces" in doc
    for rule in coverage.ENGINE_RULES:
        assert f"({rule})" in doc, f"docs/emulator-coverage.md lacks rule {rule}: run scripts/emulator_coverage.py"
