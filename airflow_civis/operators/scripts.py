"""Run a Civis script: an existing one (optionally with new arguments) or one created inline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_civis.operators.base import CivisRunOperatorBase
from airflow_civis.runs import SCRIPT_KINDS, RunRef
from airflow_civis.validation import check_bool, check_choice, check_int_id

#: Fields the API requires to create each kind of script (besides ``name``, which defaults to dag.task).
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "python3": ("source",),
    "r": ("source",),
    "javascript": ("source", "remoteHostId", "credentialId"),
    "sql": ("sql", "remoteHostId", "credentialId"),
    "containers": ("dockerCommand",),
    "custom": ("fromTemplateId",),
}
#: The platform's defaults for a container script (``@task.civis`` uses the same).
DEFAULT_CONTAINER_IMAGE = "civisanalytics/datascience-python"
DEFAULT_CONTAINER_RESOURCES: dict[str, int | float] = {"cpu": 1000, "memory": 1024, "diskSpace": 1.0}
CONTAINER_DEFAULTS: dict[str, Any] = {
    "dockerImageName": DEFAULT_CONTAINER_IMAGE,
    "requiredResources": DEFAULT_CONTAINER_RESOURCES,
}


class CivisRunScriptOperator(CivisRunOperatorBase):
    """
    Run a Civis script and wait for it.

    Either ``script_id`` (an existing script; ``arguments`` replace its arguments before the run) or
    ``script`` (the API's fields for a new script, e.g. ``{"source": "print(1)"}``, created then run;
    a new script every run, created hidden unless ``hidden=False``).

    :param script_type: one of containers, python3, r, sql, javascript, custom.
    :param script_id: an existing script's id (templated).
    :param script: fields of a script to create, in the API's names (``source``, ``dockerCommand``,
        ``params``, ``arguments``, ``fromTemplateId`` ...). ``name`` defaults to ``<dag_id>.<task_id>``.
    :param arguments: argument values for the run (templated), by param name.
    :param hidden: create the inline script hidden (default True), as civis-python's io helpers create theirs: it
        stays out of the user's job and script lists (its runs and the "Civis Run" link work as before).
        False keeps it visible. See docs/job-clutter.md.
    """

    template_fields: Sequence[str] = (*CivisRunOperatorBase.template_fields, "script_id", "script", "arguments")
    template_fields_renderers = {"script": "json", "arguments": "json"}

    def __init__(
        self,
        *,
        script_type: str = "python3",
        script_id: int | str | None = None,
        script: dict[str, Any] | None = None,
        arguments: dict[str, Any] | None = None,
        hidden: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.script_type = check_choice("script_type", script_type, SCRIPT_KINDS, self.task_id)
        if (script_id is None) == (script is None):
            raise ValueError(
                f"Task {self.task_id!r}: give exactly one of script_id (run an existing script) or script "
                "(fields of a new script to create and run)."
            )
        self.script_id = None if script_id is None else check_int_id("script_id", script_id, self.task_id)
        if script is not None:
            script = self._check_script(script)
        self.script = script
        if arguments is not None and not isinstance(arguments, dict):
            raise ValueError(f"Task {self.task_id!r}: arguments must be a mapping of param name to value")
        self.arguments = arguments
        self.hidden = check_bool("hidden", hidden, self.task_id)

    def _check_script(self, script: Any) -> dict[str, Any]:
        if not isinstance(script, dict):
            raise ValueError(f"Task {self.task_id!r}: script must be a mapping of API fields, got {script!r}")
        missing = [name for name in REQUIRED_FIELDS[self.script_type] if name not in script]
        if missing:
            raise ValueError(
                f"Task {self.task_id!r}: a new {self.script_type} script needs {', '.join(missing)} in script="
            )
        return script

    def _create(self, context: Any) -> int:
        body = dict(self.script or {})
        body.setdefault("name", f"{self.dag_id}.{self.task_id}")
        body.setdefault("hidden", self.hidden)  # one new script per run: keep them out of the user's lists
        if self.script_type == "containers":
            for key, value in CONTAINER_DEFAULTS.items():
                body.setdefault(key, value)
        if self.arguments is not None:
            body["arguments"] = {**body.get("arguments", {}), **self.arguments}
        created = self.hook.call("POST", f"/scripts/{self.script_type}", json=body)
        self.log.info("Created %s script %s (%s)", self.script_type, created["id"], body["name"])
        return int(created["id"])

    def start_run(self, context: Any) -> RunRef:
        if self.script is not None:
            script_id = self._create(context)
        else:
            script_id = int(check_int_id("script_id", self.script_id, self.task_id))
            if self.arguments is not None:
                self.hook.call(
                    "PATCH", f"/scripts/{self.script_type}/{script_id}", json={"arguments": self.arguments}
                )
        return self.hook.start_run(self.script_type, script_id)
