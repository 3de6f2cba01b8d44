"""What every run-waiting sensor shares: the connection, deferral and poke interval, finding the run (a given
one or the latest), and one completion check for poking, deferring and the trigger's event.

A sensor says only where its ids are (:attr:`~CivisRunSensorBase.id_fields`), what kind of run it watches,
how to find the job's latest run and what to call them in an error; the rest is written here once.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, ClassVar

from airflow.sdk import BaseSensorOperator

from airflow_civis.deferral import DEFAULT_POLL_INTERVAL, resolve_deferrable
from airflow_civis.exceptions import CivisRunError, CivisRunTimeoutError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.runs import ACTIVE_STATES, SUCCESS_STATES, RunRef
from airflow_civis.triggers.run import CivisRunTrigger, validate_run_event
from airflow_civis.validation import check_int_id, check_positive_number


class CivisRunSensorBase(BaseSensorOperator):
    """
    Succeed when the watched run succeeds; fail when it fails or is cancelled.

    :param civis_conn_id: the Civis connection (templated).
    :param deferrable: wait in the triggerer (default True), with the same trigger the operators use.
    :param poke_interval: seconds between polls, in the worker or in the triggerer.
    """

    #: The attributes (and template fields) holding the job's id and its run's id (None: the latest run);
    #: errors name them, so they are the names a DAG author wrote.
    id_fields: ClassVar[tuple[str, str]]
    #: What an error calls the job and its runs: ``("Job", "runs")``.
    nouns: ClassVar[tuple[str, str]]
    #: The :class:`RunRef` kind of the watched runs.
    kind: str

    def latest_run_id(self, job_id: int) -> int | None:
        """The job's newest run, None if it has none."""
        raise NotImplementedError

    def __init__(
        self,
        *,
        civis_conn_id: str = CivisHook.default_conn_name,
        deferrable: bool | None = None,
        poke_interval: float = DEFAULT_POLL_INTERVAL,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=check_positive_number("poke_interval", poke_interval, kwargs.get("task_id")),
                         **kwargs)
        self.civis_conn_id = civis_conn_id
        self.deferrable = resolve_deferrable(deferrable, self.task_id)

    @cached_property
    def hook(self) -> CivisHook:
        return CivisHook(self.civis_conn_id)

    def _run_ref(self) -> RunRef:
        job_field, run_field = self.id_fields
        job_id = int(check_int_id(job_field, getattr(self, job_field), self.task_id))
        run_id = getattr(self, run_field)
        if run_id is not None:
            return RunRef(self.kind, job_id, int(check_int_id(run_field, run_id, self.task_id)))
        latest = self.latest_run_id(job_id)
        if latest is None:
            job, runs = self.nouns
            raise CivisRunError(
                f"{job} {job_id} has no {runs} to wait for; start it first or give {run_field}.",
                state="none", job_id=job_id, run_id=0, log_tail=[],
            )
        return RunRef(self.kind, job_id, latest)

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
