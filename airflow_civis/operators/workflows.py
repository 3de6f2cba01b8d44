"""Run an existing Civis workflow (start an execution) and wait for it, through the one run lifecycle.

An execution is the ``workflow`` kind of run (``RunRef("workflow", workflow_id, execution_id)``), so
waiting (deferred by default), cancel on kill or timeout and reattach after a crash are the base's.
What differs: the start takes a body (``input``, ``includedTasks``, ``targetTask``); logs are each
task's runs' logs; and when an Airflow retry follows a failed execution, that execution is retried
(``POST .../retry`` re-runs only its failed tasks) instead of starting a new one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow_civis.exceptions import CivisRunError
from airflow_civis.hooks.workflows import CivisWorkflowHook
from airflow_civis.links import EMULATOR_UI_PATH
from airflow_civis.operators.base import CivisRunOperatorBase, RunJournal
from airflow_civis.runs import ACTIVE_STATES, RunRef
from airflow_civis.validation import check_choice, check_int_id

RETRY_STRATEGIES = ("retry_execution", "new_execution")
#: Journal flag: this task's last try ended with this execution failed (the next try retries it).
FAILED_MARK = "failed_execution"


def workflow_page_url(app_url: str, workflow_id: int, execution_id: int, *, emulator: bool = False) -> str:
    """The platform's page of one execution, or (the connection says emulator) ``/_emulator/ui/workflows/...``."""
    base = app_url.rstrip("/")
    if emulator:
        return f"{base}{EMULATOR_UI_PATH}/workflows/{int(workflow_id)}/executions/{int(execution_id)}"
    return f"{base}/spa/#/workflows/{int(workflow_id)}/executions/{int(execution_id)}"


def _check_input(value: Any, task_id: str) -> Any:
    if value is None or isinstance(value, dict) or (isinstance(value, str) and "{{" in value):
        return value
    raise ValueError(f"Task {task_id!r}: input must be a mapping of workflow input names to values, got {value!r}")


def _check_tasks(value: Any, task_id: str) -> Any:
    if value is None or (isinstance(value, str) and "{{" in value):
        return value
    if isinstance(value, (list, tuple)) and value and all(isinstance(n, str) and n for n in value):
        return list(value)
    raise ValueError(f"Task {task_id!r}: included_tasks must be a non-empty list of task names, got {value!r}")


class CivisRunWorkflowOperator(CivisRunOperatorBase):
    """
    Start an execution of an existing Civis workflow and wait for it.

    :param workflow_id: the workflow (templated).
    :param input: the execution's input values by name (templated), as the workflow's ``input`` lists them.
    :param included_tasks: run only these tasks (templated); the others count as done.
    :param target_task: for a reverse workflow, the task to reach (templated).
    :param retry_strategy: ``retry_execution`` (default): an Airflow retry after a failed execution
        retries that execution's failed tasks; ``new_execution``: it starts a fresh execution.
    """

    template_fields: Sequence[str] = (
        *CivisRunOperatorBase.template_fields, "workflow_id", "input", "included_tasks", "target_task",
    )
    template_fields_renderers = {"input": "json"}

    def __init__(
        self,
        *,
        workflow_id: int | str,
        input: dict[str, Any] | str | None = None,  # noqa: A002 - the API's name for it
        included_tasks: list[str] | str | None = None,
        target_task: str | None = None,
        retry_strategy: str = "retry_execution",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.workflow_id = check_int_id("workflow_id", workflow_id, self.task_id)
        self.input = _check_input(input, self.task_id)
        self.included_tasks = _check_tasks(included_tasks, self.task_id)
        if target_task is not None and (not isinstance(target_task, str) or not target_task):
            raise ValueError(f"Task {self.task_id!r}: target_task must be a task name, got {target_task!r}")
        self.target_task = target_task
        self.retry_strategy = check_choice("retry_strategy", retry_strategy, RETRY_STRATEGIES, self.task_id)
        self._reported: set[tuple[str, int]] = set()

    @cached_property
    def hook(self) -> CivisWorkflowHook:
        return CivisWorkflowHook(self.civis_conn_id, retry=self.retry)

    # -- start -------------------------------------------------------------------------------------
    def execution_body(self) -> dict[str, Any]:
        """The POST body, checked after rendering (the API's names: input, includedTasks, targetTask)."""
        body: dict[str, Any] = {}
        if _check_input(self.input, self.task_id) is not None:
            if not isinstance(self.input, dict):
                raise ValueError(f"Task {self.task_id!r}: input rendered to {self.input!r}, not a mapping")
            body["input"] = self.input
        if _check_tasks(self.included_tasks, self.task_id) is not None:
            if not isinstance(self.included_tasks, list):
                raise ValueError(f"Task {self.task_id!r}: included_tasks rendered to {self.included_tasks!r}, "
                                 "not a list of task names")
            body["includedTasks"] = self.included_tasks
        if self.target_task:
            body["targetTask"] = self.target_task
        return body

    def start_run(self, context: Any) -> RunRef:
        workflow_id = int(check_int_id("workflow_id", self.workflow_id, self.task_id))
        return self.hook.start_execution(workflow_id, self.execution_body())

    def _reattach(self, context: Any) -> tuple[RunRef, dict[str, Any]] | None:
        """After a failed execution, an Airflow retry retries it; otherwise the base's reattach."""
        journal = RunJournal(context)
        saved = journal.get()
        if not (saved and saved.get(FAILED_MARK)):
            return super()._reattach(context)
        ref = RunRef.from_dict(saved)
        details = self.hook.get_run(ref)
        state = details.get("state")
        if state == "failed" and self.retry_strategy == "retry_execution":
            self.log.info("Retrying the failed tasks of %s (not starting a new execution)", ref)
            details = self.hook.retry_execution(ref)
        elif not (state in ACTIVE_STATES or state == "succeeded"):  # cancelled, or new_execution chosen
            journal.delete()
            return None
        # (running or succeeded: an earlier try retried it and was lost before it could say so)
        journal.set({**ref.to_dict(), "started_at": time.time()})
        self._publish(context, ref)
        return ref, details

    def published_ids(self, run: RunRef) -> dict[str, int]:
        return {"workflow_id": run.job_id, "execution_id": run.run_id}

    def run_page(self, run: RunRef) -> str:
        settings = self.hook.settings
        return workflow_page_url(settings.app_url, run.job_id, run.run_id, emulator=settings.is_emulator)

    # -- logs: each task's state and its runs' logs ---------------------------------------------------
    def _copy_logs(self, run: RunRef, *, whole: bool = False) -> list[str]:
        """Each task run that ended, once: its state, then (``fetch_logs``) its log lines."""
        return self._report(self.hook.get_run(run).get("tasks") or [])

    def _report(self, tasks: list[dict[str, Any]]) -> list[str]:
        copied: list[str] = []
        for task in tasks:
            for task_run in reversed(task.get("runs") or []):  # the API lists them newest first
                key = (str(task.get("name")), int(task_run["id"]))
                if key in self._reported or task_run.get("state") in ACTIVE_STATES:
                    continue
                self._reported.add(key)
                self.log.info("[civis workflow] task %r: job %s run %s %s", key[0], task_run.get("jobId"),
                              key[1], task_run.get("state"))
                if self.fetch_logs:
                    for line in self.hook.get_run_logs(RunRef("job", int(task_run["jobId"]), key[1])):
                        message = line.get("message", "")
                        self.log.info("[civis %s] %s", key[1], message)
                        copied.append(message)
        return copied

    def _task_tail(self, task: dict[str, Any]) -> list[str]:
        runs = task.get("runs") or []
        if not runs or not self.log_tail_lines:
            return []
        newest = runs[0]
        lines = self.hook.get_run_logs(RunRef("job", int(newest["jobId"]), int(newest["id"])))
        return [line.get("message", "") for line in lines[-self.log_tail_lines:]]

    # -- complete ----------------------------------------------------------------------------------
    def _complete(self, context: Any, run: RunRef, details: dict[str, Any]) -> Any:
        tasks = details.get("tasks") or []
        self._report(tasks)
        for task in tasks:
            self.log.info("[civis workflow] task %r ended %s", task.get("name"), task.get("mistralState"))
        state = details.get("state")
        if state == "succeeded":
            self._forget(context)
            self._active_run = None
            result = self.build_result(context, run, details, {})
            self.civis_result = result
            return result
        self._remember_failure(context, run, state)
        failed = [t for t in tasks if t.get("mistralState") == "error"] or tasks[-1:]
        parts, tail = [], []
        for task in failed:
            tail = self._task_tail(task)
            shown = "\n".join(f"    {line}" for line in tail) or "    (no log lines)"
            parts.append(f"  task {task.get('name')!r} {task.get('mistralState')}: "
                         f"{task.get('mistralStateInfo') or ''}\n  last {len(tail)} log lines:\n{shown}")
        raise CivisRunError(
            f"Civis {run} {state}: {details.get('mistralStateInfo') or ''}\n" + "\n".join(parts),
            state=str(state), job_id=run.job_id, run_id=run.run_id, log_tail=tail,
        )

    def _remember_failure(self, context: Any, run: RunRef, state: Any) -> None:
        """A failed execution is kept in the journal when another try may retry it; else forgotten."""
        ti = context.get("ti")
        try_number = getattr(ti, "try_number", None)
        retries_left = not isinstance(try_number, int) or try_number <= (self.retries or 0)
        if state == "failed" and self.retry_strategy == "retry_execution" and retries_left:
            journal = RunJournal(context)
            journal.set({**run.to_dict(), FAILED_MARK: True, "started_at": time.time()})
        else:
            self._forget(context)

    def build_result(self, context: Any, run: RunRef, details: dict[str, Any], outputs: dict[str, Any]) -> Any:
        """Execution id, state and each task's state and runs."""
        return {
            "workflow_id": run.job_id,
            "execution_id": run.run_id,
            "state": details.get("state"),
            "tasks": {
                str(task.get("name")): {
                    "state": task.get("mistralState"),
                    "runs": [{"job_id": r.get("jobId"), "run_id": r.get("id"), "state": r.get("state")}
                             for r in task.get("runs") or []],
                }
                for task in details.get("tasks") or []
            },
        }
