"""Connections our tests, benchmarks, scripts and examples aim at the emulator say so (extra
``{"emulator": true}``): the hook never guesses it from a loopback host, which may be a tunnel to real
Civis, and without it run links point at the platform instead of the emulator's pages."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("tests", "benchmarks", "scripts", "example_dags")
#: A host expression naming one of these is the emulator's address (base_url of a server, a fixture).
EMULATOR_HOSTS = ("emulator", "emu", "server", "base_url")


def civis_connection_dicts(path: Path) -> list[tuple[int, ast.Dict]]:
    """Dict literals with ``"conn_type": "civis"`` in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Dict) and any(
                isinstance(k, ast.Constant) and k.value == "conn_type" and isinstance(v, ast.Constant)
                and v.value == "civis" for k, v in zip(node.keys, node.values, strict=True)):
            found.append((node.lineno, node))
    return found


def says_emulator(conn: ast.Dict, source: str) -> bool:
    """An ``extra`` key whose value mentions ``emulator`` (a literal dict, or one built beside it)."""
    for key, value in zip(conn.keys, conn.values, strict=True):
        if isinstance(key, ast.Constant) and key.value == "extra":
            return "emulator" in (ast.get_source_segment(source, value) or "")
    return False


def test_every_connection_to_the_emulator_says_emulator():
    missing = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            source = path.read_text()
            for line, conn in civis_connection_dicts(path):
                host = dict(zip([getattr(k, "value", None) for k in conn.keys], conn.values, strict=True)).get("host")
                host_src = ast.get_source_segment(source, host) if host is not None else ""
                aimed_at_emulator = any(word in (host_src or "") for word in EMULATOR_HOSTS)
                next_line = source.splitlines()[conn.end_lineno or line][:200]  # conn["extra"] = {...} beside it
                extra_set_after = '["extra"]' in next_line and "emulator" in next_line
                if aimed_at_emulator and not says_emulator(conn, source) and not extra_set_after:
                    missing.append(f"{path.relative_to(ROOT)}:{line}")
    assert not missing, f'connections to the emulator without extra {{"emulator": true}}: {missing}'
