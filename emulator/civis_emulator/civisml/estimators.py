"""The scikit-learn estimator behind each CivisML workflow, as the CivisML documentation describes it.

Every pipeline starts like CivisML's ETL: numeric columns imputed with their mean, other columns
imputed with their most frequent value and one-hot encoded (unseen categories ignored). Then the
workflow's estimator with CivisML's altered defaults and ``random_state=42``; ``n_jobs=1`` throughout.

Differences from the platform, stated plainly (also written into ``model_info.json``):

* the ``sparse_*`` workflows skip CivisML's glmnet LASSO feature-selection step (features are
  standardised, then the final estimator is fit on all of them);
* ``multilayer_perceptron_*`` use scikit-learn's MLP instead of ``muffnn`` (TensorFlow);
* ``stacking_*`` use scikit-learn's ``StackingClassifier``/``StackingRegressor`` over the
  gradient-boosting and random-forest workflows plus an L2 GLM, with ``LogisticRegressionCV`` /
  ``LinearRegression(positive=True)`` as the meta-estimator;
* ``"hyperband"`` tuning is not emulated: the workflow's defaults are used (a log line says so).
"""

from __future__ import annotations

from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
    StackingClassifier,
    StackingRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, LogisticRegressionCV, Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from .catalogue import MODEL_TYPES

RANDOM_STATE = 42
FINAL_STEP = "est"
DIFFERENCES = {
    "sparse_logistic": "glmnet LASSO feature selection not emulated; standardised features, all kept",
    "sparse_linear_regressor": "glmnet LASSO feature selection not emulated; standardised features, all kept",
    "sparse_ridge_regressor": "glmnet LASSO feature selection not emulated; standardised features, all kept",
    "multilayer_perceptron_classifier": "scikit-learn MLPClassifier stands in for muffnn.MLPClassifier",
    "multilayer_perceptron_regressor": "scikit-learn MLPRegressor stands in for muffnn.MLPRegressor",
    "stacking_classifier": "scikit-learn StackingClassifier (GBT, random forest, L2 logistic; LogisticRegressionCV)",
    "stacking_regressor": "scikit-learn StackingRegressor (GBT, random forest, Ridge; non-negative least squares)",
}


def _defaults(name: str) -> dict[str, Any]:
    return dict(MODEL_TYPES[name].defaults)


def _gbt_clf() -> Any:
    return GradientBoostingClassifier(random_state=RANDOM_STATE, **_defaults("gradient_boosting_classifier"))


def _rf_clf() -> Any:
    return RandomForestClassifier(random_state=RANDOM_STATE, n_jobs=1, **_defaults("random_forest_classifier"))


def _gbt_reg() -> Any:
    return GradientBoostingRegressor(random_state=RANDOM_STATE, **_defaults("gradient_boosting_regressor"))


def _rf_reg() -> Any:
    return RandomForestRegressor(random_state=RANDOM_STATE, n_jobs=1, **_defaults("random_forest_regressor"))


def final_estimator(name: str) -> Any:
    """The workflow's estimator with CivisML's defaults (unfitted)."""
    if name == "sparse_logistic":
        return LogisticRegression(random_state=RANDOM_STATE, max_iter=10000, **_defaults(name))
    if name == "gradient_boosting_classifier":
        return _gbt_clf()
    if name == "random_forest_classifier":
        return _rf_clf()
    if name == "extra_trees_classifier":
        return ExtraTreesClassifier(random_state=RANDOM_STATE, n_jobs=1, **_defaults(name))
    if name == "multilayer_perceptron_classifier":
        return MLPClassifier(random_state=RANDOM_STATE, max_iter=1000)
    if name == "stacking_classifier":
        return StackingClassifier(
            [("gradient_boosting_classifier", _gbt_clf()), ("random_forest_classifier", _rf_clf()),
             ("logistic", LogisticRegression(max_iter=10000, tol=1e-5))],
            final_estimator=LogisticRegressionCV(tol=1e-08, max_iter=10000), cv=4, n_jobs=1,
        )
    if name == "sparse_linear_regressor":
        return LinearRegression()
    if name == "sparse_ridge_regressor":
        return Ridge(random_state=RANDOM_STATE)
    if name == "gradient_boosting_regressor":
        return _gbt_reg()
    if name == "random_forest_regressor":
        return _rf_reg()
    if name == "extra_trees_regressor":
        return ExtraTreesRegressor(random_state=RANDOM_STATE, n_jobs=1, **_defaults(name))
    if name == "multilayer_perceptron_regressor":
        return MLPRegressor(random_state=RANDOM_STATE, max_iter=2000)
    if name == "stacking_regressor":
        return StackingRegressor(
            [("gradient_boosting_regressor", _gbt_reg()), ("random_forest_regressor", _rf_reg()),
             ("ridge", Ridge(random_state=RANDOM_STATE))],
            final_estimator=LinearRegression(positive=True), cv=4, n_jobs=1,
        )
    raise ValueError(f"unknown CivisML model type {name!r}")


def build_pipeline(name: str, numeric: list[str], categorical: list[str], parameters: dict[str, Any]) -> Pipeline:
    """ETL (impute, one-hot) + optional scaling + the workflow's estimator with ``parameters`` set."""
    estimator = final_estimator(name)
    if parameters:
        try:
            estimator.set_params(**parameters)
        except ValueError as exc:
            raise ValueError(f"PARAMS do not fit {type(estimator).__name__}: {exc}") from None
    transformers = []
    if numeric:
        transformers.append(("numeric", SimpleImputer(strategy="mean"), numeric))
    if categorical:
        transformers.append(("categorical", make_pipeline(
            SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore", sparse_output=False),
        ), categorical))
    steps: list[tuple[str, Any]] = [("etl", ColumnTransformer(transformers))]
    if name.startswith(("sparse_", "multilayer_perceptron_", "stacking_")):
        steps.append(("scale", StandardScaler()))
    steps.append((FINAL_STEP, estimator))
    return Pipeline(steps)
