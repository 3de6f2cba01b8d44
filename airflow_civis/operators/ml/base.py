"""What training and scoring share: the CivisML templates, the database argument, version-gated
arguments and the run's JSON reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_civis.operators.base import CivisRunOperatorBase
from airflow_civis.operators.ml import reports
from airflow_civis.operators.ml.templates import Templates, civisml_templates
from airflow_civis.resolve import resolve_database
from airflow_civis.runs import RunRef


class CivisMLOperatorBase(CivisRunOperatorBase):
    """Base of the CivisML operators: each creates a visible custom script from a CivisML template (as
    ``civis.ml.ModelPipeline`` does; the job is the model or its scoring) and reads CivisML's reports."""

    def templates(self) -> Templates:
        return civisml_templates(self.hook)

    def database_argument(self, database_name: str | None, database_id: Any) -> dict[str, int]:
        """``{"database": id}`` for the ``DB`` argument: by id, by name (as every operator resolves one), or
        the only database there is."""
        if database_id is not None:
            return {"database": resolve_database(self.hook, database_id, argument="database_id")}
        return {"database": resolve_database(self.hook, database_name, argument="database_name")}

    def version_gated(self, values: dict[str, Any], template_id: int, accepts: Callable[[str, int], bool],
                      harmless: dict[str, Any] | None = None) -> dict[str, Any]:
        """The set ``values`` the template's CivisML version accepts; the rest are left out, as civis-python
        leaves them out, with a warning unless the value is what that version does anyway."""
        kept = {}
        for name, value in values.items():
            if not value:
                continue
            if accepts(name, template_id):
                kept[name] = value
            elif (harmless or {}).get(name) != value:
                self.log.warning("CivisML template %s (an older CivisML version) has no %s argument: %s=%r is "
                                 "not sent; choose a newer civisml_version to use it", template_id, name, name, value)
        return kept

    def read_json_output(self, outputs: dict[str, Any], name: str) -> Any:
        """The JSON content of a File run output (``metrics.json``), or None if the run has none."""
        return reports.read_json_output(self.hook, outputs, name)

    def model_report(self, run: RunRef, what: str, outputs: dict[str, Any], name: str = "model_info.json",
                     *, required: bool = True) -> dict[str, Any] | None:
        """A CivisML report of a succeeded run; a model exception recorded in it fails the task."""
        report = self.read_json_output(outputs, name)
        return reports.checked_report(report, run, what, name, required=required, tail_lines=self.log_tail_lines)
