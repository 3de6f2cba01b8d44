"""Readable task-log lines for CivisML validation metrics."""

from __future__ import annotations

from typing import Any

_HEADLINE = ("accuracy", "roc_auc", "log_loss", "brier_score", "r_squared", "rmse", "mae")


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
    shown = ", ".join(f"{k} {_fmt(metrics[k])}" for k in _HEADLINE if metrics.get(k) is not None)
    lines = [f"CivisML {model_type} validation metrics: {shown or ', '.join(sorted(metrics))}"]
    matrix, labels = metrics.get("confusion_matrix"), metrics.get("class_names")
    if isinstance(matrix, list) and matrix and isinstance(matrix[0], list) and isinstance(labels, list):
        width = max(len(str(x)) for x in [*labels, *[c for row in matrix for c in row], "actual"]) + 1
        lines.append("confusion matrix (rows: actual, columns: predicted)")
        lines.append(" " * width + "".join(f"{str(label):>{width}}" for label in labels))
        for label, row in zip(labels, matrix):
            lines.append(f"{str(label):>{width}}" + "".join(f"{c:>{width}}" for c in row))
    return lines
