from __future__ import annotations

from civis_emulator import spec


def test_match_prefers_literal_segments_and_integer_ids():
    assert spec.match("GET", "/scripts/python3/12/runs/5/logs") == ("/scripts/python3/{id}/runs/{run_id}/logs", True)
    assert spec.match("POST", "/scripts/containers") == ("/scripts/containers", True)
    assert spec.match("GET", "/scripts/12") == ("/scripts/{id}", True)
    assert spec.match("GET", "/jobs/") == ("/jobs", True)
    assert spec.match("GET", "/not-a-civis-path") == (None, False)
    assert spec.match("PATCH", "/users/me/activity") == ("/users/me/activity", False)


def test_conform_fills_missing_fields_with_null_and_drops_unknown():
    schema = spec.response_schema("GET", "/jobs/{id}/runs/{run_id}", 200)
    out = spec.conform(schema, {"id": 3, "state": "queued", "internal": "x"})
    assert out == {"id": 3, "state": "queued", "createdAt": None, "startedAt": None,
                   "finishedAt": None, "error": None}


def test_list_defaults_read_from_spec_text():
    d = spec.list_defaults("/scripts")
    assert (d["limit"], d["max_limit"], d["order"], d["order_dir"]) == (20, 50, "updated_at", "desc")
    d = spec.list_defaults("/jobs/{id}/runs")
    assert (d["limit"], d["max_limit"], d["order"]) == (20, 100, "id")


def test_spec_loading_does_not_import_the_civis_client():
    import subprocess
    import sys

    code = ("import sys; from civis_emulator.app import create_app; create_app('k'); "
            "print('civis' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
