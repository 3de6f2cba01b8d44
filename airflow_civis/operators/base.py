"""The one run lifecycle every Civis operator shares: start (or reattach), wait, complete.

A subclass says only how to start its run (:meth:`CivisRunOperatorBase.start_run`) and, if it likes,
how to turn the finished run into its XCom (:meth:`CivisRunOperatorBase.build_result`). Waiting
(deferred to :class:`CivisRunTrigger` by default, or polling in the worker), reattach after a crash,
log copying, cancel on kill, deadlines and the failure message live here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow.sdk import BaseOperator, conf

from airflow_civis.exceptions import CivisRunError, CivisRunTimeoutError
from airflow_civis.hooks._retry import RetryPolicy
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.links import RUN_URL_XCOM_KEY, CivisRunLink, run_page_url
from airflow_civis.runs import ACTIVE_STATES, RunRef
from airflow_civis.triggers.run import CivisRunTrigger, validate_run_event
from airflow_civis.validation import check_positive_number

STATE_STORE_KEY = "civis_run"
DEFAULT_POLL_INTERVAL = 10.0


def default_deferrable() -> bool:
    return conf.getboolean("operators", "default_deferrable", fallback=True)


class CivisRunOperatorBase(BaseOperator):
    """
    Base for operators that start one Civis run and wait for it.

    :param civis_conn_id: Airflow connection of type ``civis``.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``, else True).
    :param poll_interval: seconds between status checks.
    :param timeout: seconds to wait for the run before cancelling it and failing; None waits as long as
        the task may run.
    :param cancel_on_kill: cancel the Civis run when the task is killed, times out or is marked failed.
    :param fetch_logs: copy the Civis run's log lines into the task log.
    :param log_tail_lines: how many last log lines a failure message carries.
    :param retry: API retry policy overrides (``{"max_attempts": 6, "max_total_seconds": 120}``).
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
        retry: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.civis_conn_id = civis_conn_id
        self.deferrable = default_deferrable() if deferrable is None else bool(deferrable)
        self.poll_interval = check_positive_number("poll_interval", poll_interval, self.task_id)
        self.timeout = None if timeout is None else check_positive_number("timeout", timeout, self.task_id)
        self.cancel_on_kill = cancel_on_kill
        self.fetch_logs = fetch_logs
        self.log_tail_lines = int(log_tail_lines)
        try:
            self.retry = RetryPolicy.from_value(retry).to_dict() if retry is not None else None
        except ValueError as err:
            raise ValueError(f"Task {self.task_id!r}: {err}") from None
        self._active_run: RunRef | None = None
        self._last_log_id: int | None = None

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
        deadline = None if self.timeout is None else self._started_at(context) + self.timeout
        if self.deferrable:
            self.defer(
                trigger=CivisRunTrigger(
                    run=run.to_dict(),
                    civis_conn_id=self.civis_conn_id,
                    poll_interval=self.poll_interval,
                    deadline=deadline,
                    cancel_on_kill=self.cancel_on_kill,
                ),
                method_name="execute_complete",
            )
        details = self._poll(context, run, deadline)
        return self._complete(context, run, details)

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> Any:
        run, status, event = validate_run_event(event)
        self._active_run = run
        if status == "timeout":
            self._cancel_for_timeout(context, run)
        return self._complete(context, run, self.hook.get_run(run))

    def on_kill(self) -> None:
        if self._active_run is not None and self.cancel_on_kill:
            self.log.info("Task killed: cancelling %s", self._active_run)
            self.hook.cancel_run(self._active_run)

    # -- steps ---------------------------------------------------------------------------------------
    def _start(self, context: Any) -> tuple[RunRef, dict[str, Any]]:
        run = self.start_run(context)
        store = context.get("task_state_store")
        if store is not None:
            store.set(STATE_STORE_KEY, {**run.to_dict(), "started_at": time.time()})
        self.log.info("Started %s", run)
        self._publish(context, run)
        return run, self.hook.get_run(run)

    def _reattach(self, context: Any) -> tuple[RunRef, dict[str, Any]] | None:
        """A run an earlier try of this task started (and its worker lost) is picked up, not repeated."""
        store = context.get("task_state_store")
        saved = store.get(STATE_STORE_KEY) if store is not None else None
        if not saved:
            return None
        run = RunRef.from_dict(saved)
        details = self.hook.get_run(run)
        if details.get("state") in ACTIVE_STATES or details.get("state") == "succeeded":
            self.log.info("Reattaching to %s (%s) started by an earlier try", run, details.get("state"))
            self._publish(context, run)
            return run, details
        store.delete(STATE_STORE_KEY)
        return None

    def _started_at(self, context: Any) -> float:
        store = context.get("task_state_store")
        saved = store.get(STATE_STORE_KEY) if store is not None else None
        return float(saved.get("started_at", time.time())) if saved else time.time()

    def _publish(self, context: Any, run: RunRef) -> None:
        """Ids and URL go to XCom before any waiting, so the link works even if the run fails."""
        ti = context["ti"]
        ti.xcom_push(key="job_id", value=run.job_id)
        ti.xcom_push(key="run_id", value=run.run_id)
        ti.xcom_push(key=RUN_URL_XCOM_KEY, value=run_page_url(self.hook.settings.app_url, run.job_id, run.run_id))

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
        raise CivisRunTimeoutError(f"{run} did not finish within timeout={self.timeout}s; it was cancelled.")

    def _copy_logs(self, run: RunRef) -> list[str]:
        if not self.fetch_logs:
            return []
        lines = self.hook.get_run_logs(run, last_id=self._last_log_id)
        for line in lines:
            self.log.info("[civis %s] %s", run.run_id, line.get("message", ""))
        if lines:
            self._last_log_id = lines[-1].get("id", self._last_log_id)
        return [line.get("message", "") for line in lines]

    def _forget(self, context: Any | None) -> None:
        store = context.get("task_state_store") if context else None
        if store is not None:
            store.delete(STATE_STORE_KEY)

    def _complete(self, context: Any, run: RunRef, details: dict[str, Any]) -> Any:
        self._copy_logs(run)
        self._forget(context)
        state = details.get("state")
        if state != "succeeded":
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
        return self.build_result(context, run, details, outputs)

    def _log_tail(self, run: RunRef) -> list[str]:
        lines = self.hook.get_run_logs(run)
        return [line.get("message", "") for line in lines[-self.log_tail_lines :]]

    def _read_outputs(self, run: RunRef) -> dict[str, Any]:
        """Outputs by name: JSON values as their value, files/tables/others as ``{"file_id": 12}`` etc."""
        result: dict[str, Any] = {}
        for output in self.hook.list_run_outputs(run):
            kind = output.get("objectType")
            name = output.get("name") or f"{kind}_{output.get('objectId')}"
            if kind == "JSONValue":
                value = output.get("value")
                result[name] = self.hook.get_json_value(output["objectId"]) if value is None else value
            else:
                key = "file_id" if kind == "File" else f"{str(kind).lower()}_id"
                result[name] = {key: output.get("objectId")}
        return result
