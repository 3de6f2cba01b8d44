"""How a Civis run's log lines reach the Airflow task log, and the last lines a failure message shows.

A mixin of :class:`~airflow_civis.operators.base.CivisRunOperatorBase`, kept apart so that module holds
only the lifecycle (start or reattach, wait, complete): this one copies each line exactly once (lines
the platform publishes late, below ids already copied, included: see ``hooks/run_logs.py``), waits a
bounded time for a failed run's late lines (its traceback, as a rule), and reads the failure tail.
An operator whose run has another kind of log (the workflow operator: one log per task run)
overrides :meth:`TaskLogCopy._copy_logs`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_civis.hooks.run_logs import RunLogFollower

if TYPE_CHECKING:
    from airflow_civis.hooks.civis import CivisHook
    from airflow_civis.runs import RunRef

#: civis-python waits 15 s before reading a failed run's log (``CivisFuture._exception_from_logs``).
DEFAULT_LATE_LOG_WAIT = 15.0
LATE_LOG_POLL_INTERVAL = 1.0


class TaskLogCopy:
    """Log copying for the run lifecycle, set by the operator's ``fetch_logs``, ``log_tail_lines``,
    ``late_log_wait`` and ``poll_interval``."""

    fetch_logs: bool
    log_tail_lines: int
    late_log_wait: float
    poll_interval: float
    _logs: RunLogFollower | None

    if TYPE_CHECKING:  # provided by the operator

        @property
        def hook(self) -> CivisHook: ...

        @property
        def log(self) -> Any: ...

    def _log_follower(self, run: RunRef) -> RunLogFollower:
        if self._logs is None or self._logs.run != run:
            self._logs = RunLogFollower(self.hook, run)
        return self._logs

    def _emit_logs(self, run: RunRef, lines: list[dict[str, Any]]) -> None:
        if self.fetch_logs:
            for line in lines:
                self.log.info("[civis %s] %s", run.run_id, line.get("message", ""))

    def _copy_logs(self, run: RunRef, *, whole: bool = False) -> list[str]:
        """Copy the run's log lines not copied yet to the task log, each exactly once, including lines
        published late below ids already copied (see ``hooks/run_logs.py``). ``whole`` re-reads from
        the first line, so that none is missing once the run has ended."""
        if not self.fetch_logs:
            return []
        follower = self._log_follower(run)
        lines = follower.read_all() if whole else follower.read_new()
        self._emit_logs(run, lines)
        return [line.get("message", "") for line in lines]

    def _wait_for_late_lines(self, run: RunRef) -> None:
        """A failed run's last lines (its traceback) reach the API after its state: wait, bounded by
        ``late_log_wait``, ending as soon as the API says the log is complete."""
        waited = self._log_follower(run).wait_for_late_lines(
            self.late_log_wait, min(self.poll_interval, LATE_LOG_POLL_INTERVAL),
            lambda lines: self._emit_logs(run, lines),
        )
        self.log.info("Waited %.1fs for %s's late log lines (%s)", waited, run,
                      "log complete" if self._log_follower(run).final else "late_log_wait reached")

    def _log_tail(self, run: RunRef) -> list[str]:
        """The run's last ``log_tail_lines`` lines by id (emission order), read after any late ones."""
        if not self.log_tail_lines:
            return []
        lines = self.hook.get_run_logs(run)
        return [line.get("message", "") for line in lines[-self.log_tail_lines :]]
