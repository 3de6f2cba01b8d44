"""CivisMLTrainOperator: train a CivisML model as ``civis.ml.ModelPipeline.train`` does.

A custom script from the training template (found through its ``civis-civisml-training`` alias) with the
template's argument names (``MODEL``, ``TARGET_COLUMN``, ``PRIMARY_KEY``, ``PARAMS``, ``CVPARAMS`` ...),
run through the shared run lifecycle; metrics come from the run's ``metrics.json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from airflow_civis import lineage
from airflow_civis.job_resources import check_job_resources
from airflow_civis.lineage import declare_table_outlets
from airflow_civis.ml_models import (
    CALIBRATION_METHODS,
    IF_EXISTS_CHOICES,
    VALIDATION_DATA_CHOICES,
    training_template_accepts,
)
from airflow_civis.ml_models import model_type as lookup_model_type
from airflow_civis.operators.ml.base import CivisMLOperatorBase, set_only
from airflow_civis.operators.ml.metrics import metrics_summary
from airflow_civis.operators.ml.templates import template_id as lookup_template
from airflow_civis.operators.ml.validation import column_names, joined, where
from airflow_civis.runs import RunRef
from airflow_civis.validation import check_choice


class CivisMLTrainOperator(CivisMLOperatorBase):
    """
    Train a CivisML model (a custom script from the ``civis-civisml-training`` template) and wait.

    The training job is created *visible* (``hidden`` left unset), unlike the provider's helper jobs:
    ``civis.ml.ModelPipeline.train`` does not hide it either, because the job is the model users find in
    Civis (``/models``) and score with later. Arguments the chosen CivisML version's template does not take
    (``validation_data``, ``n_jobs`` before v2.0) are left out with a warning, as ModelPipeline leaves them out.

    :param model_type: a CivisML workflow, e.g. ``sparse_logistic``, ``random_forest_regressor``
        (see :data:`airflow_civis.ml_models.MODEL_TYPES`).
    :param civisml_version: of CivisML, e.g. ``v2.3``; default the production version. It picks the training
        template, and with it which arguments are sent.
    :param dependent_variable: the column to predict, or a list of columns (multi-target).
    :param table_name: training data in a table, ``schema.table``, or ``file_id``: in a Civis file holding a
        CSV; with ``database_name``/``database_id``, ``sql_where``/``sql_limit``, ``n_jobs``, ``model_name``
        and ``verbose`` as for every CivisML operator (:class:`CivisMLOperatorBase`).
    :param primary_key: unique id column; indexes the out-of-sample scores.
    :param excluded_columns: columns that may not be used as independent variables.
    :param parameters: parameters of the final estimator, e.g. ``{"C": 2}``.
    :param cross_validation_parameters: a grid, ``{"max_depth": [2, 3]}``, or ``"hyperband"``.
    :param calibration: ``sigmoid`` or ``isotonic`` (classifiers only).
    :param fit_params: fit-method parameter -> column, e.g. ``{"sample_weight": "weight"}``.
    :param oos_scores_table: also write the out-of-sample scores to this ``schema.table``.
    :param oos_scores_if_exists: fail, append, drop or truncate.
    :param cpu_requested: CPU shares (1024 = one CPU); ``memory_requested`` in MiB; ``disk_requested`` in GB.
    :param validation_data: ``train`` (cross-validate on the training data) or ``skip``.

    Returns (XCom) ``{"job_id", "run_id", "state", "model_type", "dependent_variable", "metrics",
    "output_file_ids"}``; ``metrics`` is the ``metrics`` section of the run's ``metrics.json``. A model
    exception CivisML records in ``model_info.json`` or ``metrics.json`` fails the task (CivisRunError
    naming the job, the run and the model's error) even though the Civis run itself succeeded.
    """

    template_fields: Sequence[str] = (
        *CivisMLOperatorBase.template_fields, "dependent_variable", "primary_key", "excluded_columns",
        "parameters", "cross_validation_parameters", "fit_params", "oos_scores_table",
    )
    template_fields_renderers = {"parameters": "json", "cross_validation_parameters": "json"}

    def __init__(
        self,
        *,
        model_type: str,
        civisml_version: str | None = None,
        dependent_variable: str | list[str],
        primary_key: str | None = None,
        excluded_columns: list[str] | None = None,
        parameters: dict[str, Any] | None = None,
        cross_validation_parameters: dict[str, list] | str | None = None,
        calibration: str | None = None,
        fit_params: dict[str, str] | None = None,
        oos_scores_table: str | None = None,
        oos_scores_if_exists: str = "fail",
        cpu_requested: int | None = None,
        memory_requested: int | None = None,
        disk_requested: float | None = None,
        validation_data: str = "train",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        t = self.task_id
        try:
            spec = lookup_model_type(model_type)
        except ValueError as err:
            raise ValueError(f"{where(t)}model_type: {err}") from None
        self.model_type = spec.name
        self.dependent_variable = column_names("dependent_variable", dependent_variable, t, required=True)
        self.primary_key = primary_key or None
        self.excluded_columns = column_names("excluded_columns", excluded_columns, t)
        if isinstance(self.dependent_variable, list) and isinstance(self.excluded_columns, list):
            clash = sorted(set(self.dependent_variable) & set(self.excluded_columns))
            if clash:
                raise ValueError(f"{where(t)}excluded_columns lists the dependent variable(s) {clash}")
        if parameters is not None and not isinstance(parameters, dict):
            raise ValueError(f"{where(t)}parameters must be a mapping of estimator parameter to value")
        self.parameters = parameters
        self.cross_validation_parameters = self._check_cv(cross_validation_parameters, spec.hyperband)
        if calibration is not None:
            check_choice("calibration", calibration, CALIBRATION_METHODS, t)
            if spec.task != "classification":
                raise ValueError(f"{where(t)}calibration is only valid with classification models, "
                                 f"and {spec.name} is a {spec.task} model")
        self.calibration = calibration
        if fit_params is not None and not isinstance(fit_params, dict):
            raise ValueError(f"{where(t)}fit_params must map fit parameters to column names")
        self.fit_params = fit_params
        self.oos_scores_table = oos_scores_table
        self.oos_scores_if_exists = check_choice("oos_scores_if_exists", oos_scores_if_exists, IF_EXISTS_CHOICES, t)
        self.cpu_requested, self.memory_requested, self.disk_requested = check_job_resources(
            t, cpu_requested, memory_requested, disk_requested, ("cpu_requested", "memory_requested", "disk_requested"))
        self.validation_data = check_choice("validation_data", validation_data, VALIDATION_DATA_CHOICES, t)
        self.civisml_version = civisml_version
        declare_table_outlets(self, self.database_name, [oos_scores_table])

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Training data (table or file) -> the model (and out-of-sample scores); None without OpenLineage."""
        return lineage.for_ml_train(self)

    def _check_cv(self, value: Any, hyperband: bool) -> Any:
        if value is None or value == {}:
            return None
        if value == "hyperband":
            if not hyperband:
                raise ValueError(f"{where(self.task_id)}cross_validation_parameters='hyperband' is not "
                                 f"supported for {self.model_type} (GLMs cannot be tuned with hyperband)")
            return value
        if isinstance(value, str) and "{{" in value:
            return value
        if not isinstance(value, dict) or not all(isinstance(v, list) and v for v in value.values()):
            raise ValueError(f"{where(self.task_id)}cross_validation_parameters must be 'hyperband' or a grid "
                             "mapping each parameter to a non-empty list of values")
        return value

    def arguments(self, template_id: int) -> dict[str, Any]:
        """The training template's arguments, named as ``civis.ml.ModelPipeline.train`` names them, and only
        those template ``template_id`` accepts (its CivisML version), as ``ModelPipeline.train`` decides."""
        args = self.data_arguments()
        args.update({
            "MODEL": self.model_type,
            "TARGET_COLUMN": joined(self.dependent_variable) or "",
            "PRIMARY_KEY": self.primary_key,
            "PARAMS": json.dumps(self.parameters or {}),
            "CVPARAMS": json.dumps(self.cross_validation_parameters or {}),
            "CALIBRATION": self.calibration,
            "IF_EXISTS": self.oos_scores_if_exists,
        })
        args.update(set_only({
            "OOSTABLE": self.oos_scores_table, "REQUIRED_CPU": self.cpu_requested,
            "REQUIRED_MEMORY": self.memory_requested, "REQUIRED_DISK_SPACE": self.disk_requested,
            "EXCLUDE_COLS": joined(self.excluded_columns),
            "FIT_PARAMS": json.dumps(self.fit_params) if self.fit_params else None,
        }))
        gated = {"VALIDATION_DATA": self.validation_data, "N_JOBS": self.n_jobs}
        args.update(self.version_gated(gated, template_id, training_template_accepts, {"VALIDATION_DATA": "train"}))
        return args

    def start_run(self, context: Any) -> RunRef:
        template_id = lookup_template(self.templates(), "training", self.civisml_version)
        created = self.create_script(template_id, self.job_name("Train"), self.arguments(template_id))
        self.log.info("Created CivisML training job %s (%s, template %s)", created, self.model_type, template_id)
        return self.hook.start_run("custom", created)

    def build_result(self, context: Any, run: RunRef, details: dict[str, Any], outputs: dict[str, Any]) -> Any:
        self.model_report(run, "training", outputs)
        validation = self.model_report(run, "training", outputs, "metrics.json", required=False) or {}
        metrics = validation.get("metrics")
        for line in metrics_summary(self.model_type, metrics):
            self.log.info("%s", line)
        dvs = self.dependent_variable
        return {
            "job_id": run.job_id, "run_id": run.run_id, "state": details.get("state"),
            "model_type": self.model_type, "dependent_variable": dvs.split() if isinstance(dvs, str) else dvs,
            "metrics": metrics,
            "output_file_ids": {k: v["file_id"] for k, v in outputs.items() if isinstance(v, dict) and "file_id" in v},
        }
