"""The pytest11 plugins (the provider's and the emulator's): their fixtures, and the documented example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from airflow_civis.hooks.civis import CivisHook

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "testing-your-dags.md"


def test_fixtures_come_from_the_entry_point(pytestconfig):
    """Nothing in tests/conftest.py defines them: pytest found the plugin through ``pytest11``."""
    plugin = pytestconfig.pluginmanager.get_plugin("airflow_civis")
    assert plugin is not None and plugin.__name__ == "airflow_civis.testing.pytest_plugin"
    emulator_plugin = pytestconfig.pluginmanager.get_plugin("civis_emulator")  # from the civis-emulator distribution
    assert emulator_plugin is not None and emulator_plugin.__name__ == "civis_emulator.pytest_plugin"


def test_civis_connection_points_at_a_fresh_emulator(civis_connection, civis_emulator):
    assert civis_connection == "civis_default"
    ok, message = CivisHook(civis_connection).test_connection()
    assert ok, message
    assert civis_emulator.base_url in message
    assert list(CivisHook(civis_connection).paginate("/jobs")) == []  # its own, empty data dir
    response = requests.get(civis_emulator.base_url + "/users/me", headers={"Authorization": "Bearer nope"},
                            timeout=10)
    assert response.status_code == 401


def doc_files(markdown: str) -> dict[str, str]:
    """The page's python blocks whose first line is ``# <path>``, by path."""
    files = {}
    for block in re.findall(r"```python\n(.*?)```", markdown, flags=re.S):
        first, _, rest = block.partition("\n")
        if first.startswith("# ") and first.endswith(".py"):
            files[first[2:].strip()] = block
    return files


@pytest.mark.slow
def test_documented_example_passes(pytester):
    """docs/testing-your-dags.md's DAG and tests, copied into a fresh project and run by pytest."""
    files = doc_files(DOC.read_text())
    assert set(files) == {"dags/civis_report.py", "tests/test_civis_report.py"}
    for path, text in files.items():
        target = pytester.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function", "tests"
    )
    result.assert_outcomes(passed=3)
