"""What a Civis run is, once: which kinds of job exist, where their runs live, which states end them.

Every operator, the trigger and the sensor speak in :class:`RunRef` (plain data, so it can cross into
the triggerer and into XCom), and ask it (or :data:`RUN_ROUTES`) for the URL of each call on a run.

Not every kind has every per-run route in the API spec, so each kind says where each call goes:

* generic imports (``/imports``) start with ``POST /imports/{id}/runs``, which answers
  ``{"runId": N}``; the spec has no GET or DELETE of one import run, so polling, cancelling and logs
  go through ``/jobs/{id}/runs/{run_id}`` as civis-python's ``run_job`` / ``CivisFuture`` do;
* outputs are read from ``GET /jobs/{id}/runs/{run_id}/outputs`` for every kind, as
  ``CivisFuture.outputs`` does: CSV imports and queries have no outputs route of their own, and one
  place for all kinds means a new kind cannot pick a route that does not exist.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

from airflow_civis.exceptions import CivisAPIError


class CivisRunState(str, Enum):
    """A run's (or workflow execution's) ``state`` as the API sends it. A ``str``: compares equal to the
    API's strings, so ``details["state"] == CivisRunState.SUCCEEDED`` and ``"queued" in ACTIVE_STATES``
    both hold."""

    QUEUED = "queued"
    RUNNING = "running"
    #: Only workflow executions pause (waiting for ``/resume``): not finished, so still active.
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def active(cls) -> frozenset[CivisRunState]:
        return frozenset({cls.QUEUED, cls.RUNNING, cls.PAUSED})

    @classmethod
    def terminal(cls) -> frozenset[CivisRunState]:
        return frozenset(set(cls) - cls.active())


#: The API's strings of the states above (plain ``str``, so they serialise and print as the API's).
ACTIVE_STATES = frozenset(state.value for state in CivisRunState.active())
TERMINAL_STATES = frozenset(state.value for state in CivisRunState.terminal())
#: States that mean success: civis-python (``civis.base.FINISHED``) also accepts ``"success"``.
SUCCESS_STATES = frozenset({CivisRunState.SUCCEEDED.value, "success"})

#: Script kinds that live under ``/scripts/<kind>`` (the seeds' ``post_<kind>_runs`` family).
SCRIPT_KINDS = ("containers", "python3", "r", "sql", "javascript", "custom")

_JOBS = "/jobs/{job_id}/runs"


@dataclass(frozen=True)
class RunRoutes:
    """Path templates (``{job_id}``, ``{run_id}``) of every call the provider makes on one kind's runs."""

    start: str  #: POST: start a run (also what a start's error path ends with: ``/runs``)
    run: str  #: GET to poll (and DELETE to cancel, unless ``cancel`` says otherwise)
    logs: str | None  #: GET, paged by ``last_id`` (None: the kind has no logs of its own, e.g. workflows)
    outputs: str | None  #: GET, paged by ``limit``/``page_num`` (None: no outputs route)
    run_id_field: str = "id"  #: where the POST's answer carries the new run's id
    cancel: tuple[str, str] | None = None  #: (method, path template) when cancelling is not DELETE ``run``

    @property
    def cancel_call(self) -> tuple[str, str]:
        return self.cancel or ("DELETE", self.run)

    def calls(self) -> tuple[tuple[str, str], ...]:
        """Every (method, path template) these routes stand for (the spec audit checks each one)."""
        optional = tuple(("GET", path) for path in (self.logs, self.outputs) if path is not None)
        return (("POST", self.start), ("GET", self.run), self.cancel_call, *optional)


def _own(collection: str, *, logs_via_jobs: bool = False, run_via_jobs: bool = False,
         run_id_field: str = "id") -> RunRoutes:
    run = (_JOBS if run_via_jobs else collection) + "/{run_id}"
    logs = (_JOBS + "/{run_id}" if logs_via_jobs else run) + "/logs"
    return RunRoutes(start=collection, run=run, logs=logs, outputs=_JOBS + "/{run_id}/outputs",
                     run_id_field=run_id_field)


#: Routes by job kind. ``job`` is the generic ``/jobs`` view that works for every kind.
RUN_ROUTES: dict[str, RunRoutes] = {
    "job": _own(_JOBS),
    **{kind: _own(f"/scripts/{kind}/{{job_id}}/runs") for kind in SCRIPT_KINDS},
    "import": _own("/imports/{job_id}/runs", run_via_jobs=True, logs_via_jobs=True, run_id_field="runId"),
    "import_csv": _own("/imports/files/csv/{job_id}/runs"),
    "export_csv": _own("/exports/files/csv/{job_id}/runs"),
    "query": _own("/queries/{job_id}/runs"),
    "geocode": _own("/enhancements/geocode/{job_id}/runs"),
    "cass_ncoa": _own("/enhancements/cass-ncoa/{job_id}/runs"),
    # A workflow's "runs" are its executions (job_id: the workflow, run_id: the execution). They have no
    # logs or outputs of their own (each task's job runs do), and GET /jobs never lists them.
    "workflow": RunRoutes(start="/workflows/{job_id}/executions", run="/workflows/{job_id}/executions/{run_id}",
                          logs=None, outputs=None,
                          cancel=("POST", "/workflows/{job_id}/executions/{run_id}/cancel")),
}

#: Kinds whose runs ``GET /jobs`` never lists (the trigger polls them one by one).
UNLISTED_KINDS = frozenset({"workflow"})

#: Kinds of *job* an operator or sensor may name (a workflow is not a job: it has its own operator and sensor).
JOB_KINDS = tuple(kind for kind in RUN_ROUTES if kind not in UNLISTED_KINDS)


def validate_kind(kind: str) -> str:
    """Return ``kind`` or raise ``ValueError`` listing the kinds there are."""
    if kind not in JOB_KINDS:
        raise ValueError(f"Unknown Civis job kind {kind!r}; use one of: {', '.join(JOB_KINDS)}")
    return kind


def routes(kind: str) -> RunRoutes:
    return RUN_ROUTES[kind] if kind in UNLISTED_KINDS else RUN_ROUTES[validate_kind(kind)]


def runs_path(kind: str, job_id: int, run_id: int | None = None) -> str:
    """Where to start a run (``/scripts/python3/7/runs``) or, with ``run_id``, to poll and cancel it."""
    r = routes(kind)
    if run_id is None:
        return r.start.format(job_id=int(job_id))
    return r.run.format(job_id=int(job_id), run_id=int(run_id))


def started_run_id(kind: str, answer: Any) -> int:
    """The new run's id from the start POST's answer (``{"id"}``, or ``{"runId"}`` for generic imports)."""
    field = routes(kind).run_id_field
    if not isinstance(answer, dict) or answer.get(field) is None:
        raise ValueError(f"the answer to starting a {kind} run has no {field!r}: {answer!r}")
    return int(answer[field])


#: Statuses with which the API may refuse a cancel because the run already finished (civis-python's
#: ``CivisFuture.cancel`` reads 404 so); the hooks believe it only once they see the run finished.
CANCEL_REFUSALS = frozenset({404, 409, 422})


def refused_cancel(ref: RunRef, err: CivisAPIError, state: str | None) -> CivisAPIError | None:
    """None if ``state`` (read after the refusal) explains it; else the error to raise instead.

    Any state that is not active explains it, including one this provider does not know (civis-python
    also accepts ``"success"``): the run has ended either way.
    """
    if state is not None and state not in ACTIVE_STATES:  # a CivisRunState or the API's string alike
        return None
    return CivisAPIError(err.method, err.path, err.status,
                         f"{err.api_message} (cancel of {ref} refused while it is still {state or 'unknown'})")


@dataclass(frozen=True)
class RunRef:
    """Identity of one run: enough to poll, cancel, read logs and outputs, from any process."""

    kind: str
    job_id: int
    run_id: int

    def __post_init__(self) -> None:
        routes(self.kind)

    def _fill(self, template: str | None) -> str:
        if template is None:
            raise ValueError(f"{self} has no such route: {self.kind} runs have no logs or outputs of their own")
        return template.format(job_id=int(self.job_id), run_id=int(self.run_id))

    @property
    def path(self) -> str:
        """GET to poll the run, DELETE to cancel it."""
        return self._fill(routes(self.kind).run)

    @property
    def cancel_request(self) -> tuple[str, str]:
        """(method, path) that cancels the run: ``DELETE`` of :attr:`path` for every kind that has one."""
        method, template = routes(self.kind).cancel_call
        return method, self._fill(template)

    @property
    def logs_path(self) -> str:
        return self._fill(routes(self.kind).logs)

    @property
    def outputs_path(self) -> str:
        return self._fill(routes(self.kind).outputs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRef:
        return cls(kind=str(data["kind"]), job_id=int(data["job_id"]), run_id=int(data["run_id"]))

    def __str__(self) -> str:
        if self.kind == "workflow":
            return f"workflow {self.job_id} execution {self.run_id}"
        return f"{self.kind} job {self.job_id} run {self.run_id}"
