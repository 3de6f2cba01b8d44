"""Workflows in the emulator over real HTTP: definitions checked line by line, executions that really run
their jobs (direct with joins and error routes, reverse with requires), cancel, resume, retry, and the
official client driving them unmodified."""

from __future__ import annotations

import textwrap

import pytest
import requests

from tests.integration.emulator.emu_integration_helpers import KEY, wait_for

RESOURCES = {"cpu": 256, "memory": 512}
DONE = ("succeeded", "failed", "cancelled")


def container(http, server, command: str, name: str = "c") -> int:
    r = http.post(f"{server.base_url}/scripts/containers",
                  json={"name": name, "requiredResources": RESOURCES, "dockerCommand": command})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def create(http, server, definition: str, **extra) -> dict:
    r = http.post(f"{server.base_url}/workflows", json={"name": "wf", "definition": textwrap.dedent(definition),
                                                          **extra})
    assert r.status_code == 201, r.text
    return r.json()


def execute(http, server, workflow_id: int, **body) -> dict:
    r = http.post(f"{server.base_url}/workflows/{workflow_id}/executions", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def wait_execution(http, server, workflow_id: int, execution_id: int, states=DONE) -> dict:
    url = f"{server.base_url}/workflows/{workflow_id}/executions/{execution_id}"
    return wait_for(lambda: (lambda e: e if e["state"] in states else None)(http.get(url).json()), 60)


def tasks(execution: dict) -> dict:
    return {t["name"]: t for t in execution["tasks"]}


def test_three_jobs_one_joins_the_other_two(server, http):
    a, b = container(http, server, "echo a"), container(http, server, "echo b")
    c = container(http, server, 'echo "c got $WHO"')
    wf = create(http, server, f"""
        version: '2.0'
        three:
          tasks:
            first:
              action: civis.run_job
              input: {{job_id: {a}}}
              on-success: [last]
            second:
              action: civis.run_job
              input: {{job_id: {b}}}
              on-success: [last]
            last:
              join: all
              action: civis.run_job
              input: {{job_id: {c}}}
    """)
    assert wf["valid"] is True and wf["state"] == "idle" and wf["lastExecutionId"] is None
    started = execute(http, server, wf["id"])
    assert started["state"] == "running" and started["mistralState"] == "running"
    done = wait_execution(http, server, wf["id"], started["id"])
    assert done["state"] == "succeeded" and done["mistralState"] == "success"
    by_name = tasks(done)
    assert set(by_name) == {"first", "second", "last"}
    assert all(t["mistralState"] == "success" and len(t["runs"]) == 1 for t in by_name.values())
    last_run = by_name["last"]["runs"][0]
    assert last_run["jobId"] == c and last_run["state"] == "succeeded"
    # the join waited: "last" started only after both others finished
    ends = max(by_name[n]["runs"][0]["finishedAt"] for n in ("first", "second"))
    assert last_run["startedAt"] >= ends
    # the task's run is a real run of the job, with its log
    job_run = http.get(f"{server.base_url}/jobs/{c}/runs/{last_run['id']}").json()
    assert job_run["state"] == "succeeded"
    workflow = http.get(f"{server.base_url}/workflows/{wf['id']}").json()
    assert workflow["state"] == "succeeded" and workflow["lastExecutionId"] == done["id"]
    listed = http.get(f"{server.base_url}/workflows/{wf['id']}/executions").json()
    assert [e["id"] for e in listed] == [done["id"]]
    one = http.get(f"{server.base_url}/workflows/{wf['id']}/executions/{done['id']}/tasks/last").json()
    assert one["runs"][0]["id"] == last_run["id"]


def test_failure_routes_and_retry_reruns_only_the_failed_task(server, http, tmp_path):
    marker = tmp_path / "second-try"
    ok = container(http, server, "echo ok")
    flaky = container(http, server, f'if [ -e {marker} ]; then echo fixed; else touch {marker}; exit 3; fi')
    after = container(http, server, "echo after")
    wf = create(http, server, f"""
        version: '2.0'
        flow:
          tasks:
            ok:
              action: civis.run_job
              input: {{job_id: {ok}}}
              on-success: flaky
            flaky:
              action: civis.run_job
              input: {{job_id: {flaky}}}
              on-success: after
            after:
              action: civis.run_job
              input: {{job_id: {after}}}
    """)
    first = wait_execution(http, server, wf["id"], execute(http, server, wf["id"])["id"])
    assert first["state"] == "failed" and first["mistralState"] == "error"
    assert "flaky" in first["mistralStateInfo"]
    assert tasks(first)["flaky"]["mistralState"] == "error" and "after" not in tasks(first)
    base = f"{server.base_url}/workflows/{wf['id']}/executions/{first['id']}"
    assert http.post(f"{base}/retry", json={"taskName": "ok"}).status_code == 400  # not a failed task
    retried = http.post(f"{base}/retry", json={})
    assert retried.status_code == 202, retried.text
    assert retried.json()["id"] == first["id"] and retried.json()["state"] == "running"
    done = wait_execution(http, server, wf["id"], first["id"])
    assert done["state"] == "succeeded"
    by_name = tasks(done)
    assert len(by_name["ok"]["runs"]) == 1  # not re-run
    flaky_runs = by_name["flaky"]["runs"]
    assert [r["state"] for r in flaky_runs] == ["succeeded", "failed"]  # descending by id
    assert flaky_runs[0]["id"] > flaky_runs[1]["id"]
    assert by_name["after"]["mistralState"] == "success"
    assert http.post(f"{base}/retry", json={}).status_code == 409  # only a failed execution


def test_on_error_route_input_and_included_tasks(server, http):
    bad = container(http, server, "exit 1")
    cleanup = container(http, server, "echo cleanup")
    never = container(http, server, "echo never")
    wf = create(http, server, f"""
        version: '2.0'
        routed:
          input:
            - broken
            - cleanup_job: {cleanup}
          tasks:
            try:
              action: civis.run_job
              input: {{job_id: <% $.broken %>}}
              on-success: [skipped]
              on-error: [recover]
            recover:
              action: civis.run_job
              input: {{job_id: <% $.cleanup_job %>}}
            skipped:
              action: civis.run_job
              input: {{job_id: {never}}}
    """)
    r = http.post(f"{server.base_url}/workflows/{wf['id']}/executions", json={"input": {}})
    assert r.status_code == 400 and "broken" in r.json()["errorDescription"]
    r = http.post(f"{server.base_url}/workflows/{wf['id']}/executions", json={"input": {"nope": 1, "broken": 2}})
    assert r.status_code == 400 and "nope" in r.json()["errorDescription"]
    done = wait_execution(http, server, wf["id"], execute(http, server, wf["id"], input={"broken": bad})["id"])
    assert done["state"] == "succeeded", done  # the error was handled by on-error
    assert done["input"] == {"broken": bad, "cleanup_job": cleanup}
    by_name = tasks(done)
    assert by_name["try"]["mistralState"] == "error" and by_name["recover"]["mistralState"] == "success"
    assert "skipped" not in by_name
    # includedTasks: "try" is left out (passes as succeeded), so the flow goes on to "skipped" only
    only = execute(http, server, wf["id"], input={"broken": bad}, includedTasks=["skipped"])
    only = wait_execution(http, server, wf["id"], only["id"])
    assert only["state"] == "succeeded" and only["includedTasks"] == ["skipped"]
    assert set(tasks(only)) == {"skipped"}


def test_reverse_workflow_runs_the_target_and_what_it_requires(server, http):
    a, b, c, other = (container(http, server, f"echo {n}") for n in "abcd")
    wf = create(http, server, f"""
        version: '2.0'
        backwards:
          type: reverse
          tasks:
            load: {{action: civis.run_job, input: {{job_id: {a}}}}}
            clean: {{action: civis.run_job, input: {{job_id: {b}}}, requires: [load]}}
            report: {{action: civis.run_job, input: {{job_id: {c}}}, requires: [clean, load]}}
            unrelated: {{action: civis.run_job, input: {{job_id: {other}}}}}
    """)
    r = http.post(f"{server.base_url}/workflows/{wf['id']}/executions", json={})
    assert r.status_code == 400 and "targetTask" in r.json()["errorDescription"]
    done = wait_execution(http, server, wf["id"], execute(http, server, wf["id"], targetTask="report")["id"])
    assert done["state"] == "succeeded"
    by_name = tasks(done)
    assert [t["name"] for t in done["tasks"]] == ["load", "clean", "report"]
    assert by_name["clean"]["runs"][0]["startedAt"] >= by_name["load"]["runs"][0]["finishedAt"]


def test_cancel_kills_running_runs_and_resume_goes_past_a_pause(server, http):
    slow = container(http, server, "sleep 60")
    quick = container(http, server, "echo quick")
    wf = create(http, server, f"""
        version: '2.0'
        waits:
          tasks:
            hold:
              action: civis.run_job
              input: {{job_id: {slow}}}
    """)
    started = execute(http, server, wf["id"])
    run = wait_for(lambda: (tasks(http.get(f"{server.base_url}/workflows/{wf['id']}/executions/{started['id']}")
                                  .json()).get("hold") or {}).get("runs"))[0]
    wait_for(lambda: http.get(f"{server.base_url}/jobs/{slow}/runs/{run['id']}").json()["state"] == "running")
    r = http.post(f"{server.base_url}/workflows/{wf['id']}/executions/{started['id']}/cancel")
    assert r.status_code == 202 and r.json()["state"] == "cancelled"
    assert wait_for(lambda: http.get(f"{server.base_url}/jobs/{slow}/runs/{run['id']}").json()["state"]
                    == "cancelled")
    again = http.post(f"{server.base_url}/workflows/{wf['id']}/executions/{started['id']}/cancel")
    assert again.status_code == 409

    paused_wf = create(http, server, f"""
        version: '2.0'
        gated:
          tasks:
            gate:
              action: civis.run_job
              input: {{job_id: {quick}}}
              pause-before: true
    """)
    execution = execute(http, server, paused_wf["id"])
    assert execution["state"] == "paused" and tasks(execution)["gate"]["runs"] == []
    base = f"{server.base_url}/workflows/{paused_wf['id']}/executions/{execution['id']}"
    resumed = http.post(f"{base}/resume")
    assert resumed.status_code == 202, resumed.text
    done = wait_execution(http, server, paused_wf["id"], execution["id"])
    assert done["state"] == "succeeded" and len(tasks(done)["gate"]["runs"]) == 1
    assert http.post(f"{base}/resume").status_code == 409


@pytest.mark.parametrize(("definition", "line", "words"), [
    ("version: '2.0'\nwf:\n  tasks:\n    a:\n      action: civis.run_job\n      input: {job_id: 1}\n"
     "      on-success: [b]\n", 7, "undefined task 'b'"),
    ("version: '2.0'\nwf:\n  tasks:\n    a:\n      action: civis.scripts.python3\n", 5, "not supported"),
    ("version: '2.0'\nwf:\n  tasks:\n    a:\n      action: civis.run_job\n      input: {job_id: 1}\n"
     "      with-items: x in <% $.xs %>\n", 7, "with-items"),
    ("version: '2.0'\nwf:\n  tasks:\n    a:\n      action: civis.run_job\n      input: {job: 1}\n", 6, "job_id"),
    ("version: '2.0'\nwf:\n  tasks:\n    a: {action: civis.run_job, input: {job_id: 1}}\n  bad: [\n", 6,
     "not valid YAML"),
    ("version: 2.0\nwf:\n  tasks:\n    a: {action: std.noop}\n", 1, "version"),
    ("version: '2.0'\nwf:\n  type: reverse\n  tasks:\n    a: {action: std.noop, requires: [b]}\n"
     "    b: {action: std.noop, requires: [a]}\n", 5, "cycle"),
])
def test_a_definition_it_cannot_run_is_a_400_naming_the_line(server, http, definition, line, words):
    r = http.post(f"{server.base_url}/workflows", json={"name": "bad", "definition": definition})
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"error", "errorDescription", "code"} and body["code"] == 400
    assert f"line {line}:" in body["errorDescription"] and words in body["errorDescription"]


def test_update_list_archive_and_404s(server, http):
    wf = create(http, server, "version: '2.0'\nwf:\n  tasks:\n    a: {action: std.noop}\n")
    r = http.patch(f"{server.base_url}/workflows/{wf['id']}", json={"description": "patched"})
    assert r.status_code == 200 and r.json()["description"] == "patched" and r.json()["definition"]
    r = http.patch(f"{server.base_url}/workflows/{wf['id']}", json={"definition": "version: '2.0'\nwf: {}\n"})
    assert r.status_code == 400 and "line 2" in r.json()["errorDescription"]
    r = http.put(f"{server.base_url}/workflows/{wf['id']}", json={"name": "replaced"})
    assert r.status_code == 400  # replacing needs the definition
    r = http.put(f"{server.base_url}/workflows/{wf['id']}",
                 json={"name": "replaced", "definition": "version: '2.0'\nwf:\n  tasks:\n    b: {action: std.noop}\n"})
    assert r.status_code == 200 and r.json()["name"] == "replaced" and r.json()["description"] is None
    assert http.put(f"{server.base_url}/workflows/{wf['id']}/archive", json={"status": True}).json()["archived"]
    assert wf["id"] not in [w["id"] for w in http.get(f"{server.base_url}/workflows").json()]
    assert wf["id"] in [w["id"] for w in http.get(f"{server.base_url}/workflows?archived=true").json()]
    missing = http.get(f"{server.base_url}/workflows/999999/executions/1")
    assert missing.status_code == 404 and missing.json()["code"] == 404
    assert http.get(f"{server.base_url}/workflows/{wf['id']}/executions/999999").status_code == 404
    assert http.delete(f"{server.base_url}/workflows/{wf['id']}/executions/1").status_code == 404  # not in spec


def test_official_client_drives_a_workflow_unmodified(server, http, monkeypatch):
    import civis

    job = container(http, server, "echo from the official client")
    monkeypatch.setenv("CIVIS_API_KEY", KEY)
    monkeypatch.setenv("CIVIS_API_ENDPOINT", server.base_url + "/")
    client = civis.APIClient(force_refresh_api_spec=True)
    wf = client.workflows.post(name="via civis-python", definition=textwrap.dedent("""
        version: '2.0'
        one:
          input: [job]
          tasks:
            only: {action: civis.run_job, input: {job_id: <% $.job %>}}
    """))
    execution = client.workflows.post_executions(wf.id, input={"job": job})
    done = wait_for(lambda: (lambda e: e if e.state in DONE else None)(
        client.workflows.get_executions(wf.id, execution.id)), 60)
    assert done.state == "succeeded" and done.tasks[0].runs[0].job_id == job
    assert [e.id for e in client.workflows.list_executions(wf.id)] == [execution.id]


def test_the_execution_page_the_operator_links_to(server, http):
    job = container(http, server, "echo page")
    wf = create(http, server,
                f"version: '2.0'\nwf:\n  tasks:\n    only: {{action: civis.run_job, input: {{job_id: {job}}}}}\n")
    done = wait_execution(http, server, wf["id"], execute(http, server, wf["id"])["id"])
    run_id = done["tasks"][0]["runs"][0]["id"]
    page = requests.get(f"{server.base_url}/_emulator/ui/workflows/{wf['id']}/executions/{done['id']}", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]  # no API key needed
    assert 'id="state">succeeded<' in page.text
    assert f'href="/_emulator/ui/jobs/{job}/runs/{run_id}"' in page.text
    assert KEY not in page.text
    missing = requests.get(f"{server.base_url}/_emulator/ui/workflows/{wf['id']}/executions/999999", timeout=10)
    assert missing.status_code == 404
