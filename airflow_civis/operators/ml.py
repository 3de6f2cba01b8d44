"""CivisML: train a model and score data with it, launched the way the official clients launch it.

Both operators create a *custom script* from a CivisML template (found through its alias,
``civis-civisml-training`` / ``civis-civisml-prediction``, as ``civis.ml.ModelPipeline`` does), with the
template's argument names (``MODEL``, ``TARGET_COLUMN``, ``PRIMARY_KEY``, ``PARAMS``, ``CVPARAMS`` ...),
then run it through the shared run lifecycle. Results are read from the run's File outputs
(``metrics.json``, ``model_info.json``) exactly where the clients read them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

import requests

from airflow_civis import lineage
from airflow_civis.exceptions import CivisRunError
from airflow_civis.lineage import declare_table_outlets
from airflow_civis.ml_models import (
    ALIAS_OBJECT_TYPE,
    ALIAS_PREFIX,
    CALIBRATION_METHODS,
    IF_EXISTS_CHOICES,
    VALIDATION_DATA_CHOICES,
    prediction_template_accepts,
    training_template_accepts,
)
from airflow_civis.ml_models import (
    model_type as lookup_model_type,
)
from airflow_civis.operators.base import CivisRunOperatorBase
from airflow_civis.runs import RunRef
from airflow_civis.validation import check_bool, check_choice, check_int_id, check_table_name

_ALIAS_RE = (
    re.compile(r"\Acivis-civisml-(\w+)\Z"),  # production: civis-civisml-training
    re.compile(r"\Acivis-civisml-(\w+)-v(\d+)-(\d+)\Z"),  # civis-civisml-training-v2-3
    re.compile(r"\Acivis-civisml-(\w+)-(\S+[^-])\Z"),  # civis-civisml-training-dev
)


def _where(task_id: str) -> str:
    return f"Task {task_id!r}: "


def _names(field: str, value: Any, task_id: str, *, required: bool = False) -> list[str] | str | None:
    """A column name or list of them (templated strings pass through)."""
    if value is None or value == [] or value == "":
        if required:
            raise ValueError(f"{_where(task_id)}{field} is required: name the column(s) to use")
        return None
    if isinstance(value, str):
        return value if "{{" in value else value.split()
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) and v.strip() for v in value):
        return list(value)
    raise ValueError(f"{_where(task_id)}{field} must be a column name or a list of column names, got {value!r}")


def _positive_int(field: str, value: Any, task_id: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{_where(task_id)}{field} must be a positive integer, got {value!r}")
    return value


def _source(task_id: str, table_name: Any, file_id: Any) -> None:
    if (table_name is None) == (file_id is None):
        raise ValueError(
            f"{_where(task_id)}give exactly one data source: table_name ('schema.table') or file_id "
            "(a Civis file holding a CSV)"
        )
    if file_id is not None:
        check_int_id("file_id", file_id, task_id)
    if table_name is not None:
        check_table_name("table_name", table_name, task_id)


def parse_alias(alias: str) -> tuple[str, str | None] | None:
    """``("training", None)`` for the production alias, ``("prediction", "v2.3")`` for a versioned one."""
    prod, versioned, special = (r.search(alias) for r in _ALIAS_RE)
    if prod:
        return prod.group(1), None
    if versioned:
        return versioned.group(1), f"v{versioned.group(2)}.{versioned.group(3)}"
    if special:
        return special.group(1), special.group(2)
    return None


class _CivisMLBase(CivisRunOperatorBase):
    """Template lookup, database ids and reading JSON file outputs, shared by training and scoring."""

    def _civisml_templates(self) -> dict[str | None, dict[str, int]]:
        """Template ids by CivisML version (None = production): ``{None: {"training": 11, ...}}``."""
        found: dict[str | None, dict[str, int]] = {}
        for alias in self.hook.paginate("/aliases", {"object_type": ALIAS_OBJECT_TYPE}):
            name = str(alias.get("alias") or "")
            parsed = parse_alias(name) if name.startswith(ALIAS_PREFIX) else None
            if parsed:
                found.setdefault(parsed[1], {})[parsed[0]] = int(alias["objectId"])
        if not found:
            raise ValueError("No CivisML templates are visible to this API key (no civis-civisml-* aliases)")
        return found

    def _template_id(self, job_type: str, version: str | None) -> int:
        templates = self._civisml_templates()
        key = None if version in (None, "prod") else version
        if key not in templates or job_type not in templates[key]:
            versions = ", ".join(sorted(str(v or "prod") for v in templates))
            raise ValueError(f"No CivisML {job_type} template for version {version or 'prod'!r}; found: {versions}")
        return templates[key][job_type]

    def _database_argument(self, database_name: str | None, database_id: Any) -> dict[str, int]:
        if database_id is not None:
            return {"database": int(database_id)}
        databases = list(self.hook.call("GET", "/databases") or [])
        if database_name is not None:
            match = [db for db in databases if db.get("name") == database_name]
            if not match:
                names = ", ".join(repr(db.get("name")) for db in databases)
                raise ValueError(f"Task {self.task_id!r}: database {database_name!r} not found; databases: {names}")
            return {"database": int(match[0]["id"])}
        if len(databases) != 1:
            raise ValueError(f"Task {self.task_id!r}: name the database of table_name (database_name=)")
        return {"database": int(databases[0]["id"])}

    def _version_gated(self, values: dict[str, Any], template_id: int, accepts: Callable[[str, int], bool],
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
        ref = outputs.get(name)
        if not isinstance(ref, dict) or "file_id" not in ref:
            return None
        meta = self.hook.call("GET", f"/files/{int(ref['file_id'])}")
        url = meta.get("fileUrl") or meta.get("downloadUrl")
        if not url:
            raise ValueError(f"File {ref['file_id']} ({name}) has no download URL")
        base = self.hook.settings.base_url
        # Civis hands out pre-signed URLs (no API key); the emulator serves content under the API's own host.
        getter = self.hook.session.get if url.startswith(base) else requests.get
        response = getter(url, timeout=self.hook.settings.timeout)
        response.raise_for_status()
        return json.loads(response.content)


    def model_report(self, run: RunRef, what: str, outputs: dict[str, Any], name: str = "model_info.json",
                     *, required: bool = True) -> dict[str, Any] | None:
        """A CivisML JSON report of a succeeded run, unless it records an exception: CivisML catches model
        errors and lets the run succeed, so the task fails here, as ``civis.ml.ModelFuture`` raises
        ``ModelError`` (it checks ``model_info.json``, then for training ``metrics.json``)."""
        report = self.read_json_output(outputs, name)
        if not isinstance(report, dict):
            if required:
                raise self._model_error(run, what, f"the run has no {name} output (CivisML always writes one)")
            return None
        if _status(report) == "exception":
            trace = str((report.get("run") or {}).get("stack_trace") or "").strip()
            headline = next((line for line in reversed(trace.splitlines()) if line.strip()), "no stack trace")
            raise self._model_error(run, what, f"{headline.strip()} ({name})", trace)
        return report

    def _model_error(self, run: RunRef, what: str, problem: str, trace: str = "") -> CivisRunError:
        message = f"CivisML {what} job {run.job_id} run {run.run_id} failed: {problem}"
        if trace:
            message += "\nModel stack trace:\n" + "\n".join(f"    {line}" for line in trace.splitlines())
        return CivisRunError(message, state="exception", job_id=run.job_id, run_id=run.run_id,
                             log_tail=trace.splitlines()[-self.log_tail_lines:])


def _status(report: dict[str, Any]) -> Any:
    run = report.get("run")
    return run.get("status") if isinstance(run, dict) else None


class CivisMLTrainOperator(_CivisMLBase):
    """
    Train a CivisML model (a custom script from the ``civis-civisml-training`` template) and wait.

    The training job is created *visible* (``hidden`` left unset), unlike the provider's helper jobs:
    ``civis.ml.ModelPipeline.train`` does not hide it either, because the job is the model users find in
    Civis (``/models``) and score with later. Arguments the chosen CivisML version's template does not take
    (``validation_data``, ``n_jobs`` before v2.0) are left out with a warning, as ModelPipeline leaves them out.

    :param model_type: a CivisML workflow, e.g. ``sparse_logistic``, ``random_forest_regressor``
        (see :data:`airflow_civis.ml_models.MODEL_TYPES`).
    :param dependent_variable: the column to predict, or a list of columns (multi-target).
    :param table_name: training data in a table, ``schema.table`` (with ``database_name``/``database_id``;
        when neither is given and one database is visible, that one).
    :param file_id: training data in a Civis file holding a CSV (instead of ``table_name``).
    :param primary_key: unique id column; indexes the out-of-sample scores.
    :param excluded_columns: columns that may not be used as independent variables.
    :param parameters: parameters of the final estimator, e.g. ``{"C": 2}``.
    :param cross_validation_parameters: a grid, ``{"max_depth": [2, 3]}``, or ``"hyperband"``.
    :param calibration: ``sigmoid`` or ``isotonic`` (classifiers only).
    :param fit_params: fit-method parameter -> column, e.g. ``{"sample_weight": "weight"}``.
    :param oos_scores_table: also write the out-of-sample scores to this ``schema.table``.
    :param oos_scores_if_exists: fail, append, drop or truncate.
    :param model_name: prefix of the Civis job name (" Train" is appended).
    :param cpu_requested: CPU shares (1024 = one CPU); ``memory_requested`` in MiB; ``disk_requested`` in GB.
    :param sql_where: / ``sql_limit``: scope the rows of a training table.
    :param validation_data: ``train`` (cross-validate on the training data) or ``skip``.
    :param civisml_version: e.g. ``v2.3``; default the production version.

    Returns (XCom) ``{"job_id", "run_id", "state", "model_type", "dependent_variable", "metrics",
    "output_file_ids"}``; ``metrics`` is the ``metrics`` section of the run's ``metrics.json``. A model
    exception CivisML records in ``model_info.json`` or ``metrics.json`` fails the task (CivisRunError
    naming the job, the run and the model's error) even though the Civis run itself succeeded.
    """

    template_fields: Sequence[str] = (
        *CivisRunOperatorBase.template_fields, "table_name", "database_name", "file_id", "dependent_variable",
        "primary_key", "excluded_columns", "parameters", "cross_validation_parameters", "fit_params",
        "oos_scores_table", "model_name", "sql_where", "sql_limit",
    )
    template_fields_renderers = {"parameters": "json", "cross_validation_parameters": "json"}
    ui_color = "#a8d8b9"

    def __init__(
        self,
        *,
        model_type: str,
        dependent_variable: str | list[str],
        table_name: str | None = None,
        database_name: str | None = None,
        database_id: int | None = None,
        file_id: int | str | None = None,
        primary_key: str | None = None,
        excluded_columns: list[str] | None = None,
        parameters: dict[str, Any] | None = None,
        cross_validation_parameters: dict[str, list] | str | None = None,
        calibration: str | None = None,
        fit_params: dict[str, str] | None = None,
        oos_scores_table: str | None = None,
        oos_scores_if_exists: str = "fail",
        model_name: str | None = None,
        cpu_requested: int | None = None,
        memory_requested: int | None = None,
        disk_requested: int | None = None,
        sql_where: str | None = None,
        sql_limit: int | None = None,
        validation_data: str = "train",
        n_jobs: int | None = None,
        civisml_version: str | None = None,
        verbose: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        t = self.task_id
        try:
            spec = lookup_model_type(model_type)
        except ValueError as err:
            raise ValueError(f"{_where(t)}model_type: {err}") from None
        self.model_type = spec.name
        self.dependent_variable = _names("dependent_variable", dependent_variable, t, required=True)
        _source(t, table_name, file_id)
        self.table_name, self.file_id = table_name, file_id
        self.database_name, self.database_id = database_name, database_id
        self.primary_key = primary_key or None
        self.excluded_columns = _names("excluded_columns", excluded_columns, t)
        if isinstance(self.dependent_variable, list) and isinstance(self.excluded_columns, list):
            clash = sorted(set(self.dependent_variable) & set(self.excluded_columns))
            if clash:
                raise ValueError(f"{_where(t)}excluded_columns lists the dependent variable(s) {clash}")
        if parameters is not None and not isinstance(parameters, dict):
            raise ValueError(f"{_where(t)}parameters must be a mapping of estimator parameter to value")
        self.parameters = parameters
        self.cross_validation_parameters = self._check_cv(cross_validation_parameters, spec.hyperband)
        if calibration is not None:
            check_choice("calibration", calibration, CALIBRATION_METHODS, t)
            if spec.task != "classification":
                raise ValueError(f"{_where(t)}calibration is only valid with classification models, "
                                 f"and {spec.name} is a {spec.task} model")
        self.calibration = calibration
        if fit_params is not None and not isinstance(fit_params, dict):
            raise ValueError(f"{_where(t)}fit_params must map fit parameters to column names")
        self.fit_params = fit_params
        self.oos_scores_table = oos_scores_table
        self.oos_scores_if_exists = check_choice("oos_scores_if_exists", oos_scores_if_exists, IF_EXISTS_CHOICES, t)
        self.model_name = model_name
        self.cpu_requested = _positive_int("cpu_requested", cpu_requested, t)
        self.memory_requested = _positive_int("memory_requested", memory_requested, t)
        self.disk_requested = _positive_int("disk_requested", disk_requested, t)
        self.n_jobs = _positive_int("n_jobs", n_jobs, t)
        self.sql_where, self.sql_limit = sql_where, sql_limit
        self.validation_data = check_choice("validation_data", validation_data, VALIDATION_DATA_CHOICES, t)
        self.civisml_version = civisml_version
        self.verbose = check_bool("verbose", verbose, self.task_id)
        declare_table_outlets(self, database_name, [oos_scores_table])

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Training data (table or file) -> the model (and out-of-sample scores); None without OpenLineage."""
        return lineage.for_ml_train(self)

    def _check_cv(self, value: Any, hyperband: bool) -> Any:
        if value is None or value == {}:
            return None
        if value == "hyperband":
            if not hyperband:
                raise ValueError(f"{_where(self.task_id)}cross_validation_parameters='hyperband' is not "
                                 f"supported for {self.model_type} (GLMs cannot be tuned with hyperband)")
            return value
        if isinstance(value, str) and "{{" in value:
            return value
        if not isinstance(value, dict) or not all(isinstance(v, list) and v for v in value.values()):
            raise ValueError(f"{_where(self.task_id)}cross_validation_parameters must be 'hyperband' or a grid "
                             "mapping each parameter to a non-empty list of values")
        return value

    def arguments(self, template_id: int) -> dict[str, Any]:
        """The training template's arguments, named as ``civis.ml.ModelPipeline.train`` names them, and only
        those template ``template_id`` accepts (its CivisML version), as ``ModelPipeline.train`` decides."""
        dvs = self.dependent_variable
        args: dict[str, Any] = {
            "TABLE_NAME": self.table_name,
            "CIVIS_FILE_ID": None if self.file_id is None else int(self.file_id),
            "DEBUG": self.verbose,
            "MODEL": self.model_type,
            "TARGET_COLUMN": dvs if isinstance(dvs, str) else " ".join(dvs or []),
            "PRIMARY_KEY": self.primary_key,
            "PARAMS": json.dumps(self.parameters or {}),
            "CVPARAMS": json.dumps(self.cross_validation_parameters or {}),
            "CALIBRATION": self.calibration,
            "IF_EXISTS": self.oos_scores_if_exists,
        }
        optional = {
            "OOSTABLE": self.oos_scores_table, "WHERESQL": self.sql_where, "LIMITSQL": self.sql_limit,
            "REQUIRED_CPU": self.cpu_requested,
            "REQUIRED_MEMORY": self.memory_requested, "REQUIRED_DISK_SPACE": self.disk_requested,
        }
        args.update({k: v for k, v in optional.items() if v})
        if self.excluded_columns:
            excluded = self.excluded_columns
            args["EXCLUDE_COLS"] = excluded if isinstance(excluded, str) else " ".join(excluded)
        if self.fit_params:
            args["FIT_PARAMS"] = json.dumps(self.fit_params)
        gated = {"VALIDATION_DATA": self.validation_data, "N_JOBS": self.n_jobs}
        args.update(self._version_gated(gated, template_id, training_template_accepts, {"VALIDATION_DATA": "train"}))
        return args

    def start_run(self, context: Any) -> RunRef:
        template_id = self._template_id("training", self.civisml_version)
        args = self.arguments(template_id)
        if self.table_name is not None:
            args["DB"] = self._database_argument(self.database_name, self.database_id)
        name = f"{self.model_name or f'{self.dag_id}.{self.task_id}'} Train"
        script = self.hook.call("POST", "/scripts/custom", json={
            "fromTemplateId": template_id, "name": name, "arguments": args,
        })
        self.log.info("Created CivisML training job %s (%s, template %s)", script["id"], self.model_type, template_id)
        return self.hook.start_run("custom", int(script["id"]))

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


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
        return "[" + ", ".join(_fmt(float(v)) for v in value) + "]"
    return str(value)


def metrics_summary(model_type: str, metrics: dict[str, Any] | None) -> list[str]:
    """Readable lines: the headline metrics, then a confusion matrix for classifiers."""
    if not metrics:
        return [f"CivisML {model_type}: no validation metrics (validation skipped or not produced)"]
    headline = ("accuracy", "roc_auc", "log_loss", "brier_score", "r_squared", "rmse", "mae")
    shown = ", ".join(f"{k} {_fmt(metrics[k])}" for k in headline if metrics.get(k) is not None)
    lines = [f"CivisML {model_type} validation metrics: {shown or ', '.join(sorted(metrics))}"]
    matrix, labels = metrics.get("confusion_matrix"), metrics.get("class_names")
    if isinstance(matrix, list) and matrix and isinstance(matrix[0], list) and isinstance(labels, list):
        width = max(len(str(x)) for x in [*labels, *[c for row in matrix for c in row], "actual"]) + 1
        lines.append("confusion matrix (rows: actual, columns: predicted)")
        lines.append(" " * width + "".join(f"{str(label):>{width}}" for label in labels))
        for label, row in zip(labels, matrix):
            lines.append(f"{str(label):>{width}}" + "".join(f"{c:>{width}}" for c in row))
    return lines


class CivisMLPredictOperator(_CivisMLBase):
    """
    Score a table or a file with a trained CivisML model (``civis-civisml-prediction`` template).

    The prediction job is created *visible* (``hidden`` left unset), as ``civis.ml.ModelPipeline.predict``
    creates it: it is listed with the model (``/predictions``). The prediction template is the one of the
    model's CivisML version; settings it does not take (``cpu``/``memory``/``disk_space`` before v2.0,
    ``dvs_to_predict`` up to v2.1) are left out with a warning, as ModelPipeline leaves them out. A model
    exception CivisML records in ``model_info.json`` fails the task even though the Civis run succeeded.

    :param train_job_id: the training job's id, e.g. ``"{{ ti.xcom_pull(task_ids='train')['job_id'] }}"``.
    :param train_run_id: the training run to use; default the job's latest run.
    :param table_name: data to score, ``schema.table`` (``database_name``/``database_id`` as for training),
        or ``file_id``: a Civis file holding a CSV.
    :param primary_key: id column of the data; None (default) uses the training primary key, ``""`` none.
    :param output_table: write the scores to this ``schema.table``.
    :param if_output_exists: fail, append, drop or truncate, when ``output_table`` exists.
    :param dvs_to_predict: a subset of the model's dependent variables to score.
    :param cpu: / ``memory`` / ``disk_space``: resources of the scoring job.

    Returns (XCom) ``{"job_id", "run_id", "state", "train_job_id", "train_run_id", "output_table",
    "row_count", "output_file_ids"}``.
    """

    template_fields: Sequence[str] = (
        *CivisRunOperatorBase.template_fields, "train_job_id", "train_run_id", "table_name", "database_name",
        "file_id", "primary_key", "output_table", "sql_where", "sql_limit", "dvs_to_predict", "model_name",
    )
    ui_color = "#a8d8b9"

    def __init__(
        self,
        *,
        train_job_id: int | str,
        train_run_id: int | str | None = None,
        table_name: str | None = None,
        database_name: str | None = None,
        database_id: int | None = None,
        file_id: int | str | None = None,
        primary_key: str | None = None,
        output_table: str | None = None,
        if_output_exists: str = "fail",
        sql_where: str | None = None,
        sql_limit: int | None = None,
        dvs_to_predict: list[str] | str | None = None,
        cpu: int | None = None,
        memory: int | None = None,
        disk_space: float | None = None,
        n_jobs: int | None = None,
        model_name: str | None = None,
        verbose: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        t = self.task_id
        self.train_job_id = check_int_id("train_job_id", train_job_id, t)
        self.train_run_id = None if train_run_id is None else check_int_id("train_run_id", train_run_id, t)
        _source(t, table_name, file_id)
        self.table_name, self.file_id = table_name, file_id
        self.database_name, self.database_id = database_name, database_id
        self.primary_key = primary_key
        self.output_table = output_table
        self.if_output_exists = check_choice("if_output_exists", if_output_exists, IF_EXISTS_CHOICES, t)
        self.sql_where, self.sql_limit = sql_where, sql_limit
        self.dvs_to_predict = _names("dvs_to_predict", dvs_to_predict, t)
        self.cpu = _positive_int("cpu", cpu, t)
        self.memory = _positive_int("memory", memory, t)
        if disk_space is not None and (isinstance(disk_space, bool) or not isinstance(disk_space, (int, float))
                                       or disk_space <= 0):
            raise ValueError(f"{_where(t)}disk_space must be a positive number of GB, got {disk_space!r}")
        self.disk_space = disk_space
        self.n_jobs = _positive_int("n_jobs", n_jobs, t)
        self.model_name = model_name
        self.verbose = check_bool("verbose", verbose, self.task_id)
        declare_table_outlets(self, database_name, [output_table])

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

    def _prediction_template(self, training_template_id: int) -> int:
        for ids in self._civisml_templates().values():
            if training_template_id in (ids.get("training"), ids.get("registration")) and ids.get("prediction"):
                return ids["prediction"]
        raise ValueError(f"Template {training_template_id} is not a CivisML training template")

    def arguments(self, template_id: int, train_job: int, train_run: int, primary_key: str | None) -> dict[str, Any]:
        """The prediction template's arguments as ``civis.ml.ModelPipeline.predict`` sends them, and only
        those template ``template_id`` accepts (its CivisML version)."""
        args: dict[str, Any] = {
            "TABLE_NAME": self.table_name,
            "CIVIS_FILE_ID": None if self.file_id is None else int(self.file_id),
            "DEBUG": self.verbose,
            "TRAIN_JOB": train_job, "TRAIN_RUN": train_run, "PRIMARY_KEY": primary_key,
            "IF_EXISTS": self.if_output_exists,
        }
        optional = {
            "OUTPUT_TABLE": self.output_table, "WHERESQL": self.sql_where, "LIMITSQL": self.sql_limit,
            "N_JOBS": self.n_jobs,
        }
        args.update({k: v for k, v in optional.items() if v})
        dvs = self.dvs_to_predict
        gated = {"CPU": self.cpu, "MEMORY": self.memory, "DISK_SPACE": self.disk_space,
                 "TARGET_COLUMN": dvs if isinstance(dvs, str) or not dvs else " ".join(dvs)}
        args.update(self._version_gated(gated, template_id, prediction_template_accepts))
        return args

    def start_run(self, context: Any) -> RunRef:
        script, job_id, run_id = self._training()
        template_id = self._prediction_template(int(script.get("fromTemplateId") or 0))
        train_args = script.get("arguments") or {}
        primary_key = train_args.get("PRIMARY_KEY") if self.primary_key is None else (self.primary_key or None)
        args = self.arguments(template_id, job_id, run_id, primary_key)
        if self.table_name is not None:
            args["DB"] = self._database_argument(self.database_name, self.database_id)
        trained = (script.get("name") or "").removesuffix(" Train")
        base_name = self.model_name or trained or f"{self.dag_id}.{self.task_id}"
        created = self.hook.call("POST", "/scripts/custom", json={
            "fromTemplateId": template_id, "name": f"{base_name} Predict", "arguments": args,
        })
        self.log.info("Created CivisML prediction job %s with model %s run %s", created["id"], job_id, run_id)
        self._train_ids = (job_id, run_id)
        return self.hook.start_run("custom", int(created["id"]))

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
