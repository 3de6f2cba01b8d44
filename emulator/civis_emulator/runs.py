"""Jobs, runs and the runner registry: the one run lifecycle every emulated resource shares.

A **job** is a stored document (kind ``"jobs"``) with at least ``id``, ``name`` and ``type`` (the
platform's job type, e.g. ``JobTypes::ContainerDocker``, ``JobTypes::PythonDocker``, ``JobTypes::Import``,
``JobTypes::Query``, ``JobTypes::BuildModel``). A **run** (kind ``"runs"``, parent = job id) goes
``queued -> running -> succeeded | failed | cancelled`` and has ``createdAt/startedAt/finishedAt``,
``error``, ``isCancelRequested``, log lines and outputs.

Adding a new kind of job (imports, queries, CivisML, enhancements) takes two steps::

    from civis_emulator.runs import RunFailed, register_runner

    def run_import(ctx):                       # called in a worker thread, never on the event loop
        ctx.log(f"importing into {ctx.job['destination']}")
        if ctx.cancelled.wait(0.1):            # check ctx.cancelled (a threading.Event) while working
            return                             # -> run ends "cancelled"
        ctx.add_output("Table", 7, "schema.table")   # or ("JSONValue", id, name, value)
        # return -> "succeeded"; raise RunFailed("message") (or any exception) -> "failed"

    register_runner("JobTypes::Import", run_import)

    # in your router, with ``state = request.app.state.emulator``:
    job = state.registry.create_job("JobTypes::Import", "My import", {"anyField": 1})
    run = state.registry.start_run(job["id"])       # RunConflict if a run is already active

``ctx`` (:class:`RunContext`) also has ``job_id``, ``run_id``, ``run``, ``data_dir`` (None when in
memory), ``state`` (the :class:`~civis_emulator.state.EmulatorState`, e.g. for the warehouse),
``api_key`` and ``endpoint`` (base URL + "/", for code that calls back into the emulator).
Runs execute on a bounded thread pool; a run waits ``queued`` until a worker is free. The generic
``/jobs/{id}/runs...`` routes and ``/_emulator/stats`` work for every job type with no extra code.
Runs still active when the emulator stops come back ``failed`` with error "emulator restarted".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .common import author, now_iso
from .store import Store

log = logging.getLogger(__name__)

ACTIVE_STATES = ("queued", "running")
CANCEL_WAIT_SECONDS = 5.0
FINISHED_STATES = ("succeeded", "failed", "cancelled")

Runner = Callable[["RunContext"], Any]
_RUNNERS: dict[str, Runner] = {}


def register_runner(job_type: str, fn: Runner) -> None:
    """Make runs of jobs of ``job_type`` execute ``fn(ctx)`` (replaces an earlier registration)."""
    _RUNNERS[job_type] = fn


def get_runner(job_type: str) -> Runner | None:
    return _RUNNERS.get(job_type)


class RunFailed(Exception):
    """Raise from a runner to fail the run with exactly this message as its ``error``."""


class RunConflict(Exception):
    """The job already has a queued or running run."""


class NoRunner(Exception):
    """No runner is registered for the job's type."""


def run_summary(run: dict) -> dict:
    return {k: run.get(k) for k in ("id", "state", "createdAt", "startedAt", "finishedAt", "error")}


class RunContext:
    """What a runner gets: the job, the run, logging/output helpers and a cancel event."""

    def __init__(self, registry: RunRegistry, job: dict, run: dict, endpoint: str | None):
        self._registry = registry
        self.job = job
        self.run = run
        self.job_id: int = job["id"]
        self.run_id: int = run["id"]
        self.cancelled = threading.Event()
        self.finished = threading.Event()  # set once the run's final state is stored
        self.state = registry.state
        self.data_dir: str | None = registry.store.data_dir
        self.api_key: str | None = registry.api_key
        self.endpoint: str | None = endpoint

    def log(self, message: str, level: str = "info", *, lag: float = 0.0) -> int:
        """Emit a line now (its id and createdAt are fixed now); it is published ``lag`` seconds later."""
        return self._registry.append_log(self.run_id, message, level, lag)

    def publish_logs(self, delay: float = 0.0, spacing: float = 0.0) -> int:
        """Publish the lines not published yet ``delay`` seconds from now, newest first (see log_shipping)."""
        return self._registry.store.publish_logs(self.run_id, time.time() + delay, spacing)

    def add_output(self, object_type: str, object_id: int, name: str | None, value: Any = None) -> dict:
        return self._registry.add_output(self.run_id, object_type, object_id, name, value)


class RunRegistry:
    #: The spec does not say whether a job's ``lastRunUpdatedAt`` moves on every state change of its last
    #: run. False (the default) moves it on every change; True ("pessimistic", ``civis-emulator
    #: --pessimistic``) sets it only when a run is created, so a run's end never shows in that order.
    pessimistic: bool = False

    def __init__(self, store: Store, *, api_key: str | None = None, max_workers: int = 8,
                 stats=None, state=None):
        self.store = store
        self.api_key = api_key
        self.stats = stats
        self.state = state
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="civis-emulator-run")
        self._contexts: dict[int, RunContext] = {}
        self._lock = threading.RLock()
        self._closing = False
        self._recover()

    # -- jobs ------------------------------------------------------------------------------------
    def create_job(self, job_type: str, name: str | None, doc: dict | None = None) -> dict:
        now = now_iso()
        job: dict[str, Any] = {
            "name": name, "type": job_type, "state": "idle", "createdAt": now, "updatedAt": now,
            "lastRunUpdatedAt": None, "lastRun": None, "finishedAt": None, "fromTemplateId": None,
            "hidden": False, "archived": False, "author": author(), "myPermissionLevel": "manage",
            "runningAsUser": "emulator", "runByUser": "emulator",
            "schedule": {"scheduled": False, "scheduledDays": [], "scheduledHours": [],
                         "scheduledMinutes": [], "scheduledRunsPerHour": None, "scheduledDaysOfMonth": []},
        }
        job.update(doc or {})
        job["id"] = self.store.next_id("jobs")
        job["type"] = job_type
        return self.store.put("jobs", job)

    def get_job(self, job_id: int) -> dict | None:
        return self.store.get("jobs", job_id)

    def update_job(self, job_id: int, changes: dict) -> dict | None:
        def apply(doc: dict) -> None:
            doc.update(changes)
            doc["updatedAt"] = now_iso()
        return self.store.update("jobs", job_id, apply)

    def list_jobs(self) -> list[dict]:
        return self.store.all("jobs")

    # -- runs ------------------------------------------------------------------------------------
    def get_run(self, job_id: int, run_id: int) -> dict | None:
        run = self.store.get("runs", run_id)
        return run if run and run["jobId"] == job_id else None

    def list_runs(self, job_id: int) -> list[dict]:
        return self.store.all("runs", parent=job_id)

    def active_run(self, job_id: int) -> dict | None:
        runs = [r for r in self.list_runs(job_id) if r["state"] in ACTIVE_STATES]
        return runs[-1] if runs else None

    def start_run(self, job_id: int, *, endpoint: str | None = None) -> dict:
        """Queue a run of the job and hand it to a worker. Raises KeyError, RunConflict or NoRunner."""
        with self._lock:
            job = self.get_job(job_id)
            if job is None:
                raise KeyError(job_id)
            runner = get_runner(job["type"])
            if runner is None:
                raise NoRunner(job["type"])
            if self.active_run(job_id) is not None:
                raise RunConflict(job_id)
            run: dict[str, Any] = {
                "id": self.store.next_id("runs"), "jobId": job_id, "state": "queued",
                "isCancelRequested": False, "createdAt": now_iso(), "startedAt": None,
                "finishedAt": None, "error": None, "maxMemoryUsage": None, "maxCpuUsage": None,
                "outputs": [], "endpoint": endpoint,
            }
            self.store.put("runs", run, parent=job_id)
            self._sync_job(run)
            ctx = RunContext(self, job, run, endpoint)
            self._contexts[run["id"]] = ctx
            if self.stats is not None:
                self.stats.record_run_started(job_id)
        self._pool.submit(self._execute, ctx, runner)
        return run

    def cancel_run(self, job_id: int, run_id: int, wait: float = CANCEL_WAIT_SECONDS) -> dict | None:
        """Request cancellation; a queued run is cancelled at once, a running one when its runner stops.

        Waits up to ``wait`` seconds for a running run to stop (call it from a worker thread, never
        the event loop); after that the run is still ``running`` with ``isCancelRequested`` true.
        """
        with self._lock:
            run = self.get_run(job_id, run_id)
            if run is None or run["state"] in FINISHED_STATES:
                return run
            ctx = self._contexts.get(run_id)
            if ctx is not None:
                ctx.cancelled.set()
            changes: dict = {"isCancelRequested": True}
            if run["state"] == "queued" or ctx is None:
                changes.update(state="cancelled", finishedAt=now_iso())
            run = self._update_run(run_id, changes)
            assert run is not None  # read under this same lock just above
        if ctx is not None and run["state"] not in FINISHED_STATES and wait > 0:
            ctx.finished.wait(wait)
            run = self.store.get("runs", run_id)
        return run

    def _update_run(self, run_id: int, changes: dict) -> dict | None:
        with self._lock:
            run = self.store.update("runs", run_id, lambda r: r.update(changes))
            if run is not None:
                self._sync_job(run)
            return run

    def _sync_job(self, run: dict) -> None:
        """Keep the job's denormalised lastRun/state in step with its newest run."""
        def apply(job: dict) -> None:
            last = job.get("lastRun")
            if last and last.get("id", 0) > run["id"]:
                return
            if not self.pessimistic or not last or last.get("id") != run["id"]:
                job["lastRunUpdatedAt"] = now_iso()
            job["lastRun"] = run_summary(run)
            job["state"] = run["state"]
            job["finishedAt"] = run["finishedAt"]
            if run["state"] == "succeeded":
                job["lastSuccessfulRun"] = run_summary(run)
        self.store.update("jobs", run["jobId"], apply)

    def _execute(self, ctx: RunContext, runner: Runner) -> None:
        run_id = ctx.run_id
        try:
            with self._lock:
                current = self.store.get("runs", run_id)
                if self._closing or current is None or current["state"] != "queued":
                    return
                running = self._update_run(run_id, {"state": "running", "startedAt": now_iso()})
                assert running is not None  # read under this same lock just above
                ctx.run = running
            error = None
            try:
                runner(ctx)
            except RunFailed as exc:
                error = str(exc)
            except Exception as exc:  # noqa: BLE001 - a runner bug must fail the run, not the worker
                log.exception("runner for job %s run %s crashed", ctx.job_id, run_id)
                error = f"{type(exc).__name__}: {exc}"
            if self._closing:
                return  # left active: the next start reports "emulator restarted"
            if ctx.cancelled.is_set():
                final = {"state": "cancelled"}
            elif error is not None:
                final = {"state": "failed", "error": error}
            else:
                final = {"state": "succeeded"}
            final["finishedAt"] = now_iso()
            self._update_run(run_id, final)
        finally:
            with self._lock:
                self._contexts.pop(run_id, None)
            ctx.finished.set()

    def _recover(self) -> None:
        for run in self.store.all("runs"):
            if run["state"] in ACTIVE_STATES:
                self._update_run(run["id"], {"state": "failed", "error": "emulator restarted",
                                             "finishedAt": now_iso()})

    # -- logs and outputs ------------------------------------------------------------------------
    def append_log(self, run_id: int, message: str, level: str = "info", lag: float = 0.0) -> int:
        return self.store.add_log(run_id, now_iso(), message, level, time.time() + lag if lag > 0 else 0.0)

    def add_output(self, run_id: int, object_type: str, object_id: int, name: str | None,
                   value: Any = None) -> dict:
        output = {"objectType": object_type, "objectId": int(object_id), "name": name, "value": value,
                  "createdAt": now_iso()}
        def apply(run: dict) -> None:
            outs = [o for o in run.get("outputs", [])
                    if (o["objectType"], o["objectId"]) != (object_type, int(object_id))]
            run["outputs"] = outs + [output]
        self.store.update("runs", run_id, apply)
        return output

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop: cancel what is running (runners kill their processes) and leave those runs active."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            contexts = list(self._contexts.values())
        for ctx in contexts:
            ctx.cancelled.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
