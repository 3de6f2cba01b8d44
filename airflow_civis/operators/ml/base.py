"""What training and scoring share: the data and its arguments, the CivisML templates, the custom script
created from one, version-gated arguments and the run's JSON reports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from airflow_civis.job_resources import positive_int
from airflow_civis.operators.base import CivisRunOperatorBase
from airflow_civis.operators.ml import reports
from airflow_civis.operators.ml.templates import Templates, civisml_templates
from airflow_civis.operators.ml.validation import one_source
from airflow_civis.resolve import resolve_database
from airflow_civis.runs import RunRef
from airflow_civis.validation import check_bool


class CivisMLOperatorBase(CivisRunOperatorBase):
    """
    Base of the CivisML operators: each creates a visible custom script from a CivisML template (as
    ``civis.ml.ModelPipeline`` does; the job is the model or its scoring) and reads CivisML's reports.

    What both take, as ``ModelPipeline.train`` and ``.predict`` take it:

    :param table_name: the data, ``schema.table`` (with ``database_name``/``database_id``; when neither is
        given and one database is visible, that one); or ``file_id``: a Civis file holding a CSV.
    :param sql_where: / ``sql_limit``: scope the rows of a table.
    :param n_jobs: how many jobs CivisML runs at once.
    :param model_name: prefix of the Civis job name (" Train" or " Predict" is appended).
    :param verbose: CivisML's debug logging (``DEBUG``).
    """

    template_fields: Sequence[str] = (
        *CivisRunOperatorBase.template_fields, "table_name", "database_name", "file_id", "sql_where", "sql_limit",
        "model_name",
    )
    ui_color = "#a8d8b9"

    def __init__(
        self,
        *,
        table_name: str | None = None,
        database_name: str | None = None,
        database_id: int | None = None,
        file_id: int | str | None = None,
        sql_where: str | None = None,
        sql_limit: int | None = None,
        n_jobs: int | None = None,
        model_name: str | None = None,
        verbose: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        one_source(self.task_id, table_name, file_id)
        self.table_name, self.file_id = table_name, file_id
        self.database_name, self.database_id = database_name, database_id
        self.sql_where, self.sql_limit = sql_where, sql_limit
        self.n_jobs = positive_int("n_jobs", n_jobs, self.task_id)
        self.model_name = model_name
        self.verbose = check_bool("verbose", verbose, self.task_id)

    def templates(self) -> Templates:
        return civisml_templates(self.hook)

    def data_arguments(self) -> dict[str, Any]:
        """The data's arguments, as civis-python sends them to every CivisML template: ``TABLE_NAME`` or
        ``CIVIS_FILE_ID``, ``DEBUG``, and the row scope (``WHERESQL``/``LIMITSQL``) when set. ``DB`` is added
        when the script is created (:meth:`create_script`): naming the database may take API calls."""
        args: dict[str, Any] = {
            "TABLE_NAME": self.table_name,
            "CIVIS_FILE_ID": None if self.file_id is None else int(self.file_id),
            "DEBUG": self.verbose,
        }
        args.update(set_only({"WHERESQL": self.sql_where, "LIMITSQL": self.sql_limit}))
        return args

    def database_argument(self, database_name: str | None, database_id: Any) -> dict[str, int]:
        """``{"database": id}`` for the ``DB`` argument: by id, by name (as every operator resolves one), or
        the only database there is."""
        if database_id is not None:
            return {"database": resolve_database(self.hook, database_id, argument="database_id")}
        return {"database": resolve_database(self.hook, database_name, argument="database_name")}

    def job_name(self, suffix: str, default: str = "") -> str:
        """``<model_name> <suffix>``, else ``<default> <suffix>``, else ``<dag_id>.<task_id> <suffix>``."""
        return f"{self.model_name or default or f'{self.dag_id}.{self.task_id}'} {suffix}"

    def create_script(self, template_id: int, name: str, args: dict[str, Any]) -> int:
        """Create the custom script from ``template_id`` (visible, as ModelPipeline creates it), with the
        ``DB`` argument for a table; its id."""
        if self.table_name is not None:
            args = {**args, "DB": self.database_argument(self.database_name, self.database_id)}
        created = self.hook.call("POST", "/scripts/custom", json={
            "fromTemplateId": template_id, "name": name, "arguments": args,
        })
        return int(created["id"])

    def version_gated(self, values: dict[str, Any], template_id: int, accepts: Callable[[str, int], bool],
                      harmless: dict[str, Any] | None = None) -> dict[str, Any]:
        """The set ``values`` the template's CivisML version accepts; the rest are left out, as civis-python
        leaves them out, with a warning unless the value is what that version does anyway."""
        kept = {}
        for name, value in set_only(values).items():
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


def set_only(values: dict[str, Any]) -> dict[str, Any]:
    """The arguments that are set: civis-python sends an optional argument only when it is truthy."""
    return {name: value for name, value in values.items() if value}
