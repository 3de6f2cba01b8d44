"""The CivisML catalogue as Civis Platform has it: workflows (model types) and template aliases.

The emulator's own copy, so that it installs without the provider. ``airflow_civis/ml_models.py``
holds the provider's (for parse-time validation); tests/unit/emulator/test_emulator_stands_alone.py
checks that the two say the same.
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

#: The template aliases the official clients look up (``GET /aliases?object_type=template_script``).
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
