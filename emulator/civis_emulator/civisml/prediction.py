"""The emulated CivisML prediction program: score data with a training run's ``estimator.pkl``.

Arguments are the prediction template's (``TRAIN_JOB``, ``TRAIN_RUN``, ``TABLE_NAME``/``CIVIS_FILE_ID``,
``PRIMARY_KEY``, ``OUTPUT_TABLE``, ``IF_EXISTS``, ``TARGET_COLUMN`` for a subset of targets). Outputs:
``predictions.csv.gz`` (File), ``model_info.json`` (with ``output_file_ids``, as the clients read it)
and, with ``OUTPUT_TABLE``, the scores in that table.
"""

from __future__ import annotations

import json
import traceback
from typing import Any

import joblib
import numpy as np
import pandas as pd

from ..common import now_iso
from ..runs import RunContext, RunFailed
from .data import add_file_output, add_json_file_output, csv_gz, read_source, write_table
from .metrics import score_columns


def _training_outputs(ctx: RunContext, job_id: int, run_id: int) -> dict[str, int]:
    run = ctx.state.registry.get_run(job_id, run_id)
    if run is None:
        raise RunFailed(f"Training job {job_id} has no run {run_id}")
    if run["state"] != "succeeded":
        raise RunFailed(f"Training job {job_id} run {run_id} is {run['state']}, not succeeded")
    return {o["name"]: o["objectId"] for o in run.get("outputs", []) if o["objectType"] == "File"}


def _load_json(ctx: RunContext, file_id: int) -> Any:
    with open(ctx.state.files.path(file_id), "rb") as fh:
        return json.load(fh)


def run_prediction(ctx: RunContext, args: dict) -> None:
    info: dict[str, Any] = {"run": {"status": "running", "stack_trace": None, "time_start": now_iso()},
                            "jobs": [], "output_file_ids": [], "warnings": []}
    """Failed checks fail the run; an exception from the model code leaves the run succeeded with
    ``"status": "exception"`` in ``model_info.json``, as CivisML reports it (see ``training.Trainer.run``)."""
    try:
        _predict(ctx, args, info)
    except RunFailed as exc:
        _report_exception(ctx, info, str(exc))
        raise
    except Exception as exc:  # noqa: BLE001 - reported in model_info.json like CivisML
        _report_exception(ctx, info, str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}")


def _report_exception(ctx: RunContext, info: dict, message: str) -> None:
    info["run"].update(status="exception", stack_trace=traceback.format_exc(), time_end=now_iso())
    ctx.log(f"CivisML prediction failed: {message}", "error")
    add_json_file_output(ctx, "model_info.json", info)


def _predict(ctx: RunContext, args: dict, info: dict) -> None:
    try:
        train_job, train_run = int(args["TRAIN_JOB"]), int(args["TRAIN_RUN"])
    except (KeyError, TypeError, ValueError):
        raise RunFailed("TRAIN_JOB and TRAIN_RUN must be the training job and run ids") from None
    outputs = _training_outputs(ctx, train_job, train_run)
    if "estimator.pkl" not in outputs or "model_info.json" not in outputs:
        raise RunFailed(f"Training job {train_job} run {train_run} has no estimator.pkl/model_info.json outputs")
    train_info = _load_json(ctx, outputs["model_info.json"])
    estimator = joblib.load(ctx.state.files.path(outputs["estimator.pkl"]))
    dvs = train_info["data"]["target_columns"]
    models = {dvs[0]: estimator} if len(dvs) == 1 else estimator
    wanted = (args.get("TARGET_COLUMN") or "").split() or dvs
    unknown = [d for d in wanted if d not in dvs]
    if unknown:
        raise RunFailed(f"TARGET_COLUMN {unknown} were not dependent variables of the model ({dvs})")
    frame, location = read_source(ctx, args)
    features = train_info["data"]["column_names_used"]
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise RunFailed(f"Column(s) {missing} the model was trained on are missing from {location}")
    pk = args.get("PRIMARY_KEY") or None
    if pk and pk not in frame.columns:
        raise RunFailed(f"PRIMARY_KEY {pk!r} is not a column of {location}")
    ctx.log(f"CivisML (emulated): scoring {len(frame)} rows from {location} with job {train_job} run {train_run}")
    X = frame[features].copy()
    for col in X.columns:
        if X[col].dtype == bool:
            X[col] = X[col].astype(float)
    scores = pd.DataFrame({pk: frame[pk]}) if pk else pd.DataFrame(index=frame.index)
    for dv in wanted:
        model = models[dv]
        if hasattr(model, "predict_proba") and hasattr(model, "classes_"):
            classes = [str(c) for c in model.classes_]
            scores = pd.concat([scores, score_columns(dv, np.asarray(model.predict_proba(X)), classes)], axis=1)
        else:
            scores = pd.concat([scores, score_columns(dv, np.asarray(model.predict(X)), None)], axis=1)
    file_id = add_file_output(ctx, "predictions.csv.gz", csv_gz(scores, index=False))
    output_table = args.get("OUTPUT_TABLE") or None
    if output_table:
        write_table(ctx, scores, output_table, args.get("IF_EXISTS") or "fail")
        ctx.log(f"wrote {len(scores)} scores to {output_table}")
    info["run"].update(status="succeeded", time_end=now_iso())
    info.update({
        "jobs": [{"run": {"status": "succeeded",
                          "configuration": {"data": {"primary_key": pk, "location": location}}}}],
        "output_file_ids": [file_id], "output_table": output_table, "n_rows": len(scores),
        "train_job_id": train_job, "train_run_id": train_run, "score_columns": [c for c in scores.columns if c != pk],
    })
    add_json_file_output(ctx, "model_info.json", info)
    ctx.state.store.put("civisml_predictions", {
        "id": ctx.run_id, "jobId": ctx.job_id, "modelId": train_job, "trainRunId": train_run,
        "scoredTableName": args.get("TABLE_NAME"), "outputTableName": output_table, "primaryKey": [pk] if pk else [],
        "limitingSQL": args.get("WHERESQL"), "nRows": len(scores), "createdAt": now_iso(),
    }, parent=ctx.job_id)
