"""``@task.civis`` one part at a time: registration with Airflow, parse-time errors, the generated script and
the remote side's requirement install (the command, never run against PyPI here)."""

from __future__ import annotations

import ast
import subprocess
import sys
from datetime import datetime

import pytest
from airflow.sdk import DAG, task

from airflow_civis.decorators import remote
from airflow_civis.decorators import script as scripts
from airflow_civis.decorators.civis import CivisDecoratedOperator, civis_task


def make(fn, *args, **options):
    with DAG(dag_id="parts", schedule=None, start_date=datetime(2026, 1, 1)):
        return task.civis(**options)(fn)(*args).operator


def double(x):
    return 2 * x


def test_task_civis_is_found_through_the_provider_info():
    # airflow.sdk's `task` looks provider decorators up in ProvidersManagerTaskRuntime: the real discovery.
    assert task.civis is civis_task
    assert isinstance(make(double, 1), CivisDecoratedOperator)


@pytest.mark.parametrize(("options", "args", "expected"), [
    ({"serializer": "yaml"}, (1,), "serializer"),
    ({"requirements": "pyyaml"}, (1,), "requirements must be a list"),
    ({"requirements": ["==1.0"]}, (1,), "not a pip requirement"),
    ({"image": ""}, (1,), "image must be a Docker image name"),
    ({"cpu": -1}, (1,), "cpu"),
    ({}, ({1, 2},), "positional argument 0 is a builtins.set, which cannot travel to Civis as JSON"),
])
def test_bad_options_fail_at_parse_time_naming_the_field(options, args, expected):
    with pytest.raises(ValueError, match="Task 'double'") as info:
        make(double, *args, **options)
    assert expected in str(info.value)


def test_cloudpickle_missing_is_a_parse_time_error(monkeypatch):
    monkeypatch.setattr(scripts, "cloudpickle_available", lambda: False)
    with pytest.raises(ValueError, match="serializer='cloudpickle' needs the cloudpickle package"):
        make(double, 1, serializer="cloudpickle")


def test_xcom_arguments_pass_the_parse_time_json_check():
    with DAG(dag_id="parts_xcom", schedule=None, start_date=datetime(2026, 1, 1)):
        upstream = task.civis(double)(1)
        op = task.civis(double)(upstream).operator
    assert op.upstream_task_ids == {"double"}


def test_script_body_for_a_container_and_python3():
    op = make(double, 4, image="registry.example:5000/team/image", memory=4096)
    body = op.script_body()
    assert body["dockerImageName"] == "registry.example:5000/team/image" and "dockerImageTag" not in body
    assert body["requiredResources"] == {"cpu": 1000, "memory": 4096}
    assert body["hidden"] is True and body["name"] == "parts.double"
    plain = make(double, 4).script_body()
    assert "requiredResources" not in plain and "source" in plain


def test_the_docker_command_runs_the_source_unexpanded(tmp_path):
    source = 'import sys\nprint("$HOME `x` \\\\ CIVIS_TASK_EOF", sys.argv)\n'
    command = scripts.docker_command(source, python=sys.executable)
    out = subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=True).stdout
    assert out == "$HOME `x` \\ CIVIS_TASK_EOF ['-']\n"


def test_generated_script_calls_the_function_with_its_arguments(tmp_path, monkeypatch):
    posted = []
    source = scripts.build_source(
        function_name="double", function_source="def double(x):\n    return 2 * x\n",
        arguments=scripts.encode_arguments("json", [21], {}, "t"), serializer="json", requirements=[], kind="python3",
    )
    namespace = {"__name__": "generated"}
    exec(compile(source, "generated.py", "exec"), namespace)
    namespace["post_result"] = lambda serializer, data, kind: posted.append((serializer, data, kind))
    call = ast.parse(source).body[-1].body[0].value  # the script ends: main('<payload>')
    namespace["main"](ast.literal_eval(call.args[0]))
    assert posted == [("json", b"42", "python3")]


def test_install_command_targets_a_per_run_directory():
    assert remote.install_command(["left-pad==1.0"], "/tmp/reqs") == [
        sys.executable, "-m", "pip", "install", "--no-input", "--disable-pip-version-check",
        "--target", "/tmp/reqs", "left-pad==1.0",
    ]


def test_only_missing_requirements_are_installed(monkeypatch):
    calls = []
    monkeypatch.setattr(remote.subprocess, "run", lambda argv, check: calls.append(argv))
    monkeypatch.setattr(sys, "path", list(sys.path))
    remote.install_requirements(["pyyaml>=5", "pyyaml>=9999", "surely-not-installed-h9"])
    assert len(calls) == 1
    assert calls[0][-2:] == ["pyyaml>=9999", "surely-not-installed-h9"]
    assert sys.path[0] == calls[0][calls[0].index("--target") + 1]
    calls.clear()
    remote.install_requirements(["pyyaml"])
    assert calls == []


def test_results_that_cannot_travel_name_the_type_and_the_fix():
    with pytest.raises(TypeError, match=r"returned a builtins.set, which is not JSON.*serializer='cloudpickle'"):
        remote.encode_result("json", {1})
    assert remote.encode_result("json", {"a": [1]}) == b'{"a": [1]}'


def test_mapped_tasks_parse_and_unmap_to_the_civis_operator():
    with DAG(dag_id="parts_mapped", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        task.civis(double).expand(x=[1, 2, 3])
    mapped = dag.get_task("double")
    assert mapped.operator_class is CivisDecoratedOperator
