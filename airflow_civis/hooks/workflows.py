"""CivisWorkflowHook: start, find and retry workflow executions, the way CivisHook does it for job runs.

An execution is the workflow kind of run (``RunRef("workflow", workflow_id, execution_id)``): polling and
cancelling go through :class:`CivisHook` unchanged. What differs is starting one (``POST
/workflows/{id}/executions`` takes a body) and finding one a lost start may have created (the workflow's
``lastExecutionId``, where a job has ``lastRun``).
"""

from __future__ import annotations

from typing import Any

from airflow_civis.hooks._start import start_exactly_once
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.runs import RunRef, runs_path

KIND = "workflow"


class CivisWorkflowHook(CivisHook):
    """:class:`CivisHook` plus workflow executions."""

    def get_workflow(self, workflow_id: int) -> dict[str, Any]:
        return self.call("GET", f"/workflows/{int(workflow_id)}")

    def last_execution_id(self, workflow_id: int) -> int | None:
        """Id of the workflow's newest execution (``lastExecutionId``), None if it has none."""
        last = (self.get_workflow(workflow_id) or {}).get("lastExecutionId")
        return int(last) if last else None

    def find_run_since(self, kind: str, job_id: int, baseline: int | None) -> RunRef | None:
        if kind != KIND:
            return super().find_run_since(kind, job_id, baseline)
        newest = self.last_execution_id(job_id)
        if newest is not None and (baseline is None or newest > int(baseline)):
            return RunRef(KIND, int(job_id), newest)
        return None

    def start_execution(self, workflow_id: int, body: dict[str, Any]) -> RunRef:
        """Start exactly one execution, as :meth:`CivisHook.start_run` starts exactly one run.

        The POST is never repeated blindly: after a failure that may have taken effect, the workflow's
        newest execution is compared with the one it had before, and a newer one is adopted.
        ``start_journal`` (if set) hears ``("workflow", workflow_id, baseline)`` before the first POST.
        """
        workflow_id = int(workflow_id)
        path = runs_path(KIND, workflow_id)
        baseline = self.last_execution_id(workflow_id)
        if self.start_journal is not None:
            self.start_journal(KIND, workflow_id, baseline)

        def post() -> RunRef:
            return RunRef(KIND, workflow_id, int(self.call("POST", path, json=body)["id"]))

        return start_exactly_once(self.settings.retry, self.log, post,
                                  lambda: self.find_run_since(KIND, workflow_id, baseline), f"POST {path}",
                                  label="Reconciling workflow execution start")

    def retry_execution(self, ref: RunRef, task_name: str | None = None) -> dict[str, Any]:
        """``POST .../retry``: run the failed tasks of a failed execution again (the same execution)."""
        body = {} if task_name is None else {"taskName": task_name}
        return self.call("POST", f"{ref.path}/retry", json=body)
