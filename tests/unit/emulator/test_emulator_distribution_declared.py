"""What ``pip install ./emulator`` alone relies on is written down where a newcomer reads it.

Every third-party package the emulator imports is a dependency in ``emulator/pyproject.toml``, not something
that happens to arrive with FastAPI or with the provider's environment; and every option of the
``civis-emulator`` command is in the configuration reference (docs/configuration.md).
"""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from civis_emulator import cli

tomllib = pytest.importorskip("tomllib")  # the standard library from Python 3.11

ROOT = Path(__file__).resolve().parents[3]
EMULATOR = ROOT / "emulator"
# Imported only by the pytest plugin, which pytest itself loads: pytest is there whenever that runs.
PROVIDED_BY_THE_HOST = {"pytest"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_dependencies(pyproject: Path) -> set[str]:
    """Normalised distribution names of ``[project] dependencies``."""
    project = tomllib.loads(pyproject.read_text())["project"]
    return {_normalise(Requirement(spec).name) for spec in project["dependencies"]}


def undeclared_imports(package_dir: Path, dependencies: set[str]) -> dict[str, list[str]]:
    """``{top-level module: [file:line, ...]}`` for third-party imports no declared distribution provides."""
    own = package_dir.name
    distributions = packages_distributions()
    found: dict[str, list[str]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for top in {name.split(".")[0] for name in names}:
                if top in sys.stdlib_module_names or top == own or top in PROVIDED_BY_THE_HOST:
                    continue
                providers = {_normalise(d) for d in distributions.get(top, [top])}
                if not providers & dependencies:
                    found.setdefault(top, []).append(f"{path.relative_to(package_dir.parent)}:{node.lineno}")
    return found


def test_every_package_the_emulator_imports_is_a_declared_dependency():
    missing = undeclared_imports(EMULATOR / "civis_emulator", declared_dependencies(EMULATOR / "pyproject.toml"))
    assert not missing, f"add these to emulator/pyproject.toml's dependencies: {missing}"


def test_the_check_catches_an_import_that_only_arrives_with_another_package(tmp_path):
    package = tmp_path / "some_package"
    package.mkdir()
    (package / "mod.py").write_text("import os\nfrom starlette.exceptions import HTTPException\n")
    assert undeclared_imports(package, {"fastapi"}) == {"starlette": ["some_package/mod.py:2"]}
    assert undeclared_imports(package, {"fastapi", "starlette"}) == {}


def _cli_options(capsys: pytest.CaptureFixture[str]) -> list[str]:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    options = sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", capsys.readouterr().out)) - {"--help"})
    assert "--port" in options  # the help text was read, not an empty page
    return options


def test_every_emulator_option_is_in_the_configuration_reference(capsys):
    text = (ROOT / "docs" / "configuration.md").read_text()
    section = text.split("## The emulator's command line", 1)[1].split("\n## ", 1)[0]
    table_rows = [line for line in section.splitlines() if line.startswith("| `--")]
    undocumented = [opt for opt in _cli_options(capsys) if not any(row.startswith(f"| `{opt}") for row in table_rows)]
    assert not undocumented, f"docs/configuration.md's emulator options table lacks {undocumented}"
