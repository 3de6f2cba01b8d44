"""Wait for a Civis workflow execution that something else started (a schedule, another DAG, a person)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow_civis.hooks.workflows import KIND, CivisWorkflowHook
from airflow_civis.sensors.base import CivisRunSensorBase
from airflow_civis.validation import check_int_id


class CivisWorkflowExecutionSensor(CivisRunSensorBase):
    """
    Succeed when a workflow execution succeeds; fail when it fails or is cancelled.

    Waits like :class:`~airflow_civis.sensors.run.CivisRunSensor` (deferred by default, to the same trigger),
    for the execution ``RunRef("workflow", workflow_id, execution_id)``.

    :param workflow_id: the workflow (templated).
    :param execution_id: the execution; None watches the workflow's latest execution (templated).
    :param deferrable: wait in the triggerer (default True).
    """

    template_fields: Sequence[str] = ("civis_conn_id", "workflow_id", "execution_id")
    id_fields = ("workflow_id", "execution_id")
    nouns = ("Workflow", "executions")
    kind = KIND

    def __init__(self, *, workflow_id: int | str, execution_id: int | str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.workflow_id = check_int_id("workflow_id", workflow_id, self.task_id)
        self.execution_id = None if execution_id is None else check_int_id("execution_id", execution_id, self.task_id)

    @cached_property
    def hook(self) -> CivisWorkflowHook:
        return CivisWorkflowHook(self.civis_conn_id)

    def latest_run_id(self, job_id: int) -> int | None:
        return self.hook.last_execution_id(job_id)
