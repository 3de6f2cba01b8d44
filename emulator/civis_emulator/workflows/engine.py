"""Run workflow executions: each task a real run of its job, through the emulator's run registry.

One engine per emulator state, one daemon thread stepping every live execution (about 20 times a
second) while any is live. An execution is a stored document (kind ``workflow_executions``, parent =
workflow id); everything the engine knows lives in it, so a step is read, decide, write:

* direct workflows: the tasks no transition leads to start; a finished task sends its ``on-success`` (or
  ``on-error``) and ``on-complete`` targets one *arrival* each; a task starts once per arrival, or, with
  ``join``, once when enough arrived. A failed task without ``on-error`` fails the execution: nothing new
  starts, running tasks finish, then the execution ends ``error``. ``succeed`` / ``fail`` end it at once
  (once running tasks are done);
* reverse workflows: ``targetTask`` and what it ``requires``, each task once its requirements succeeded;
* ``includedTasks``: tasks left out count as succeeded without running (the flow passes through them);
* cancel cancels the running job runs; resume goes on past a ``pause-before``; retry runs the failed tasks
  again (a new run each, added to the task's runs) and the flow carries on from them.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

from ..common import now_iso
from ..runs import FINISHED_STATES, NoRunner, RunConflict
from .definition import Definition, parse_definition, resolve_input

log = logging.getLogger(__name__)
KIND = "workflow_executions"
STEP_SECONDS = 0.05
#: Execution ``state`` (Civis) for each ``mistralState``.
STATES = {"running": "running", "paused": "paused", "success": "succeeded", "error": "failed",
          "cancelled": "cancelled"}
LIVE = ("running", "paused")


class ExecutionError(Exception):
    """A request the execution's state (409) or the request itself (400) does not allow."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


class WorkflowEngine:
    def __init__(self, state: Any) -> None:
        self.state = state
        self.lock = threading.RLock()
        self._live: set[tuple[int, int]] = set()
        self._definitions: dict[int, Definition] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._recover()

    # -- requests ----------------------------------------------------------------------------------
    def start(self, workflow: dict, definition: Definition, *, inputs: dict, included: list[str] | None,
              target: str | None, endpoint: str | None) -> dict:
        now = now_iso()
        store = self.state.store
        doc = {
            "id": store.next_id(KIND), "workflowId": workflow["id"], "mistralState": "running",
            "mistralStateInfo": None, "definition": workflow["definition"], "input": inputs,
            "includedTasks": included or [], "targetTask": target, "tasks": [], "startedAt": now,
            "finishedAt": None, "createdAt": now, "updatedAt": now, "endpoint": endpoint,
            "starts": {}, "arrivals": {}, "outcomes": {}, "resumed": [], "stopped": None, "pausedAt": None,
        }
        if definition.type == "direct":
            doc["arrivals"] = {name: 1 for name in definition.start_tasks()}
        with self.lock:
            self._definitions[doc["id"]] = definition
            self._step(doc, definition)
            self._save(doc)
            self._watch(doc)
        return doc

    def cancel(self, doc: dict) -> dict:
        with self.lock:
            doc = self._reload(doc)
            if doc["mistralState"] not in LIVE:
                raise ExecutionError(f"execution {doc['id']} is {STATES[doc['mistralState']]}, not running")
            for entry in doc["tasks"]:
                if entry["mistralState"] == "running":
                    job_id, run_id = entry["runs"][-1]
                    self.state.registry.cancel_run(job_id, run_id, wait=0)
                    entry.update(mistralState="cancelled", mistralStateInfo="cancelled with the execution")
                elif entry["mistralState"] in ("idle", "waiting"):
                    entry["mistralState"] = "cancelled"
            self._end(doc, "cancelled", "cancelled by request")
            return self._save(doc)

    def resume(self, doc: dict) -> dict:
        with self.lock:
            doc = self._reload(doc)
            if doc["mistralState"] != "paused":
                raise ExecutionError(f"execution {doc['id']} is {STATES[doc['mistralState']]}; only a paused "
                                     "execution can be resumed")
            doc["resumed"].append(doc["pausedAt"])
            doc.update(mistralState="running", mistralStateInfo=None, pausedAt=None)
            self._step(doc, self._definition(doc))
            self._save(doc)
            self._watch(doc)
            return doc

    def retry(self, doc: dict, task_name: str | None) -> dict:
        with self.lock:
            doc = self._reload(doc)
            if doc["mistralState"] != "error":
                raise ExecutionError(f"execution {doc['id']} is {STATES[doc['mistralState']]}; only a failed "
                                     "execution can be retried")
            failed = [e["name"] for e in doc["tasks"] if e.get("unhandled")]
            if task_name is not None and task_name not in failed:
                raise ExecutionError(f"taskName {task_name!r} is not a failed task of execution {doc['id']} "
                                     f"(failed tasks: {failed})", status=400)
            names = [task_name] if task_name is not None else failed
            if not names:
                raise ExecutionError(f"execution {doc['id']} has no failed task to retry")
            definition = self._definition(doc)
            doc.update(mistralState="running", mistralStateInfo=None, finishedAt=None)
            if doc["stopped"] == "fail":
                doc["stopped"] = None
            for name in names:
                entry = self._entry(doc, name)
                entry["unhandled"] = False
                doc["outcomes"].pop(name, None)
                doc["starts"][name] -= 1
                self._start_task(doc, definition, name)
            self._step(doc, definition)
            self._save(doc)
            self._watch(doc)
            return doc

    # -- the loop ----------------------------------------------------------------------------------
    def _watch(self, doc: dict) -> None:
        if doc["mistralState"] not in LIVE:
            return
        self._live.add((doc["workflowId"], doc["id"]))
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="civis-emulator-workflows", daemon=True)
            self._thread.start()
        self._wake.set()

    def _closing(self) -> bool:
        return bool(getattr(self.state.registry, "_closing", False))

    def _loop(self) -> None:
        while not self._closing():
            with self.lock:
                if not self._live:
                    self._thread = None
                    return
                for key in list(self._live):
                    try:
                        doc = self.state.store.get(KIND, key[1])
                        if doc is None or doc["mistralState"] not in LIVE:
                            self._live.discard(key)
                            continue
                        self._step(doc, self._definition(doc))
                        self._save(doc)
                    except Exception:  # noqa: BLE001 - one broken execution must not stop the others
                        if self._closing():
                            return
                        log.exception("workflow execution %s: step failed", key[1])
                        self._live.discard(key)
            self._wake.wait(STEP_SECONDS)
            self._wake.clear()

    def _step(self, doc: dict, definition: Definition) -> None:
        for entry in doc["tasks"]:
            if entry["mistralState"] == "running":
                job_id, run_id = entry["runs"][-1]
                run = self.state.registry.get_run(job_id, run_id)
                if run is None or run["state"] in FINISHED_STATES:
                    state = run["state"] if run else "missing"
                    error = (run or {}).get("error") or f"job {job_id} run {run_id} {state}"
                    self._finish_task(doc, definition, entry["name"], state == "succeeded", error)
        if doc["mistralState"] == "running" and not self._stopped(doc):
            for name in self._ready(doc, definition):
                if self._stopped(doc):
                    break
                task = definition.tasks[name]
                included = doc["includedTasks"]
                if included and name not in included:
                    doc["starts"][name] = doc["starts"].get(name, 0) + 1
                    self._finish_task(doc, definition, name, True, None)
                    continue
                if task.pause_before and name not in doc["resumed"]:
                    doc.update(mistralState="paused", pausedAt=name,
                               mistralStateInfo=f"paused before task {name!r}; resume to go on")
                    self._entry(doc, name).update(mistralState="idle", mistralStateInfo="paused before this task")
                    break
                self._start_task(doc, definition, name)
        running = any(e["mistralState"] == "running" for e in doc["tasks"])
        if doc["mistralState"] == "running" and not running:
            if self._stopped(doc) or not self._ready(doc, definition):
                failed = [e for e in doc["tasks"] if e.get("unhandled")]
                if doc["stopped"] == "fail":
                    self._end(doc, "error", "the workflow reached 'fail'")
                elif failed:
                    names = ", ".join(repr(e["name"]) for e in failed)
                    self._end(doc, "error", f"task {names} failed: {failed[0]['mistralStateInfo']}")
                else:
                    self._end(doc, "success", None)

    def _ready(self, doc: dict, definition: Definition) -> list[str]:
        busy = {e["name"] for e in doc["tasks"] if e["mistralState"] == "running"}
        starts, ready = doc["starts"], []
        if definition.type == "reverse":
            for name in definition.closure(doc["targetTask"]):
                required_ok = all(doc["outcomes"].get(r) == "success" for r in definition.tasks[name].requires)
                if starts.get(name, 0) == 0 and required_ok and name not in busy:
                    ready.append(name)
            return ready
        for name, task in definition.tasks.items():
            arrived, started = doc["arrivals"].get(name, 0), starts.get(name, 0)
            if name in busy:
                continue
            if task.join is None and started < arrived:
                ready.append(name)
            elif task.join is not None and started == 0:
                needed = len(definition.inbound(name)) if task.join == "all" else int(task.join)
                if arrived >= needed:
                    ready.append(name)
        return ready

    @staticmethod
    def _stopped(doc: dict) -> bool:
        return doc["stopped"] is not None or any(e.get("unhandled") for e in doc["tasks"])

    # -- tasks -------------------------------------------------------------------------------------
    @staticmethod
    def _entry(doc: dict, name: str) -> dict:
        for entry in doc["tasks"]:
            if entry["name"] == name:
                return entry
        entry = {"name": name, "mistralState": "waiting", "mistralStateInfo": None, "runs": [], "unhandled": False}
        doc["tasks"].append(entry)
        return entry

    def _start_task(self, doc: dict, definition: Definition, name: str) -> None:
        task = definition.tasks[name]
        doc["starts"][name] = doc["starts"].get(name, 0) + 1
        entry = self._entry(doc, name)
        entry.update(mistralState="running", mistralStateInfo=None)
        if task.action != "civis.run_job":
            self._finish_task(doc, definition, name, task.action != "std.fail", "std.fail")
            return
        raw = resolve_input(task.input["job_id"], doc["input"])
        try:
            job_id = int(raw)
            run = self.state.registry.start_run(job_id, endpoint=doc.get("endpoint"))
        except (TypeError, ValueError):
            self._finish_task(doc, definition, name, False, f"job_id {raw!r} is not a job id")
        except KeyError:
            self._finish_task(doc, definition, name, False, f"job {raw} not found")
        except RunConflict:
            self._finish_task(doc, definition, name, False, f"job {raw} is already running")
        except NoRunner as err:
            self._finish_task(doc, definition, name, False, f"the emulator cannot run jobs of type {err}")
        else:
            entry["runs"].append([job_id, run["id"]])

    def _finish_task(self, doc: dict, definition: Definition, name: str, ok: bool, error: str | None) -> None:
        task = definition.tasks[name]
        doc["outcomes"][name] = "success" if ok else "error"
        entry = next((e for e in doc["tasks"] if e["name"] == name), None)
        if entry is not None:
            entry.update(mistralState="success" if ok else "error", mistralStateInfo=None if ok else error)
        if definition.type == "reverse":
            if not ok and entry is not None:
                entry["unhandled"] = True
            return
        if ok:
            targets = [*task.on_success, *task.on_complete]
        elif task.on_error:
            targets = [*task.on_error, *task.on_complete]
        else:
            targets = []
            if entry is not None:
                entry["unhandled"] = True
        for target in targets:
            if target == "fail":
                doc["stopped"] = "fail"
            elif target == "succeed":
                doc["stopped"] = doc["stopped"] or "succeed"
            else:
                doc["arrivals"][target] = doc["arrivals"].get(target, 0) + 1

    # -- documents ---------------------------------------------------------------------------------
    def _end(self, doc: dict, mistral_state: str, info: str | None) -> None:
        doc.update(mistralState=mistral_state, mistralStateInfo=info, finishedAt=now_iso(), pausedAt=None)

    def _definition(self, doc: dict) -> Definition:
        definition = self._definitions.get(doc["id"])
        if definition is None:
            definition = self._definitions[doc["id"]] = parse_definition(doc["definition"])
        return definition

    def _reload(self, doc: dict) -> dict:
        return self.state.store.get(KIND, doc["id"]) or doc

    def _save(self, doc: dict) -> dict:
        doc["updatedAt"] = now_iso()
        return self.state.store.put(KIND, doc, parent=doc["workflowId"])

    def _recover(self) -> None:
        """Executions live when the emulator stopped end ``error``, as its runs end ``failed``."""
        for doc in self.state.store.all(KIND):
            if doc["mistralState"] in LIVE:
                self._end(doc, "error", "emulator restarted")
                self._save(doc)


_ENGINES: weakref.WeakKeyDictionary[Any, WorkflowEngine] = weakref.WeakKeyDictionary()
_ENGINES_LOCK = threading.Lock()


def engine_for(state: Any) -> WorkflowEngine:
    """The one engine of an emulator state (created, and stale executions recovered, on first use)."""
    with _ENGINES_LOCK:
        engine = _ENGINES.get(state)
        if engine is None:
            engine = _ENGINES[state] = WorkflowEngine(state)
        return engine


def execution_state(doc: dict) -> str:
    return STATES[doc["mistralState"]]
