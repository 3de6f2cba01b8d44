"""CivisMLPredictOperator: score data with a trained CivisML model as ``civis.ml.ModelPipeline.predict`` does.

A custom script from the prediction template of the model's CivisML version, with ``TRAIN_JOB``,
``TRAIN_RUN`` and the data's arguments; the result comes from the run's ``model_info.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_civis import lineage
from airflow_civis.job_resources import JobResourcesMixin
from airflow_civis.lineage import declare_table_outlets
from airflow_civis.ml_models import IF_EXISTS_CHOICES, prediction_template_accepts
from airflow_civis.operators.ml.base import CivisMLOperatorBase, set_only
from airflow_civis.operators.ml.templates import prediction_template_for
from airflow_civis.operators.ml.validation import column_names, joined
from airflow_civis.runs import RunRef
from airflow_civis.validation import check_choice, check_int_id


class CivisMLPredictOperator(JobResourcesMixin, CivisMLOperatorBase):
    """
    Score a table or a file with a trained CivisML model (``civis-civisml-prediction`` template).

    The prediction job is created *visible* (``hidden`` left unset), as ``civis.ml.ModelPipeline.predict``
    creates it: it is listed with the model (``/predictions``). The prediction template is the one of the
    model's CivisML version; settings it does not take (``cpu``/``memory``/``disk_space`` before v2.0,
    ``dvs_to_predict`` up to v2.1) are left out with a warning, as ModelPipeline leaves them out. A model
    exception CivisML records in ``model_info.json`` fails the task even though the Civis run succeeded.

    :param train_job_id: the training job's id, e.g. ``"{{ ti.xcom_pull(task_ids='train')['job_id'] }}"``.
    :param train_run_id: the training run to use; default the job's latest run.
    :param table_name: data to score, ``schema.table``, or ``file_id``: a Civis file holding a CSV; with
        ``database_name``/``database_id``, ``sql_where``/``sql_limit``, ``n_jobs``, ``model_name`` and
        ``verbose`` as for every CivisML operator (:class:`CivisMLOperatorBase`).
    :param primary_key: id column of the data; None (default) uses the training primary key, ``""`` none.
    :param output_table: write the scores to this ``schema.table``.
    :param if_output_exists: fail, append, drop or truncate, when ``output_table`` exists.
    :param dvs_to_predict: a subset of the model's dependent variables to score.
    :param cpu: / ``memory`` / ``disk_space``: resources of the scoring job
        (:class:`~airflow_civis.job_resources.JobResourcesMixin`).

    Returns (XCom) ``{"job_id", "run_id", "state", "train_job_id", "train_run_id", "output_table",
    "row_count", "output_file_ids"}``.
    """

    template_fields: Sequence[str] = (
        *CivisMLOperatorBase.template_fields, "train_job_id", "train_run_id", "primary_key", "output_table",
        "dvs_to_predict",
    )

    def __init__(
        self,
        *,
        train_job_id: int | str,
        train_run_id: int | str | None = None,
        primary_key: str | None = None,
        output_table: str | None = None,
        if_output_exists: str = "fail",
        dvs_to_predict: list[str] | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        t = self.task_id
        self.train_job_id = check_int_id("train_job_id", train_job_id, t)
        self.train_run_id = None if train_run_id is None else check_int_id("train_run_id", train_run_id, t)
        self.primary_key = primary_key
        self.output_table = output_table
        self.if_output_exists = check_choice("if_output_exists", if_output_exists, IF_EXISTS_CHOICES, t)
        self.dvs_to_predict = column_names("dvs_to_predict", dvs_to_predict, t)
        declare_table_outlets(self, self.database_name, [output_table])

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The model and the data scored -> the scores table (or files); None without OpenLineage."""
        return lineage.for_ml_predict(self)

    def _training(self) -> tuple[dict[str, Any], int, int]:
        job_id = int(check_int_id("train_job_id", self.train_job_id, self.task_id))
        script = self.hook.call("GET", f"/scripts/custom/{job_id}")
        if self.train_run_id is not None:
            return script, job_id, int(self.train_run_id)
        last = script.get("lastRun") or {}
        if not last.get("id"):
            raise ValueError(f"Task {self.task_id!r}: training job {job_id} has no run to predict with")
        return script, job_id, int(last["id"])

    def arguments(self, template_id: int, train_job: int, train_run: int, primary_key: str | None) -> dict[str, Any]:
        """The prediction template's arguments as ``civis.ml.ModelPipeline.predict`` sends them, and only
        those template ``template_id`` accepts (its CivisML version)."""
        args = self.data_arguments()
        args.update({"TRAIN_JOB": train_job, "TRAIN_RUN": train_run, "PRIMARY_KEY": primary_key,
                     "IF_EXISTS": self.if_output_exists})
        args.update(set_only({"OUTPUT_TABLE": self.output_table, "N_JOBS": self.n_jobs}))
        gated = {"CPU": self.cpu, "MEMORY": self.memory, "DISK_SPACE": self.disk_space,
                 "TARGET_COLUMN": joined(self.dvs_to_predict)}
        args.update(self.version_gated(gated, template_id, prediction_template_accepts))
        return args

    def start_run(self, context: Any) -> RunRef:
        script, job_id, run_id = self._training()
        template_id = prediction_template_for(self.templates(), int(script.get("fromTemplateId") or 0))
        train_args = script.get("arguments") or {}
        primary_key = train_args.get("PRIMARY_KEY") if self.primary_key is None else (self.primary_key or None)
        trained = (script.get("name") or "").removesuffix(" Train")
        created = self.create_script(template_id, self.job_name("Predict", trained),
                                     self.arguments(template_id, job_id, run_id, primary_key))
        self.log.info("Created CivisML prediction job %s with model %s run %s", created, job_id, run_id)
        self._train_ids = (job_id, run_id)
        return self.hook.start_run("custom", created)

    def build_result(self, context: Any, run: RunRef, details: dict[str, Any], outputs: dict[str, Any]) -> Any:
        info = self.model_report(run, "prediction", outputs) or {}
        train_job, train_run = getattr(self, "_train_ids", (None, None))
        result = {
            "job_id": run.job_id, "run_id": run.run_id, "state": details.get("state"),
            "train_job_id": info.get("train_job_id", train_job), "train_run_id": info.get("train_run_id", train_run),
            "output_table": info.get("output_table", self.output_table), "row_count": info.get("n_rows"),
            "output_file_ids": info.get("output_file_ids") or [],
        }
        self.log.info("Scored %s rows%s", result["row_count"],
                      f" into {result['output_table']}" if result["output_table"] else "")
        return result
