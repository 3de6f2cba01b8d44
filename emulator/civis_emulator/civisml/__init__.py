"""Emulated CivisML: the training/prediction templates (with their ``civis-civisml-*`` aliases) and the
programs behind them, which fit and apply real scikit-learn estimators on the emulator's warehouse.

scikit-learn is an extra of the emulator (``airflow-civis[emulator]``): it is imported only when a
CivisML run starts, so the emulator still serves everything else without it.
"""

from __future__ import annotations

from ..runners.scripts import register_builtin_program
from ..runs import RunContext, RunFailed
from .seed import civisml_template_ids, seed_civisml


def _needs_sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise RunFailed("CivisML needs scikit-learn in the emulator: pip install 'airflow-civis[emulator]'") from None


def _training(ctx: RunContext, arguments: dict) -> None:
    _needs_sklearn()
    from .training import run_training

    run_training(ctx, arguments)


def _prediction(ctx: RunContext, arguments: dict) -> None:
    _needs_sklearn()
    from .prediction import run_prediction

    run_prediction(ctx, arguments)


register_builtin_program("civisml-training", _training)
register_builtin_program("civisml-prediction", _prediction)

__all__ = ["civisml_template_ids", "seed_civisml"]
