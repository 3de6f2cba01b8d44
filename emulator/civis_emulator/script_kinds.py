"""The script kinds of ``/scripts/<kind>``: display type, platform job type, and the run's id field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScriptKind:
    path: str          # URL segment: /scripts/<path>
    display: str       # "type" in /scripts responses
    job_type: str      # "type" in /jobs responses, and the runner registry key
    run_id_field: str  # e.g. "pythonId" in /scripts/python3/{id}/runs/{run_id}
    code_field: str | None  # where the code lives


KINDS: dict[str, ScriptKind] = {
    k.path: k
    for k in (
        ScriptKind("containers", "Container", "JobTypes::ContainerDocker", "containerId", "dockerCommand"),
        ScriptKind("python3", "Python", "JobTypes::PythonDocker", "pythonId", "source"),
        ScriptKind("r", "R", "JobTypes::RDocker", "rId", "source"),
        ScriptKind("sql", "SQL", "JobTypes::SqlRunner", "sqlId", "sql"),
        ScriptKind("javascript", "JavaScript", "JobTypes::JavaScript", "javascriptId", "source"),
        ScriptKind("custom", "Custom", "JobTypes::CustomScript", "customId", None),
    )
}
BY_JOB_TYPE = {k.job_type: k for k in KINDS.values()}


def kind_of(job: dict) -> ScriptKind | None:
    return BY_JOB_TYPE.get(job.get("type", ""))
