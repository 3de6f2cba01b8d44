"""What a Civis run is, once: which kinds of job exist, where their runs live, which states end them.

Every operator, the trigger and the sensor speak in :class:`RunRef` (plain data, so it can cross into
the triggerer and into XCom), and ask :func:`runs_path` for the URL of a run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ACTIVE_STATES = frozenset({"queued", "running"})
TERMINAL_STATES = frozenset({"succeeded", "failed", "cancelled"})

#: Script kinds that live under ``/scripts/<kind>`` (the seeds' ``post_<kind>_runs`` family).
SCRIPT_KINDS = ("containers", "python3", "r", "sql", "javascript", "custom")

#: Run collections by job kind. ``job`` is the generic ``/jobs`` view that works for every kind.
_RUN_COLLECTIONS: dict[str, str] = {
    "job": "/jobs/{job_id}/runs",
    **{kind: f"/scripts/{kind}/{{job_id}}/runs" for kind in SCRIPT_KINDS},
    "import": "/imports/{job_id}/runs",
    "import_csv": "/imports/files/csv/{job_id}/runs",
    "export_csv": "/exports/files/csv/{job_id}/runs",
    "query": "/queries/{job_id}/runs",
    "geocode": "/enhancements/geocode/{job_id}/runs",
    "cass_ncoa": "/enhancements/cass-ncoa/{job_id}/runs",
}

JOB_KINDS = tuple(_RUN_COLLECTIONS)


def validate_kind(kind: str) -> str:
    """Return ``kind`` or raise ``ValueError`` listing the kinds there are."""
    if kind not in _RUN_COLLECTIONS:
        raise ValueError(f"Unknown Civis job kind {kind!r}; use one of: {', '.join(JOB_KINDS)}")
    return kind


def runs_path(kind: str, job_id: int, run_id: int | None = None) -> str:
    """``/scripts/python3/7/runs`` or ``/scripts/python3/7/runs/12``."""
    base = _RUN_COLLECTIONS[validate_kind(kind)].format(job_id=int(job_id))
    return base if run_id is None else f"{base}/{int(run_id)}"


@dataclass(frozen=True)
class RunRef:
    """Identity of one run: enough to poll, cancel, read logs and outputs, from any process."""

    kind: str
    job_id: int
    run_id: int

    def __post_init__(self) -> None:
        validate_kind(self.kind)

    @property
    def path(self) -> str:
        return runs_path(self.kind, self.job_id, self.run_id)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRef:
        return cls(kind=str(data["kind"]), job_id=int(data["job_id"]), run_id=int(data["run_id"]))

    def __str__(self) -> str:
        return f"{self.kind} job {self.job_id} run {self.run_id}"
