"""The emulated CivisML training program: fit the workflow's scikit-learn estimator on warehouse data.

Arguments are the training template's (``MODEL``, ``TARGET_COLUMN``, ``PRIMARY_KEY``, ``EXCLUDE_COLS``,
``PARAMS``, ``CVPARAMS``, ``CALIBRATION``, ``OOSTABLE``, ``IF_EXISTS``, ``VALIDATION_DATA`` ...). Run
outputs are the files the official clients read: ``estimator.pkl`` (joblib), ``model_info.json``,
``metrics.json`` and ``predictions.csv.gz`` (out-of-sample scores). Deterministic: fixed folds and
``random_state=42`` everywhere.
"""

from __future__ import annotations

import io
import json
import traceback
import warnings
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_predict

from ..common import now_iso
from ..runs import RunContext, RunFailed
from .catalogue import MODEL_TYPES
from .data import add_file_output, add_json_file_output, csv_gz, read_source, write_table
from .estimators import DIFFERENCES, FINAL_STEP, RANDOM_STATE, build_pipeline
from .metrics import classification_metrics, regression_metrics, score_columns

N_FOLDS = 4


def _json_arg(args: dict, name: str) -> Any:
    raw = args.get(name)
    if raw in (None, ""):
        return {}
    if isinstance(raw, (dict, list)):
        return raw
    if raw == "hyperband":
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        if name == "CVPARAMS" and str(raw).strip('"') == "hyperband":
            return "hyperband"
        raise RunFailed(f"{name} must be JSON, got {raw!r}") from None


def _words(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    return list(value) if isinstance(value, list) else str(value).split()


def folds(task: str, y: pd.Series) -> Any:
    if task == "classification":
        smallest = int(y.value_counts().min())
        if smallest < 2:
            raise RunFailed(f"Class {y.value_counts().idxmin()!r} of {y.name} has only {smallest} row: "
                            "cross-validation needs at least 2 rows per class")
        return StratifiedKFold(n_splits=min(N_FOLDS, smallest), shuffle=True, random_state=RANDOM_STATE)
    if len(y) < 2:
        raise RunFailed("Too few rows to train on")
    return KFold(n_splits=min(N_FOLDS, len(y)), shuffle=True, random_state=RANDOM_STATE)


class Trainer:
    def __init__(self, ctx: RunContext, args: dict):
        self.ctx, self.args = ctx, args
        self.info: dict[str, Any] = {
            "run": {"status": "running", "stack_trace": None, "time_start": now_iso(), "source": "civis-emulator",
                    "configuration": {"data": {}, "estimator": {}}},
            "data": {}, "model": {}, "metrics": {}, "warnings": [], "data_platform": {},
        }

    def log(self, message: str, level: str = "info") -> None:
        self.ctx.log(message, level)

    def run(self) -> None:
        """Bad arguments or data the program checks itself fail the run; anything the model code raises
        (scikit-learn refusing the data, say) is caught as CivisML catches it: the run *succeeds* and
        ``model_info.json`` says ``"status": "exception"`` with the stack trace, which the clients read."""
        try:
            self._train()
        except RunFailed as exc:
            self._report_exception(str(exc))
            raise
        except Exception as exc:  # noqa: BLE001 - CivisML reports every model failure in model_info.json
            self._report_exception(str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}")

    def _report_exception(self, message: str) -> None:
        self.info["run"].update(status="exception", stack_trace=traceback.format_exc(), time_end=now_iso())
        self.log(f"CivisML training failed: {message}", "error")
        add_json_file_output(self.ctx, "model_info.json", self.info)

    def _train(self) -> None:
        args = self.args
        name = args.get("MODEL") or args.get("WORKFLOW")
        if name not in MODEL_TYPES:
            raise RunFailed(f"MODEL {name!r} is not a CivisML model type; use one of: {', '.join(MODEL_TYPES)}")
        spec = MODEL_TYPES[name]
        dvs = _words(args.get("TARGET_COLUMN"))
        if not dvs:
            raise RunFailed("TARGET_COLUMN is required: name the dependent variable(s)")
        pk = args.get("PRIMARY_KEY") or None
        excluded = _words(args.get("EXCLUDE_COLS"))
        params, cv_params = _json_arg(args, "PARAMS"), _json_arg(args, "CVPARAMS")
        fit_params = _json_arg(args, "FIT_PARAMS")
        calibration = args.get("CALIBRATION") or None
        if calibration and spec.task != "classification":
            raise RunFailed(f"CALIBRATION is only valid for classification models, not {name}")
        frame, location = read_source(self.ctx, args)
        self.log(f"CivisML (emulated) {name}: read {len(frame)} rows x {len(frame.columns)} columns from {location}")
        missing = [c for c in [*dvs, *([pk] if pk else []), *fit_params.values()] if c not in frame.columns]
        if missing:
            raise RunFailed(f"Column(s) {missing} not found in {location}; its columns are {list(frame.columns)}")
        frame = frame.dropna(subset=dvs).reset_index(drop=True)
        skip = set(dvs) | set(excluded) | set(fit_params.values()) | ({pk} if pk else set())
        features = [c for c in frame.columns if c not in skip]
        if not features:
            raise RunFailed("No independent variables left after excluding the target, key and excluded columns")
        for col in features:
            if frame[col].dtype == bool:
                frame[col] = frame[col].astype(float)
        numeric = [c for c in features if pd.api.types.is_numeric_dtype(frame[c])]
        categorical = [c for c in features if c not in numeric]
        self.info["run"]["configuration"] = {
            "data": {"primary_key": pk, "location": location, "y": dvs, "excluded_columns": excluded,
                     "table_name": args.get("TABLE_NAME"), "civis_file_id": args.get("CIVIS_FILE_ID")},
            "estimator": {"model": name, "params": params, "cv_params": cv_params, "calibration": calibration},
        }
        self.info["data"] = {"n_rows": len(frame), "n_cols": len(features), "column_names_read": list(frame.columns),
                             "column_names_used": features, "categorical_columns": categorical, "target_columns": dvs}
        self.info["model"] = {"model_type": name, "task": spec.task, "algorithm": spec.algorithm,
                              "emulation_note": DIFFERENCES.get(name), "per_target": {}}
        self.info["data_platform"] = {"table_name": args.get("TABLE_NAME"), "database": args.get("DB")}
        if cv_params == "hyperband":
            self.log("hyperband tuning is not emulated: fitting the workflow's defaults", "warn")
            cv_params = {}
        validate = (args.get("VALIDATION_DATA") or "train") != "skip"
        estimators, per_dv_metrics = {}, []
        oos = pd.DataFrame({pk: frame[pk]}) if pk else pd.DataFrame(index=frame.index)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for dv in dvs:
                if self.ctx.cancelled.is_set():
                    return
                fitted, metrics, scores = self._fit_one(name, spec.task, frame, dv, features, numeric, categorical,
                                                        params, cv_params, calibration, fit_params, validate)
                estimators[dv] = fitted
                if validate:
                    per_dv_metrics.append(metrics)
                    oos = pd.concat([oos, scores], axis=1)
        self.info["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught})[:20]
        for warning in self.info["warnings"]:
            self.log(warning, "warn")
        if self.ctx.cancelled.is_set():
            return
        self._write_outputs(name, dvs, estimators, per_dv_metrics, oos, pk, validate)

    def _fit_one(self, name, task, frame, dv, features, numeric, categorical, params, cv_params, calibration,
                 fit_params, validate):
        X, y = frame[features], frame[dv]
        if task == "classification":
            y = y.astype(str) if y.dtype == object else y
        elif not pd.api.types.is_numeric_dtype(y):
            raise RunFailed(f"{name} is a regression model but {dv} is not numeric")
        cv = folds(task, y)
        model: Any = build_pipeline(name, numeric, categorical, params)
        fit_kwargs = {f"{FINAL_STEP}__{p}": frame[col].to_numpy() for p, col in fit_params.items()}
        details: dict[str, Any] = {}
        if cv_params:
            grid = {f"{FINAL_STEP}__{k}": v for k, v in cv_params.items()}
            scoring = ("roc_auc" if y.nunique() == 2 else "accuracy") if task == "classification" else "r2"
            search = GridSearchCV(model, grid, cv=cv, scoring=scoring, n_jobs=1, refit=True)
            search.fit(X, y, **fit_kwargs)
            model = clone(search.best_estimator_)
            details["best_params"] = {k.split("__", 1)[1]: v for k, v in search.best_params_.items()}
            details["cv_results"] = {"scoring": scoring, "params": [{k.split("__", 1)[1]: v for k, v in p.items()}
                                     for p in search.cv_results_["params"]],
                                     "mean_test_score": [float(s) for s in search.cv_results_["mean_test_score"]]}
            self.log(f"grid search over {len(details['cv_results']['params'])} candidates ({scoring}): "
                     f"best {details['best_params']} = {search.best_score_:.4f}")
        if calibration:
            model = CalibratedClassifierCV(model, method=calibration, cv=cv)
            fit_kwargs = {}
        metrics, scores = None, None
        if validate:
            method = "predict_proba" if task == "classification" else "predict"
            predicted = cross_val_predict(model, X, y, cv=cv, method=method, params=fit_kwargs or None)
            if task == "classification":
                classes = sorted(y.unique().tolist())
                metrics = classification_metrics(y.to_numpy(), np.asarray(predicted), classes)
            else:
                metrics = regression_metrics(y.to_numpy(dtype=float), np.asarray(predicted, dtype=float))
            scores = score_columns(dv, np.asarray(predicted), metrics.get("class_names"))
        model.fit(X, y, **fit_kwargs)
        final = model.estimator if calibration else model
        params_used = final.named_steps[FINAL_STEP].get_params(deep=False)
        plain = (int, float, str, bool, type(None))
        details["parameters"] = {k: v for k, v in params_used.items() if isinstance(v, plain)}
        self.info["model"]["per_target"][dv] = details
        return model, metrics, scores

    def _write_outputs(self, name, dvs, estimators, per_dv_metrics, oos, pk, validate) -> None:
        buffer = io.BytesIO()
        joblib.dump(estimators[dvs[0]] if len(dvs) == 1 else estimators, buffer, compress=3)
        add_file_output(self.ctx, "estimator.pkl", buffer.getvalue())
        metrics: dict[str, Any] = {}
        if validate:
            if len(dvs) == 1:
                metrics = per_dv_metrics[0]
            else:
                metrics = {k: [m.get(k) for m in per_dv_metrics] for k in per_dv_metrics[0]}
            add_file_output(self.ctx, "predictions.csv.gz", csv_gz(oos, index=False))
            oos_table = self.args.get("OOSTABLE")
            if oos_table:
                write_table(self.ctx, oos, oos_table, self.args.get("IF_EXISTS") or "fail")
                self.log(f"wrote {len(oos)} out-of-sample scores to {oos_table}")
        self.info["run"].update(status="succeeded", time_end=now_iso())
        add_json_file_output(self.ctx, "model_info.json", self.info)
        if validate:
            add_json_file_output(self.ctx, "metrics.json", {**self.info, "metrics": metrics})
        headline = {k: metrics[k] for k in ("accuracy", "roc_auc", "r_squared", "rmse") if metrics.get(k) is not None}
        self.log(f"trained {name} on {self.info['data']['n_rows']} rows; validation metrics: "
                 + (json.dumps(headline) if validate else "skipped"))
        self.ctx.state.store.put("civisml_builds", {
            "id": self.ctx.run_id, "jobId": self.ctx.job_id, "modelType": name, "dependentVariable": dvs,
            "primaryKey": pk, "tableName": self.args.get("TABLE_NAME"), "createdAt": now_iso(),
            "excludedColumns": self.info["run"]["configuration"]["data"]["excluded_columns"],
            "rocAuc": _first(metrics.get("roc_auc")), "rSquaredError": _first(metrics.get("r_squared")),
            "rootMeanSquaredError": _first(metrics.get("rmse")),
        }, parent=self.ctx.job_id)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) else value


def run_training(ctx: RunContext, arguments: dict) -> None:
    Trainer(ctx, arguments).run()
