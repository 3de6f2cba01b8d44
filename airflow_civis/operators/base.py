"""The one run lifecycle every Civis operator shares: start (or reattach), wait, complete.

A subclass says only how to start its run (:meth:`CivisRunOperatorBase.start_run`) and, if it likes,
how to turn the finished run into its XCom (:meth:`CivisRunOperatorBase.build_result`). Waiting
(deferred to :class:`CivisRunTrigger` by default, or polling in the worker), reattach after a crash,
cancel on kill, deadlines and the failure message live here; copying the run's log into the task log
lives in :mod:`._task_log`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import Any

import tenacity
from airflow.sdk import BaseOperator

from airflow_civis.deferral import DEFAULT_POLL_INTERVAL, resolve_deferrable
from airflow_civis.deferral import default_deferrable as default_deferrable  # importable from here too
from airflow_civis.exceptions import CivisAPIError, CivisRunError, CivisRunTimeoutError
from airflow_civis.hooks._retry import RetryPolicy, may_have_taken_effect, tenacity_arguments
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.links import RUN_URL_XCOM_KEY, CivisRunLink, run_page_url
from airflow_civis.operators._journal import STATE_STORE_KEY as STATE_STORE_KEY  # importable from here too
from airflow_civis.operators._journal import RunJournal
from airflow_civis.operators._outputs import outputs_by_name
from airflow_civis.operators._task_log import DEFAULT_LATE_LOG_WAIT, TaskLogCopy
from airflow_civis.operators._task_log import LATE_LOG_POLL_INTERVAL as LATE_LOG_POLL_INTERVAL
from airflow_civis.runs import ACTIVE_STATES, SUCCESS_STATES, RunRef
from airflow_civis.triggers.run import CivisRunTrigger, validate_run_event
from airflow_civis.validation import check_bool, check_count, check_positive_number


class CivisRunOperatorBase(BaseOperator, TaskLogCopy):
    """
    Base for operators that start one Civis run and wait for it.

    :param civis_conn_id: Airflow connection of type ``civis``.
    :param deferrable: wait in the triggerer (default True; ``[civis] default_deferrable`` changes it).
    :param poll_interval: seconds between status checks.
    :param timeout: seconds to wait for the run before cancelling it and failing; None waits as long as
        the task may run.
    :param cancel_on_kill: cancel the Civis run when the task is killed, times out or is marked failed.
    :param fetch_logs: copy the Civis run's log lines into the task log.
    :param log_tail_lines: how many last log lines a failure message carries.
    :param late_log_wait: at most how many seconds to wait, once a run has failed, for the log lines the
        platform publishes late (the traceback, as a rule) before building the failure message; the wait
        ends as soon as the API says the log is complete. 0 does not wait. Successful runs never wait.
    :param retry: API retry policy overrides (``{"max_attempts": 10, "max_total_seconds": 600}``).
    """

    template_fields: Sequence[str] = ("civis_conn_id",)
    operator_extra_links = (CivisRunLink(),)
    ui_color = "#5eb4e1"

    def __init__(
        self,
        *,
        civis_conn_id: str = CivisHook.default_conn_name,
        deferrable: bool | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | None = None,
        cancel_on_kill: bool = True,
        fetch_logs: bool = True,
        log_tail_lines: int = 20,
        late_log_wait: float = DEFAULT_LATE_LOG_WAIT,
        retry: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.civis_conn_id = civis_conn_id
        self.deferrable = resolve_deferrable(deferrable, self.task_id)
        self.poll_interval = check_positive_number("poll_interval", poll_interval, self.task_id)
        self.timeout = None if timeout is None else check_positive_number("timeout", timeout, self.task_id)
        self.cancel_on_kill = check_bool("cancel_on_kill", cancel_on_kill, self.task_id)
        self.fetch_logs = check_bool("fetch_logs", fetch_logs, self.task_id)
        self.log_tail_lines = check_count("log_tail_lines", log_tail_lines, self.task_id)
        self.late_log_wait = (0.0 if late_log_wait == 0 and not isinstance(late_log_wait, bool)
                              else check_positive_number("late_log_wait", late_log_wait, self.task_id))
        try:
            self.retry = RetryPolicy.from_value(retry).to_dict() if retry is not None else None
        except ValueError as err:
            raise ValueError(f"Task {self.task_id!r}: {err}") from None
        self._active_run: RunRef | None = None
        #: The run's page once a run exists; None while no run was started (the link is then empty).
        self.run_url: str | None = None
        #: What the task returned (its XCom) once its run succeeded: what its lineage reports.
        self.civis_result: Any = None
        self._logs = None  # the run's log follower (see TaskLogCopy), once a log was read

    @cached_property
    def hook(self) -> CivisHook:
        return CivisHook(self.civis_conn_id, retry=self.retry)

    # -- what a subclass provides ------------------------------------------------------------------
    def start_run(self, context: Any) -> RunRef:
        """Create the job if needed and start one run of it."""
        raise NotImplementedError

    def build_result(self, context: Any, run: RunRef, details: dict[str, Any], outputs: dict[str, Any]) -> Any:
        """The task's return value (XCom). Default: ids, state and outputs by name."""
        return {"job_id": run.job_id, "run_id": run.run_id, "state": details.get("state"), "outputs": outputs}

    # -- the lifecycle -------------------------------------------------------------------------------
    def execute(self, context: Any) -> Any:
        run, details = self._reattach(context) or self._start(context)
        self._active_run = run
        if details.get("state") not in ACTIVE_STATES:
            return self._complete(context, run, details)
        if self.deferrable:
            # Airflow does not apply execution_timeout to a deferred task: the trigger's deadline does.
            deadline = self._deadline(context, with_execution_timeout=True)
            self.defer(
                trigger=CivisRunTrigger(
                    run=run.to_dict(),
                    civis_conn_id=self.civis_conn_id,
                    poll_interval=self.poll_interval,
                    deadline=deadline,
                    cancel_on_kill=self.cancel_on_kill,
                ),
                method_name="execute_complete",
                # Airflow's own timeout only if no triggerer answers well after our deadline.
                timeout=None if deadline is None else timedelta(seconds=max(0.0, deadline - time.time()) + 120),
            )
        details = self._poll(context, run, self._deadline(context, with_execution_timeout=False))
        return self._complete(context, run, details)

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> Any:
        run, status, event = validate_run_event(event)
        self._active_run = run
        self.run_url = self.run_page(run)  # for the link, in this (resumed) process too
        if status == "timeout":
            self._cancel_for_timeout(context, run)
        return self._complete(context, run, self.hook.get_run(run))

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Any) -> Any:
        try:
            return super().resume_execution(next_method, next_kwargs, context)
        except Exception as err:
            # Airflow timed the deferral out itself (no triggerer answered): do not leave the run going.
            if type(err).__name__ == "TaskDeferralTimeout" and self.cancel_on_kill:
                saved = RunJournal(context).get()
                if saved and "run_id" in saved:
                    self.log.info("Deferral timed out: cancelling %s", RunRef.from_dict(saved))
                    self.hook.cancel_run(RunRef.from_dict(saved))
                    self._forget(context)
            raise

    def on_kill(self) -> None:
        if self._active_run is not None and self.cancel_on_kill:
            self.log.info("Task killed: cancelling %s", self._active_run)
            self.hook.cancel_run(self._active_run)

    # -- steps ---------------------------------------------------------------------------------------
    def _start(self, context: Any) -> tuple[RunRef, dict[str, Any]]:
        journal = RunJournal(context)
        attempted: list[bool] = []

        def note_start(kind: str, job_id: int, baseline: int | None) -> None:
            # Saved before the POST: a crash before the run id is saved is reconciled by the next try.
            attempted.append(True)
            journal.set({"kind": kind, "job_id": job_id, "baseline_run_id": baseline, "started_at": time.time()})

        def may_start_over(exc: BaseException) -> bool:
            # A create (script, import...) that may or may not have happened, before any run was started:
            # doing the whole start again costs at most an unused object, never a run.
            return (isinstance(exc, CivisAPIError) and not attempted and exc.method == "POST"
                    and not exc.path.rstrip("/").endswith("/runs") and may_have_taken_effect(exc))

        self.hook.start_journal = note_start
        try:
            # As many tries as the policy allows (like ``hook.create``): each costs at most an unused object.
            start_over = tenacity.Retrying(**tenacity_arguments(
                self.hook.settings.retry, self.log, retry_if=may_start_over,
                what="Civis run start (no run was started yet, so starting over)"))
            run = start_over(self.start_run, context)
        finally:
            self.hook.start_journal = None
        saved = journal.get() or {}
        journal.set({**run.to_dict(), "started_at": saved.get("started_at", time.time())})
        self.log.info("Started %s", run)
        self._publish(context, run)
        return run, self.hook.get_run(run)

    def _reattach(self, context: Any) -> tuple[RunRef, dict[str, Any]] | None:
        """A run an earlier try of this task started (and its worker lost) is picked up, not repeated."""
        journal = RunJournal(context)
        saved = journal.get()
        if not saved:
            return None
        if "run_id" in saved:
            run: RunRef | None = RunRef.from_dict(saved)
        else:  # the earlier try died while starting: did its POST land?
            run = self.hook.find_run_since(saved["kind"], saved["job_id"], saved.get("baseline_run_id"))
        if run is not None:
            details = self.hook.get_run(run)
            if details.get("state") in ACTIVE_STATES | SUCCESS_STATES:
                self.log.info("Reattaching to %s (%s) started by an earlier try", run, details.get("state"))
                if "run_id" not in saved:
                    journal.set({**run.to_dict(), "started_at": saved.get("started_at", time.time())})
                self._publish(context, run)
                return run, details
        journal.delete()
        return None

    def _started_at(self, context: Any) -> float:
        saved = RunJournal(context).get()
        return float(saved.get("started_at", time.time())) if saved else time.time()

    def _deadline(self, context: Any, *, with_execution_timeout: bool) -> float | None:
        """Absolute time to stop waiting: ``timeout`` after the start; for a deferred task also
        ``execution_timeout`` after the try began (in the worker Airflow enforces that one itself)."""
        deadlines = [] if self.timeout is None else [self._started_at(context) + self.timeout]
        if with_execution_timeout and self.execution_timeout:
            ti = context.get("ti")
            began: Any = getattr(ti, "start_date", None)
            began_at = began.timestamp() if began is not None and hasattr(began, "timestamp") else time.time()
            deadlines.append(began_at + self.execution_timeout.total_seconds())
        return min(deadlines) if deadlines else None

    def published_ids(self, run: RunRef) -> dict[str, int]:
        """The ids pushed to XCom (by key) as soon as the run exists."""
        return {"job_id": run.job_id, "run_id": run.run_id}

    def run_page(self, run: RunRef) -> str:
        """The page a person opens for this run: what the "Civis Run" link shows."""
        settings = self.hook.settings
        return run_page_url(settings.app_url, run.job_id, run.run_id, emulator=settings.is_emulator)

    def _publish(self, context: Any, run: RunRef) -> None:
        """Ids and URL go to XCom before any waiting, so the link works even if the run fails."""
        ti = context["ti"]
        for key, value in self.published_ids(run).items():
            ti.xcom_push(key=key, value=value)
        self.run_url = self.run_page(run)
        ti.xcom_push(key=RUN_URL_XCOM_KEY, value=self.run_url)

    def _poll(self, context: Any, run: RunRef, deadline: float | None) -> dict[str, Any]:
        while True:
            details = self.hook.get_run(run)
            self._copy_logs(run)
            if details.get("state") not in ACTIVE_STATES:
                return details
            now = time.time()
            if deadline is not None and now >= deadline:
                self._cancel_for_timeout(context, run)
            wait = self.poll_interval if deadline is None else min(self.poll_interval, deadline - now)
            time.sleep(max(0.0, wait))

    def _cancel_for_timeout(self, context: Any, run: RunRef) -> None:
        if self.cancel_on_kill:
            self.hook.cancel_run(run)
        self._forget(context)
        limits = [f"timeout={self.timeout}s"] if self.timeout is not None else []
        if self.execution_timeout:
            limits.append(f"execution_timeout={self.execution_timeout}")
        done = "it was cancelled" if self.cancel_on_kill else "it was left running (cancel_on_kill=False)"
        raise CivisRunTimeoutError(f"{run} did not finish within {' / '.join(limits) or 'its deadline'}; {done}.")

    def _forget(self, context: Any | None) -> None:
        RunJournal(context).delete()

    def _complete(self, context: Any, run: RunRef, details: dict[str, Any]) -> Any:
        state = details.get("state")
        if state == "failed" and self.late_log_wait > 0:
            self._wait_for_late_lines(run)
        self._copy_logs(run, whole=True)
        self._forget(context)
        if state not in SUCCESS_STATES:
            tail = self._log_tail(run)
            error = details.get("error") or f"run ended in state {state!r}"
            shown = "\n".join(f"    {line}" for line in tail) or "    (no log lines)"
            raise CivisRunError(
                f"Civis {run} {state}: {error}\nLast {len(tail)} log lines:\n{shown}",
                state=str(state),
                job_id=run.job_id,
                run_id=run.run_id,
                log_tail=tail,
            )
        self._active_run = None
        outputs = self._read_outputs(run)
        result = self.build_result(context, run, details, outputs)
        self.civis_result = result
        return result

    def _read_outputs(self, run: RunRef) -> dict[str, Any]:
        """The run's outputs by name (see :func:`~airflow_civis.operators._outputs.outputs_by_name`)."""
        return outputs_by_name(self.hook, run)
