"""Wait for a Civis workflow execution that something else started (a schedule, another DAG, a person)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow_civis.deferral import DEFAULT_POLL_INTERVAL
from airflow_civis.exceptions import CivisRunError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.hooks.workflows import CivisWorkflowHook
from airflow_civis.runs import RunRef
from airflow_civis.sensors.run import CivisRunSensor
from airflow_civis.validation import check_int_id


class CivisWorkflowExecutionSensor(CivisRunSensor):
    """
    Succeed when a workflow execution succeeds; fail when it fails or is cancelled.

    Waits like :class:`CivisRunSensor` (deferred by default, to the same trigger), for the execution
    ``RunRef("workflow", workflow_id, execution_id)``.

    :param workflow_id: the workflow (templated).
    :param execution_id: the execution; None watches the workflow's latest execution (templated).
    :param deferrable: wait in the triggerer (default True).
    """

    template_fields: Sequence[str] = ("civis_conn_id", "workflow_id", "execution_id")

    def __init__(
        self,
        *,
        workflow_id: int | str,
        execution_id: int | str | None = None,
        civis_conn_id: str = CivisHook.default_conn_name,
        deferrable: bool | None = None,
        poke_interval: float = DEFAULT_POLL_INTERVAL,
        **kwargs: Any,
    ) -> None:
        super().__init__(job_id=workflow_id, run_id=execution_id, civis_conn_id=civis_conn_id,
                         deferrable=deferrable, poke_interval=poke_interval, **kwargs)
        self.workflow_id = self.job_id
        self.execution_id = self.run_id

    @cached_property
    def hook(self) -> CivisWorkflowHook:
        return CivisWorkflowHook(self.civis_conn_id)

    def _run_ref(self) -> RunRef:
        workflow_id = int(check_int_id("workflow_id", self.workflow_id, self.task_id))
        if self.execution_id is not None:
            return RunRef("workflow", workflow_id, int(check_int_id("execution_id", self.execution_id, self.task_id)))
        latest = self.hook.last_execution_id(workflow_id)
        if latest is None:
            raise CivisRunError(
                f"Workflow {workflow_id} has no executions to wait for; start it first or give execution_id.",
                state="none", job_id=workflow_id, run_id=0, log_tail=[],
            )
        return RunRef("workflow", workflow_id, latest)
