"""Two distributions from one repository: the provider carries no emulator code, and the emulator needs no
Airflow (``pip install ./emulator`` alone serves the official client).

The wheels are built offline from a copy of the sources (``--no-build-isolation``: setuptools comes with the
test extra), so nothing here needs the network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[3]


def _wheel(tmp_path: Path, project: str, parts: list[str]) -> zipfile.ZipFile:
    """Build ``project``'s wheel from a copy of ``parts`` of it (the repository stays untouched)."""
    source = tmp_path / "src"
    for part in parts:
        origin = ROOT / project / part
        target = source / part
        if origin.is_dir():
            shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(origin, target)
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(out), str(source)], check=True, capture_output=True, timeout=300)
    (wheel,) = out.glob("*.whl")
    return zipfile.ZipFile(wheel)


def _metadata(wheel: zipfile.ZipFile) -> tuple[list[str], str]:
    dist_info = next(n.split("/")[0] for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    metadata = Parser().parsestr(wheel.read(f"{dist_info}/METADATA").decode())
    entry_points = wheel.read(f"{dist_info}/entry_points.txt").decode()
    return metadata.get_all("Requires-Dist") or [], entry_points


@pytest.mark.slow
def test_provider_wheel_has_no_emulator_file(tmp_path):
    wheel = _wheel(tmp_path, ".", ["pyproject.toml", "README.md", "airflow_civis"])
    names = wheel.namelist()
    assert any(n.startswith("airflow_civis/operators/") for n in names)
    assert not [n for n in names if "emulator" in n.split("/")[0] or n.startswith("airflow_civis/emulator")]
    requires, entry_points = _metadata(wheel)
    runtime = [r for r in requires if "extra ==" not in r]
    assert not [r for r in runtime if r.startswith(("civis-emulator", "duckdb", "fastapi", "scikit-learn"))]
    assert "civis-emulator" not in entry_points  # the console script belongs to the emulator's distribution


@pytest.mark.slow
def test_emulator_wheel_is_the_emulator_alone_and_needs_no_airflow(tmp_path):
    wheel = _wheel(tmp_path, "emulator", ["pyproject.toml", "README.md", "civis_emulator"])
    packages = {n.split("/")[0] for n in wheel.namelist()}
    assert packages == {"civis_emulator", "civis_emulator-0.1.0.dist-info"}
    requires, entry_points = _metadata(wheel)
    assert not [r for r in requires if "airflow" in r.lower()]
    assert "civis-emulator = civis_emulator.cli:main" in entry_points
    assert "civis_emulator = civis_emulator.pytest_plugin" in entry_points


NO_AIRFLOW = textwrap.dedent("""
    import importlib.abc, sys

    class NoAirflow(importlib.abc.MetaPathFinder):
        '''As if neither Airflow nor the provider were installed.'''
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {"airflow", "airflow_civis"}:
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, NoAirflow())
""")

OFFICIAL_CLIENT = NO_AIRFLOW + textwrap.dedent("""
    import os
    import civis
    from civis_emulator.server import EmulatorServer

    with EmulatorServer(api_key="k") as server:
        os.environ.update(server.client_env())
        client = civis.APIClient()
        job = client.scripts.post_python3(name="hello", source="print('hello from the emulator')")
        run = civis.utils.run_job(job.id, client=client).result()
        logs = [line["message"] for line in client.jobs.list_runs_logs(job.id, run.id)]
        print(run.state, "hello from the emulator" in logs)
    print("airflow loaded:", any(m.split(".")[0] in {"airflow", "airflow_civis"} for m in sys.modules))
""")


@pytest.mark.slow
def test_emulator_serves_the_official_client_without_airflow(tmp_path):
    """In a process where importing Airflow or the provider fails, civis-python runs a script end to end."""
    result = subprocess.run([sys.executable, "-c", OFFICIAL_CLIENT], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split("\n")[-3:-1] == ["succeeded True", "airflow loaded: False"], result.stdout


@pytest.mark.slow
def test_readme_example_runs_with_the_emulator_fixture_alone(pytester):
    """emulator/README.md's test, in a fresh project, with the provider's plugin switched off."""
    readme = (ROOT / "emulator" / "README.md").read_text()
    (example,) = [b for b in readme.split("```python\n")[1:]]
    pytester.makepyfile(test_readme=example.split("```")[0])
    result = pytester.runpytest_subprocess("-p", "no:airflow_civis", "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)
