"""Validation metrics from out-of-sample predictions, in CivisML's ``metrics.json`` vocabulary."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm


def _f(value: Any) -> float | None:
    value = float(value)
    return None if np.isnan(value) else round(value, 6)


def classification_metrics(y: np.ndarray, proba: np.ndarray, classes: list) -> dict[str, Any]:
    """Accuracy, ROC AUC, log loss, Brier score (binary), confusion matrix, per-class counts."""
    predicted = np.asarray(classes)[proba.argmax(axis=1)]
    y_obj = np.asarray(y)
    out: dict[str, Any] = {
        "n_classes": len(classes),
        "class_names": [str(c) for c in classes],
        "accuracy": _f(skm.accuracy_score(y_obj, predicted)),
        "confusion_matrix": skm.confusion_matrix(y_obj, predicted, labels=list(classes)).tolist(),
        "log_loss": _f(skm.log_loss(y_obj, proba, labels=list(classes))),
        "n_rows": len(y),
    }
    if len(classes) == 2:
        positive = y_obj == classes[1]
        out["pos_class"] = str(classes[1])
        out["roc_auc"] = _f(skm.roc_auc_score(positive, proba[:, 1])) if 0 < positive.sum() < len(y) else None
        out["brier_score"] = _f(skm.brier_score_loss(positive, proba[:, 1]))
    else:
        try:
            out["roc_auc"] = _f(skm.roc_auc_score(y_obj, proba, multi_class="ovr", labels=list(classes)))
        except ValueError:
            out["roc_auc"] = None
        out["roc_auc_per_class"] = [
            _f(skm.roc_auc_score(y_obj == c, proba[:, i])) if 0 < (y_obj == c).sum() < len(y) else None
            for i, c in enumerate(classes)
        ]
    return out


def regression_metrics(y: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """R², RMSE, MAE, MSE, Pearson r."""
    mse = skm.mean_squared_error(y, predicted)
    pearson = np.corrcoef(y, predicted)[0, 1] if np.std(y) > 0 and np.std(predicted) > 0 else float("nan")
    return {
        "r_squared": _f(skm.r2_score(y, predicted)), "rmse": _f(np.sqrt(mse)), "mse": _f(mse),
        "mae": _f(skm.mean_absolute_error(y, predicted)), "pearson_r": _f(pearson), "n_rows": len(y),
    }


def score_columns(dv: str, predicted: np.ndarray, class_names: list[str] | None) -> pd.DataFrame:
    """Score columns as CivisML names them: ``<dv>_<class>`` probabilities, or ``<dv>`` for regression."""
    if class_names is None:
        return pd.DataFrame({dv: np.round(np.asarray(predicted, dtype=float), 10)})
    return pd.DataFrame({f"{dv}_{c}": np.round(predicted[:, i], 10) for i, c in enumerate(class_names)})
