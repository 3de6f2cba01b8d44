"""Real runs over real HTTP: python3 source and container commands in subprocesses."""

from __future__ import annotations

import os
import shutil
import textwrap

import pytest

from tests.integration.emulator.emu_integration_helpers import KEY, wait_for, wait_run

RESOURCES = {"cpu": 256, "memory": 512}

OUTPUT_SCRIPT = textwrap.dedent("""
    import json, os, sys, urllib.request
    print("hello", os.environ["GREETING"])
    print("second line")
    print("to stderr", file=sys.stderr)
    base = os.environ["CIVIS_API_ENDPOINT"]
    headers = {"Authorization": "Bearer " + os.environ["CIVIS_API_KEY"], "Content-Type": "application/json"}
    def post(path, body):
        req = urllib.request.Request(base + path, json.dumps(body).encode(), headers, method="POST")
        return json.load(urllib.request.urlopen(req))
    jv = post("json_values", {"name": "answer", "valueStr": json.dumps({"n": int(os.environ["COUNT"]) * 2})})
    job, run = os.environ["CIVIS_JOB_ID"], os.environ["CIVIS_RUN_ID"]
    post(f"scripts/python3/{job}/runs/{run}/outputs", {"objectType": "JSONValue", "objectId": jv["id"]})
""")


def _python3(http, server, source: str, **extra) -> dict:
    r = http.post(f"{server.base_url}/scripts/python3", json={"name": "py", "source": source, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def test_python3_run_logs_outputs_and_state(server, http):
    script = _python3(http, server, OUTPUT_SCRIPT,
                      params=[{"name": "greeting", "type": "string"}, {"name": "count", "type": "integer"}],
                      arguments={"greeting": "world", "count": 21})
    base = f"{server.base_url}/scripts/python3/{script['id']}/runs"
    run = http.post(base).json()
    done = wait_run(http, f"{base}/{run['id']}")
    assert done["state"] == "succeeded", done
    logs = http.get(f"{base}/{run['id']}/logs", params={"last_id": 0}).json()
    messages = [e["message"] for e in logs]
    assert messages.index("hello world") < messages.index("second line")
    assert {"message": "to stderr", "level": "error"}.items() <= next(
        e for e in logs if e["message"] == "to stderr").items()
    outputs = http.get(f"{base}/{run['id']}/outputs").json()
    assert [(o["objectType"], o["name"], o["value"]) for o in outputs] == [("JSONValue", "answer", {"n": 42})]
    job = http.get(f"{server.base_url}/jobs/{script['id']}").json()
    assert job["lastRun"]["state"] == "succeeded"


def test_logs_arrive_while_the_run_is_running(server, http, tmp_path):
    gate = tmp_path / "go"
    source = (f"import os, time\nprint('started', flush=True)\n"
              f"while not os.path.exists({str(gate)!r}): time.sleep(0.02)\n")
    script = _python3(http, server, source)
    base = f"{server.base_url}/scripts/python3/{script['id']}/runs"
    run = http.post(base).json()
    wait_for(lambda: any(e["message"] == "started" for e in http.get(f"{base}/{run['id']}/logs").json()))
    r = http.get(f"{base}/{run['id']}/logs")
    assert http.get(f"{base}/{run['id']}").json()["state"] == "running"
    assert r.headers["Civis-Cache-Control"] == "no-store"
    gate.write_text("")
    assert wait_run(http, f"{base}/{run['id']}")["state"] == "succeeded"


def test_failing_script_fails_with_status_and_last_stderr_line(server, http):
    script = _python3(http, server, "import sys\nprint('doing work')\nsys.stderr.write('bad things\\n')\nsys.exit(3)\n")
    base = f"{server.base_url}/scripts/python3/{script['id']}/runs"
    run = http.post(base).json()
    done = wait_run(http, f"{base}/{run['id']}")
    assert done["state"] == "failed"
    assert done["error"] == "Process exited with status 3: bad things"
    assert http.get(f"{server.base_url}/jobs/{script['id']}").json()["state"] == "failed"


def test_cancel_kills_the_process_group(server, http):
    source = "import os, subprocess, time\nprint('pid', os.getpid(), flush=True)\ntime.sleep(600)\n"
    script = _python3(http, server, source)
    base = f"{server.base_url}/scripts/python3/{script['id']}/runs"
    run = http.post(base).json()

    def pid():
        for e in http.get(f"{base}/{run['id']}/logs").json():
            if e["message"].startswith("pid "):
                return int(e["message"].split()[1])
    process_id = wait_for(pid)
    assert http.delete(f"{base}/{run['id']}").status_code == 202
    done = wait_run(http, f"{base}/{run['id']}")
    assert done["state"] == "cancelled" and done["isCancelRequested"] is True
    with pytest.raises(ProcessLookupError):
        os.kill(process_id, 0)


def test_container_command_runs_in_bash_in_a_temp_dir_with_params(server, http):
    r = http.post(f"{server.base_url}/scripts/containers", json={
        "name": "c", "requiredResources": RESOURCES,
        "dockerCommand": 'echo "dir=$(pwd) files=$(ls | wc -l) who=$TARGET job=$CIVIS_JOB_ID"; exit 0',
        "params": [{"name": "target", "type": "string", "default": "fallback"}]})
    script = r.json()
    base = f"{server.base_url}/jobs/{script['id']}/runs"
    run = http.post(base).json()
    assert wait_run(http, f"{base}/{run['id']}")["state"] == "succeeded"
    line = http.get(f"{base}/{run['id']}/logs").json()[0]["message"]
    assert f"who=fallback job={script['id']}" in line and "files=0" in line and "civis-run-" in line


def test_custom_script_runs_template_code_with_its_own_arguments(server, http):
    backing = _python3(http, server, "import os\nprint('value=' + os.environ['WORD'])\n",
                       params=[{"name": "word", "type": "string"}], arguments={"word": "backing"})
    tmpl = http.post(f"{server.base_url}/templates/scripts/", json={"scriptId": backing["id"], "name": "T"}).json()
    custom = http.post(f"{server.base_url}/scripts/custom",
                       json={"fromTemplateId": tmpl["id"], "arguments": {"word": "custom"}}).json()
    base = f"{server.base_url}/scripts/custom/{custom['id']}/runs"
    run = http.post(base).json()
    assert wait_run(http, f"{base}/{run['id']}")["state"] == "succeeded"
    messages = [e["message"] for e in http.get(f"{base}/{run['id']}/logs").json()]
    assert "value=custom" in messages


@pytest.mark.skipif(shutil.which("Rscript") is not None, reason="R is installed here")
def test_r_script_without_rscript_fails_clearly(server, http):
    r = http.post(f"{server.base_url}/scripts/r", json={"name": "r", "source": "print(1)"})
    base = f"{server.base_url}/scripts/r/{r.json()['id']}/runs"
    run = http.post(base).json()
    done = wait_run(http, f"{base}/{run['id']}")
    assert done["state"] == "failed" and "Rscript" in done["error"]


def test_the_official_client_drives_the_emulator(server, monkeypatch):
    import civis

    from civis_emulator.spec import spec_path

    monkeypatch.setenv("CIVIS_API_ENDPOINT", server.base_url + "/")
    client = civis.APIClient(api_key=KEY, local_api_spec=spec_path())  # it sends HTTP Basic (key, "")
    script = client.scripts.post_containers(
        name="via client", docker_command="civis-emulator:sleep 0",
        required_resources={"cpu": 2, "memory": 4})  # the spec's minimums
    run = client.scripts.post_containers_runs(script.id)
    future = civis.futures.CivisFuture(client.scripts.get_containers_runs, (script.id, run.id), client=client,
                                       polling_interval=0.05)
    assert future.result(timeout=30).state == "succeeded"
    assert client.users.get_me().username
    assert client.jobs.get(script.id).last_run.id == run.id
    assert client.jobs.list(state="succeeded")[0].id == script.id
