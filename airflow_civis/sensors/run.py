"""Wait for a Civis run that something else started (another DAG, a schedule on the platform)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow.sdk import BaseSensorOperator

from airflow_civis.deferral import DEFAULT_POLL_INTERVAL, resolve_deferrable
from airflow_civis.exceptions import CivisRunError, CivisRunTimeoutError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.runs import ACTIVE_STATES, SUCCESS_STATES, RunRef, validate_kind
from airflow_civis.triggers.run import CivisRunTrigger, validate_run_event
from airflow_civis.validation import check_int_id, check_positive_number


class CivisRunSensor(BaseSensorOperator):
    """
    Succeed when a Civis run succeeds; fail when it fails or is cancelled.

    :param job_id: the job (templated).
    :param run_id: the run; None watches the job's latest run (templated).
    :param kind: ``job`` or a specific kind (``python3``...).
    :param deferrable: wait in the triggerer (default True).
    """

    template_fields: Sequence[str] = ("civis_conn_id", "job_id", "run_id")

    def __init__(
        self,
        *,
        job_id: int | str,
        run_id: int | str | None = None,
        kind: str = "job",
        civis_conn_id: str = CivisHook.default_conn_name,
        deferrable: bool | None = None,
        poke_interval: float = DEFAULT_POLL_INTERVAL,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=check_positive_number("poke_interval", poke_interval, kwargs.get("task_id")),
                         **kwargs)
        self.job_id = check_int_id("job_id", job_id, self.task_id)
        self.run_id = None if run_id is None else check_int_id("run_id", run_id, self.task_id)
        try:
            self.kind = validate_kind(kind)
        except ValueError as err:
            raise ValueError(f"Task {self.task_id!r}: kind: {err}") from None
        self.civis_conn_id = civis_conn_id
        self.deferrable = resolve_deferrable(deferrable, self.task_id)

    @cached_property
    def hook(self) -> CivisHook:
        return CivisHook(self.civis_conn_id)

    def _run_ref(self) -> RunRef:
        job_id = int(check_int_id("job_id", self.job_id, self.task_id))
        if self.run_id is not None:
            return RunRef(self.kind, job_id, int(check_int_id("run_id", self.run_id, self.task_id)))
        last = (self.hook.get_job(job_id) or {}).get("lastRun") or {}
        if not last.get("id"):
            raise CivisRunError(
                f"Job {job_id} has no runs to wait for; start it first or give run_id.",
                state="none", job_id=job_id, run_id=0, log_tail=[],
            )
        return RunRef(self.kind, job_id, int(last["id"]))

    def _check(self, ref: RunRef, state: str | None, error: str | None) -> bool:
        if state in ACTIVE_STATES:
            return False
        if state in SUCCESS_STATES:
            return True
        raise CivisRunError(f"Civis {ref} {state}: {error}", state=str(state), job_id=ref.job_id,
                            run_id=ref.run_id, log_tail=[])

    def poke(self, context: Any) -> bool:
        ref = self._run_ref()
        run = self.hook.get_run(ref)
        return self._check(ref, run.get("state"), run.get("error"))

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        ref = self._run_ref()
        run = self.hook.get_run(ref)
        if self._check(ref, run.get("state"), run.get("error")):
            return ref.to_dict()
        deadline = None if not self.timeout else (context["ti"].start_date.timestamp() + float(self.timeout))
        self.defer(
            trigger=CivisRunTrigger(
                run=ref.to_dict(), civis_conn_id=self.civis_conn_id, poll_interval=self.poke_interval,
                deadline=deadline, cancel_on_kill=False,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> Any:
        ref, status, event = validate_run_event(event)
        if status == "timeout":
            raise CivisRunTimeoutError(f"Sensor timed out waiting for {ref}")
        self._check(ref, status, event.get("error"))
        return ref.to_dict()
