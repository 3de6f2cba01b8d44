"""The pytest plugin fails a run with violations and prints the tally (run in a subprocess, so the
deliberately broken app there never reaches this session's own tally)."""

from __future__ import annotations

import os
from pathlib import Path

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[3]

INNER = '''
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from civis_emulator.contract import install_contract

def make(run):
    app = FastAPI()
    app.state.api_key = "k"

    @app.get("/scripts/python3/{id}/runs/{run_id}")
    def get_run(id: int, run_id: int):
        return JSONResponse(run)

    install_contract(app)
    return app

RUN = {"id": 3, "pythonId": 7, "state": "running", "isCancelRequested": False,
       "createdAt": "2024-01-01T00:00:00Z", "startedAt": None, "finishedAt": None,
       "error": None, "maxMemoryUsage": None, "maxCpuUsage": None}

def test_calls():
    run = dict(RUN)
    MODE
    with TestClient(make(run)) as c:
        assert c.get("/scripts/python3/7/runs/3", headers={"Authorization": "Bearer k"}).status_code == 200
'''


def _run(pytester, mode: str):
    pytester.makepyfile(test_inner=INNER.replace("MODE", mode))
    env_path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    pytester._monkeypatch.setenv("PYTHONPATH", env_path)
    return pytester.runpytest_subprocess("-p", "tests.contract_plugin", "-q")


def test_clean_run_passes_and_reports_the_tally(pytester):
    result = _run(pytester, "pass")
    result.stdout.fnmatch_lines(
        ["*Civis API contract: 1 responses checked over 1 distinct operations, 0 violations*"]
    )
    assert result.ret == 0


def test_violation_fails_the_run_naming_method_path_and_field(pytester):
    result = _run(pytester, 'del run["finishedAt"]; run["pythonId"] = "seven"')
    result.stdout.fnmatch_lines(
        [
            "*Civis API contract: 1 responses checked over 1 distinct operations, 2 violations*",
            "*VIOLATION GET /scripts/python3/7/runs/3*field /finishedAt: required key is missing*",
            "*VIOLATION GET /scripts/python3/7/runs/3*field /pythonId: expected integer*",
        ]
    )
    result.assert_outcomes(passed=1)
    assert result.ret == 1
