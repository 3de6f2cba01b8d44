"""``@task.civis``: a Python function that runs on Civis Platform, its return value the task's XCom.

Built as ``@task.docker`` is (a ``DecoratedOperator`` over the platform's operator), over the one run lifecycle
(:class:`~airflow_civis.operators.base.CivisRunOperatorBase`): deferrable, reattach, cancel on kill and timeouts
come from there. Each try creates one hidden python3 script (a container script when ``image`` is given) named
``<dag_id>.<task_id>``, whose source carries the function and its arguments (see ``script.py``, ``remote.py``).
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Sequence
from typing import Any

from airflow.sdk.bases.decorator import DecoratedOperator, TaskDecorator, task_decorator_factory

from airflow_civis.decorators import script as scripts
from airflow_civis.decorators.remote import RESULT_NAME, requirement_name
from airflow_civis.exceptions import CivisRunError
from airflow_civis.hooks.files import CivisFileTransfer
from airflow_civis.job_resources import JobResourcesMixin
from airflow_civis.operators.base import CivisRunOperatorBase
from airflow_civis.operators.scripts import DEFAULT_CONTAINER_IMAGE, DEFAULT_CONTAINER_RESOURCES
from airflow_civis.runs import RunRef
from airflow_civis.validation import check_bool, check_choice

RESULT_FILES = {f"{RESULT_NAME}.json": "json", f"{RESULT_NAME}.pickle": "cloudpickle"}


def _split_image(image: str) -> tuple[str, str | None]:
    """``name[:tag]`` (a registry port is not a tag: ``host:5000/name``)."""
    name, sep, tag = image.rpartition(":")
    return (name, tag) if sep and "/" not in tag else (image, None)


def _placeholder(value: Any) -> None:
    """At parse time an XComArg (or other value resolved at run time) stands for JSON it will become."""
    if hasattr(value, "iter_references"):
        return None
    raise TypeError(type(value).__name__)


class CivisDecoratedOperator(DecoratedOperator, JobResourcesMixin, CivisRunOperatorBase):
    """
    Runs the decorated function on Civis and returns what it returns.

    :param serializer: ``"json"`` (default) or ``"cloudpickle"``: how arguments and the return value travel.
        JSON results up to 1 MiB come back as a JSON value run output, larger or pickled ones as a Civis file.
    :param requirements: pip requirements installed (into a per-run directory, only those not already
        installed) before the call.
    :param image: run as a container script on this Docker image (``name[:tag]``, with python3 and civis-python
        installed); default: a Civis python3 script.
    :param cpu: / ``memory`` / ``disk_space``: the script's ``requiredResources``, as for every operator that
        sizes its job (:class:`~airflow_civis.job_resources.JobResourcesMixin`).
    :param hidden: create the script hidden (default True), as every job this provider creates.
    Every parameter of :class:`~airflow_civis.operators.base.CivisRunOperatorBase` (``deferrable``,
    ``timeout``, ``civis_conn_id`` ...) applies.
    """

    custom_operator_name = "@task.civis"
    template_fields: Sequence[str] = (*DecoratedOperator.template_fields, *CivisRunOperatorBase.template_fields)
    template_fields_renderers = {"op_args": "py", "op_kwargs": "py"}

    def __init__(
        self,
        *,
        serializer: str = "json",
        requirements: list[str] | None = None,
        image: str | None = None,
        hidden: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.serializer = check_choice("serializer", serializer, scripts.SERIALIZERS, self.task_id)
        if self.serializer == "cloudpickle" and not scripts.cloudpickle_available():
            raise ValueError(f"Task {self.task_id!r}: serializer='cloudpickle' needs the cloudpickle package: "
                             "pip install cloudpickle, or use serializer='json'.")
        self.requirements = self._check_requirements(requirements)
        if image is not None and (not isinstance(image, str) or not image.strip()):
            raise ValueError(f"Task {self.task_id!r}: image must be a Docker image name such as "
                             f"'{DEFAULT_CONTAINER_IMAGE}:8.0.0', got {image!r}")
        self.image = image
        self.hidden = check_bool("hidden", hidden, self.task_id)
        if self.serializer == "json":
            self._check_json_literals()

    @property
    def script_kind(self) -> str:
        return "containers" if self.image else "python3"

    def _check_requirements(self, requirements: Any) -> list[str]:
        if requirements is None:
            return []
        if isinstance(requirements, str) or not all(isinstance(req, str) for req in requirements):
            raise ValueError(f"Task {self.task_id!r}: requirements must be a list of pip requirement strings, "
                             f"e.g. ['pyyaml>=6'], got {requirements!r}")
        for req in requirements:
            try:
                requirement_name(req)
            except ValueError as err:
                raise ValueError(f"Task {self.task_id!r}: requirements: {err}") from None
        return list(requirements)

    def _check_json_literals(self) -> None:
        """Arguments known at parse time must be JSON already (XCom values are checked when they arrive)."""
        named = [(f"positional argument {i}", v) for i, v in enumerate(self.op_args)]
        named += [(f"argument {k!r}", v) for k, v in self.op_kwargs.items()]
        for where, value in named:
            try:
                json.dumps(value, default=_placeholder)
            except (TypeError, ValueError):
                raise scripts._not_json(value, where, self.task_id) from None

    # -- the script ----------------------------------------------------------------------------------------------
    def _resources(self) -> dict[str, Any] | None:
        if self.script_kind == "python3" and self.cpu is None and self.memory is None and self.disk_space is None:
            return None  # the platform's default for python3 scripts
        resources: dict[str, Any] = {"cpu": self.cpu or DEFAULT_CONTAINER_RESOURCES["cpu"],
                                     "memory": self.memory or DEFAULT_CONTAINER_RESOURCES["memory"]}
        if self.disk_space is not None:
            resources["diskSpace"] = self.disk_space
        return resources

    def script_body(self) -> dict[str, Any]:
        """The ``POST /scripts/<kind>`` body (arguments as they are once templated and XComs resolved)."""
        arguments = scripts.encode_arguments(self.serializer, list(self.op_args), dict(self.op_kwargs), self.task_id)
        source = scripts.build_source(
            function_name=self.python_callable.__name__, function_source=self.get_python_source(),
            arguments=arguments, serializer=self.serializer, requirements=self.requirements, kind=self.script_kind,
        )
        body: dict[str, Any] = {"name": f"{self.dag_id}.{self.task_id}", "hidden": self.hidden}
        if self.script_kind == "containers":
            name, tag = _split_image(str(self.image))
            body.update(dockerCommand=scripts.docker_command(source), dockerImageName=name)
            if tag:
                body["dockerImageTag"] = tag
        else:
            body["source"] = source
        resources = self._resources()
        if resources is not None:
            body["requiredResources"] = resources
        return body

    def start_run(self, context: Any) -> RunRef:
        created = self.hook.call("POST", f"/scripts/{self.script_kind}", json=self.script_body())
        self.log.info("Created %s script %s for %s()", self.script_kind, created["id"], self.python_callable.__name__)
        return self.hook.start_run(self.script_kind, int(created["id"]))

    # -- the result ----------------------------------------------------------------------------------------------
    def build_result(self, context: Any, run: RunRef, details: dict[str, Any], outputs: dict[str, Any]) -> Any:
        if RESULT_NAME in outputs:
            return outputs[RESULT_NAME]
        transfer = CivisFileTransfer(self.hook)
        for value in outputs.values():
            if not (isinstance(value, dict) and set(value) == {"file_id"}):
                continue
            info = transfer.file_info(value["file_id"])
            form = RESULT_FILES.get(str(info.get("name")))
            if form is None:
                continue
            data = b"".join(transfer.stream(value["file_id"], info))
            self.log.info("Read the %d-byte result from Civis file %s", len(data), value["file_id"])
            return json.loads(data) if form == "json" else pickle.loads(data)  # noqa: S301 (the run's own output)
        raise CivisRunError(
            f"Civis {run} succeeded but posted no {RESULT_NAME!r} output: the script did not reach the end of "
            f"{self.python_callable.__name__}() (did the function call sys.exit or os._exit?)",
            state="succeeded", job_id=run.job_id, run_id=run.run_id, log_tail=[],
        )


def civis_task(python_callable: Callable | None = None, multiple_outputs: bool | None = None,
               **kwargs: Any) -> TaskDecorator:
    """``@task.civis(...)``: run the decorated function on Civis Platform (see :class:`CivisDecoratedOperator`)."""
    return task_decorator_factory(
        python_callable=python_callable,
        multiple_outputs=multiple_outputs,
        decorated_operator_class=CivisDecoratedOperator,
        **kwargs,
    )
