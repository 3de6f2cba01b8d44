"""``@task.civis`` in-process against a real emulator: the function really runs in the emulator's runner,
its result comes back through run outputs (JSON value, or a Civis file), failures carry the remote traceback."""

from __future__ import annotations

import ast
import json
from datetime import datetime

import pytest
from airflow.exceptions import TaskDeferred
from airflow.sdk import DAG, task

from airflow_civis.exceptions import CivisRunError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.runs import RunRef
from tests.helpers import first_event, make_context


def operator_of(decorated, *args, **kwargs):
    """The CivisDecoratedOperator that calling a decorated function in a DAG creates."""
    with DAG(dag_id="civis_task_test", schedule=None, start_date=datetime(2026, 1, 1)):
        return decorated(*args, **kwargs).operator


def run(decorated, *args, **kwargs):
    return operator_of(decorated, *args, **kwargs).execute(make_context())


def test_json_arguments_and_result(civis_conn):
    @task.civis(deferrable=False, poll_interval=0.2)
    def add(a, b, *, scale=1):
        print("adding", a, "and", b)
        return {"sum": (a + b) * scale, "items": [a, b]}

    assert run(add, 2, 3, scale=10) == {"sum": 50, "items": [2, 3]}


def test_script_is_hidden_and_named_after_the_task(civis_conn):
    @task.civis(deferrable=False, poll_interval=0.2)
    def answer():
        return 42

    ctx = make_context()
    assert operator_of(answer).execute(ctx) == 42
    script = CivisHook().call("GET", f"/scripts/python3/{ctx['ti'].xcom['job_id']}")
    assert script["name"] == "civis_task_test.answer"
    assert script["hidden"] is True
    call = ast.parse(script["source"]).body[-1].body[0].value  # the script ends: main('<payload>')
    function_source = json.loads(ast.literal_eval(call.args[0]))["function_source"]
    assert function_source.startswith("def answer():")  # the decorator removed


def test_large_result_comes_back_through_a_civis_file(civis_conn):
    @task.civis(deferrable=False, poll_interval=0.2)
    def big(n):
        return ["x" * 1000 for _ in range(n)]

    ctx = make_context()
    result = operator_of(big, 1500).execute(ctx)  # ~1.5 MB of JSON: over the JSON value limit
    assert len(result) == 1500 and result[0] == "x" * 1000
    ref = RunRef(kind="python3", job_id=ctx["ti"].xcom["job_id"], run_id=ctx["ti"].xcom["run_id"])
    assert [o["objectType"] for o in CivisHook().list_run_outputs(ref)] == ["File"]


def test_cloudpickle_arguments_and_result(civis_conn):
    pytest.importorskip("cloudpickle")

    @task.civis(serializer="cloudpickle", deferrable=False, poll_interval=0.2)
    def stats(values, when):
        import datetime as dt

        return {"total": sum(values), "when": when + dt.timedelta(days=1), "kind": frozenset(values)}

    result = run(stats, {1, 2, 3}, datetime(2026, 1, 1))
    assert result == {"total": 6, "when": datetime(2026, 1, 2), "kind": frozenset({1, 2, 3})}


def test_exception_fails_the_task_with_the_remote_traceback(civis_conn):
    @task.civis(deferrable=False, poll_interval=0.2, late_log_wait=5)
    def divide(a, b):
        ratio = a / b
        return ratio

    with pytest.raises(CivisRunError) as info:
        run(divide, 1, 0)
    message = str(info.value)
    assert "ZeroDivisionError: division by zero" in message
    assert "ratio = a / b" in message  # the function's own line, in the remote traceback


def test_unserialisable_result_is_a_clear_task_error(civis_conn):
    @task.civis(deferrable=False, poll_interval=0.2, late_log_wait=5)
    def opener():
        return object()

    with pytest.raises(CivisRunError) as info:
        run(opener)
    message = str(info.value)
    assert "builtins.object, which is not JSON" in message
    assert "serializer='cloudpickle'" in message


def test_requirements_already_installed_are_not_installed_again(civis_conn):
    @task.civis(requirements=["pyyaml>=5"], deferrable=False, poll_interval=0.2)
    def parse(text):
        import yaml

        return yaml.safe_load(text)

    op = operator_of(parse, "a: 1\nb: [x, y]\n")
    assert op.execute(make_context()) == {"a": 1, "b": ["x", "y"]}


def test_image_runs_the_function_as_a_container_script_with_resources(civis_conn):
    @task.civis(image="civisanalytics/datascience-python:8.0.0", cpu=500, memory=2048, disk_space=2.5,
                deferrable=False, poll_interval=0.2)
    def where(greeting):
        import os

        return {"greeting": greeting.upper(), "job": os.environ["CIVIS_JOB_ID"]}

    ctx = make_context()
    result = operator_of(where, "hello").execute(ctx)
    job_id = ctx["ti"].xcom["job_id"]
    assert result == {"greeting": "HELLO", "job": str(job_id)}
    script = CivisHook().call("GET", f"/scripts/containers/{job_id}")
    assert (script["dockerImageName"], script["dockerImageTag"]) == ("civisanalytics/datascience-python", "8.0.0")
    assert script["requiredResources"] == {"cpu": 500, "memory": 2048, "diskSpace": 2.5}
    assert script["hidden"] is True and script["name"] == "civis_task_test.where"


def test_deferred_task_returns_the_result_after_the_trigger_fires(civis_conn):
    @task.civis(deferrable=True, poll_interval=0.2)
    def slow_square(x):
        import time

        time.sleep(0.5)
        return x * x

    op, ctx = operator_of(slow_square, 12), make_context()
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(ctx)
    assert "job_id" in ctx["ti"].xcom  # pushed before waiting
    event = first_event(deferred.value.trigger)
    assert op.execute_complete(ctx, event.payload) == 144


def test_arguments_from_xcom_that_are_not_json_fail_before_anything_is_created(civis_conn):
    @task.civis(deferrable=False)
    def echo(value):
        return value

    op = operator_of(echo, "placeholder")
    op.op_args = [{1, 2}]  # as if an XCom had resolved to a set
    since = CivisHook().call("GET", "/_emulator/requests")["next"]
    with pytest.raises(ValueError, match=r"positional argument 0 is a builtins.set.*serializer='cloudpickle'"):
        op.execute(make_context())
    sent = CivisHook().call("GET", "/_emulator/requests", params={"since": since})["requests"]
    assert [r for r in sent if r["method"] == "POST"] == []


def test_result_post_is_retried_after_a_503_from_the_api(civis_conn):
    @task.civis(deferrable=False, poll_interval=0.2)
    def answer():
        return "retried"

    hook = CivisHook()
    # Seed 1 draws 0.13, 0.85, 0.76: the script's first POST gets a 503 (Retry-After 1), the next two pass.
    hook.call("POST", "/_emulator/faults", json={"seed": 1, "rules": [
        {"route": "*", "methods": ["POST"], "user_agent": "Python-urllib/*", "status": 503, "retry_after": 1,
         "rate": 0.5},
    ]})
    try:
        assert run(answer) == "retried"
        assert hook.call("GET", "/_emulator/faults")["injected"] == {"status_503": 1}
    finally:
        hook.call("DELETE", "/_emulator/faults")


def test_a_function_returning_none_returns_none(civis_conn):
    @task.civis(deferrable=False, poll_interval=0.2)
    def side_effect_only():
        print("did something")

    ctx = make_context()
    assert operator_of(side_effect_only).execute(ctx) is None
    ref = RunRef(kind="python3", job_id=ctx["ti"].xcom["job_id"], run_id=ctx["ti"].xcom["run_id"])
    assert [(o["objectType"], o["name"]) for o in CivisHook().list_run_outputs(ref)] == [("JSONValue", "return_value")]
