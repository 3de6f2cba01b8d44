"""The emulator imports nothing from Airflow or from the provider outside it: it must install without them.

It is its own distribution (``civis-emulator``, in ``emulator/``), usable by any civis-python user. Every import
in every module, relative ones resolved, at any depth (inside functions too), is checked from the source.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import asdict
from pathlib import Path

import civis_emulator

EMULATOR_DIR = Path(civis_emulator.__file__).parent
PACKAGE = "civis_emulator"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(EMULATOR_DIR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([PACKAGE, *parts])


def imports_of(path: Path) -> list[tuple[int, str]]:
    """``(line, absolute module name)`` of every import statement in ``path``."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def outside_imports(path: Path) -> list[str]:
    bad = []
    for line, name in imports_of(path):
        top = name.split(".")[0]
        if top in {"airflow", "airflow_civis"}:
            bad.append(f"{path.relative_to(EMULATOR_DIR)}:{line}: {name}")
    return bad


def test_the_emulator_imports_neither_airflow_nor_the_provider():
    modules = sorted(EMULATOR_DIR.rglob("*.py"))
    assert len(modules) > 50  # the walk sees the whole emulator
    bad = [entry for path in modules for entry in outside_imports(path)]
    assert bad == [], "the emulator must install without Airflow and the provider:\n" + "\n".join(bad)


def test_the_check_catches_each_kind_of_outside_import(tmp_path, monkeypatch):
    """The walker itself: absolute, relative (resolved, so harmless ones pass), and nested in a function."""
    fake = tmp_path / "emulator"
    (fake / "routers").mkdir(parents=True)
    monkeypatch.setattr(sys.modules[__name__], "EMULATOR_DIR", fake)
    sample = fake / "routers" / "sample.py"
    sample.write_text(
        "from . import emulator\n"
        "from ..store import Store\n"
        "import airflow.sdk\n"
        "def f():\n"
        "    from airflow_civis.links import run_page_url\n"
    )
    assert outside_imports(sample) == [
        "routers/sample.py:3: airflow.sdk",
        "routers/sample.py:5: airflow_civis.links",
    ]


def test_the_emulators_civisml_catalogue_matches_the_providers():
    """Two copies (each distribution installs alone): they must name the same workflows and aliases."""
    from airflow_civis import ml_models
    from civis_emulator.civisml import catalogue

    assert {k: asdict(v) for k, v in catalogue.MODEL_TYPES.items()} == {
        k: asdict(v) for k, v in ml_models.MODEL_TYPES.items()}
    assert catalogue.TEMPLATE_ALIASES == ml_models.TEMPLATE_ALIASES
    assert catalogue.ALIAS_OBJECT_TYPE == ml_models.ALIAS_OBJECT_TYPE
    for kind in ml_models.TEMPLATE_ALIASES:
        for version in (None, "prod", "v2.3"):
            assert catalogue.alias_for(kind, version) == ml_models.alias_for(kind, version)
