"""Run an existing Civis job (any kind) by id and wait for it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_civis.operators.base import CivisRunOperatorBase
from airflow_civis.runs import RunRef, validate_kind
from airflow_civis.validation import check_int_id


class CivisRunJobOperator(CivisRunOperatorBase):
    """
    Start a run of an existing job or script and wait for it (the R client's ``await``).

    :param job_id: the job's id (templated, e.g. from another task's XCom).
    :param kind: ``job`` (generic ``/jobs/{id}/runs``, works for every kind) or a specific kind such as
        ``python3``, ``containers``, ``import_csv``.
    """

    template_fields: Sequence[str] = (*CivisRunOperatorBase.template_fields, "job_id")

    def __init__(self, *, job_id: int | str, kind: str = "job", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_id = check_int_id("job_id", job_id, self.task_id)
        try:
            self.kind = validate_kind(kind)
        except ValueError as err:
            raise ValueError(f"Task {self.task_id!r}: kind: {err}") from None

    def start_run(self, context: Any) -> RunRef:
        return self.hook.start_run(self.kind, int(check_int_id("job_id", self.job_id, self.task_id)))
