"""The CivisML catalogue: workflows (model types), template aliases and argument choices. Pure data.

Used by the operators' parse-time validation. The emulator keeps its own copy (it installs without the
provider): ``emulator/civisml/catalogue.py``, checked equal by a unit test. Nothing here imports scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelType:
    """One predefined CivisML workflow (``civis_ml(model_type=...)`` in R, ``ModelPipeline(model=...)``)."""

    name: str
    task: str  # "classification" or "regression"
    algorithm: str  # the estimator CivisML documents for it
    hyperband: bool  # whether cross_validation_parameters="hyperband" is supported
    defaults: tuple[tuple[str, object], ...] = ()  # CivisML's altered defaults (all also use random_state=42)


_TREES = (("n_estimators", 500),)
_GBT = (("n_estimators", 500), ("max_depth", 2))

#: Every workflow the CivisML documentation lists, classifiers first (CIVIS_ML_CLASSIFIERS/REGRESSORS in R).
MODEL_TYPES: dict[str, ModelType] = {
    m.name: m
    for m in (
        ModelType("sparse_logistic", "classification", "LogisticRegression", False,
                  (("C", 499999950.0), ("tol", 1e-08))),
        ModelType("gradient_boosting_classifier", "classification", "GradientBoostingClassifier", True, _GBT),
        ModelType("random_forest_classifier", "classification", "RandomForestClassifier", True, _TREES),
        ModelType("extra_trees_classifier", "classification", "ExtraTreesClassifier", True, _TREES),
        ModelType("multilayer_perceptron_classifier", "classification", "MLPClassifier", True),
        ModelType("stacking_classifier", "classification", "StackedClassifier", True),
        ModelType("sparse_linear_regressor", "regression", "LinearRegression", False),
        ModelType("sparse_ridge_regressor", "regression", "Ridge", False),
        ModelType("gradient_boosting_regressor", "regression", "GradientBoostingRegressor", True, _GBT),
        ModelType("random_forest_regressor", "regression", "RandomForestRegressor", True, _TREES),
        ModelType("extra_trees_regressor", "regression", "ExtraTreesRegressor", True, _TREES),
        ModelType("multilayer_perceptron_regressor", "regression", "MLPRegressor", True),
        ModelType("stacking_regressor", "regression", "StackedRegressor", True),
    )
}
CLASSIFIERS = tuple(name for name, m in MODEL_TYPES.items() if m.task == "classification")
REGRESSORS = tuple(name for name, m in MODEL_TYPES.items() if m.task == "regression")

CALIBRATION_METHODS = ("sigmoid", "isotonic")
IF_EXISTS_CHOICES = ("fail", "append", "drop", "truncate")
VALIDATION_DATA_CHOICES = ("train", "skip")

#: The template aliases the official clients look up (``GET /aliases?object_type=template_script``).
ALIAS_PREFIX = "civis-civisml-"
TEMPLATE_ALIASES = {
    "training": "civis-civisml-training",
    "prediction": "civis-civisml-prediction",
    "registration": "civis-civisml-registration",
}
ALIAS_OBJECT_TYPE = "template_script"


def alias_for(job_type: str, version: str | None = None) -> str:
    """``civis-civisml-training`` (production) or ``civis-civisml-training-v2-3`` for version "v2.3"."""
    base = TEMPLATE_ALIASES[job_type]
    if not version or version == "prod":
        return base
    return f"{base}-{version.replace('.', '-')}"


def model_type(name: str) -> ModelType:
    """The workflow called ``name``; ``ValueError`` listing the ones there are."""
    try:
        return MODEL_TYPES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown CivisML model type {name!r}; use one of: {', '.join(MODEL_TYPES)}"
        ) from None


#: Template ids at which CivisML templates gained arguments, with civis-python's own comparisons
#: (``civis/ml/_model.py``): ``train_template_id >= 9968`` (v2.0) for VALIDATION_DATA and N_JOBS,
#: ``predict_template_id >= 9969`` (v2.0) for CPU, MEMORY and DISK_SPACE, and
#: ``predict_template_id > 10583`` (10583 is v2.1; v2.2 added it) for TARGET_COLUMN.
FIRST_V2_TRAINING_TEMPLATE = 9968
FIRST_V2_PREDICTION_TEMPLATE = 9969
LAST_PREDICTION_TEMPLATE_WITHOUT_TARGET_COLUMN = 10583


def training_template_accepts(argument: str, template_id: int) -> bool:
    """Whether training template ``template_id`` takes ``argument`` (only version-gated names can be False)."""
    if argument in ("VALIDATION_DATA", "N_JOBS"):
        return template_id >= FIRST_V2_TRAINING_TEMPLATE
    return True


def prediction_template_accepts(argument: str, template_id: int) -> bool:
    """Whether prediction template ``template_id`` takes ``argument`` (only version-gated names can be False)."""
    if argument in ("CPU", "MEMORY", "DISK_SPACE"):
        return template_id >= FIRST_V2_PREDICTION_TEMPLATE
    if argument == "TARGET_COLUMN":
        return template_id > LAST_PREDICTION_TEMPLATE_WITHOUT_TARGET_COLUMN
    return True
