"""Wait for a Civis run that something else started (another DAG, a schedule on the platform)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_civis.runs import validate_kind
from airflow_civis.sensors.base import CivisRunSensorBase
from airflow_civis.validation import check_int_id


class CivisRunSensor(CivisRunSensorBase):
    """
    Succeed when a Civis run succeeds; fail when it fails or is cancelled.

    :param job_id: the job (templated).
    :param run_id: the run; None watches the job's latest run (templated).
    :param kind: ``job`` or a specific kind (``python3``...).
    :param deferrable: wait in the triggerer (default True).

    ``civis_conn_id`` and ``poke_interval`` as for every run sensor (:class:`CivisRunSensorBase`).
    """

    template_fields: Sequence[str] = ("civis_conn_id", "job_id", "run_id")
    id_fields = ("job_id", "run_id")
    nouns = ("Job", "runs")

    def __init__(self, *, job_id: int | str, run_id: int | str | None = None, kind: str = "job",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_id = check_int_id("job_id", job_id, self.task_id)
        self.run_id = None if run_id is None else check_int_id("run_id", run_id, self.task_id)
        try:
            self.kind = validate_kind(kind)
        except ValueError as err:
            raise ValueError(f"Task {self.task_id!r}: kind: {err}") from None

    def latest_run_id(self, job_id: int) -> int | None:
        last = (self.hook.get_job(job_id) or {}).get("lastRun") or {}
        return int(last["id"]) if last.get("id") else None
