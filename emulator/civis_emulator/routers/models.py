"""``/models`` and ``/predictions``: what CivisML trained and scored in this emulator.

A model is a custom script made from the CivisML training template (its id is the job id); each
succeeded training run is a *build*. A prediction is a custom script from the prediction template.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..civisml import civisml_template_ids
from ..common import author, paginate, respond
from ..errors import not_found
from ..runs import FINISHED_STATES, run_summary
from . import emulator

router = APIRouter()

_SCHEDULE = {"scheduled": False, "scheduledDays": [], "scheduledHours": [], "scheduledMinutes": [],
             "scheduledRunsPerHour": None, "scheduledDaysOfMonth": []}


def _schedule(job: dict) -> dict:
    return dict(_SCHEDULE, **(job.get("schedule") or {}))


def _jobs(request: Request, kind: str) -> list[dict]:
    template_ids = civisml_template_ids(emulator(request).store)[kind]  # every CivisML version's template
    return [j for j in emulator(request).registry.list_jobs()
            if j.get("type") == "JobTypes::CustomScript" and j.get("fromTemplateId") in template_ids]


def _build(doc: dict, job: dict) -> dict:
    return {**doc, "name": f"{job.get('name')} build {doc['id']}", "description": doc.get("modelType"),
            "state": "succeeded", "error": None, "transformationMetadata": None, "output": None,
            "outputLocation": None}


def _model(request: Request, job: dict) -> dict:
    state = emulator(request)
    args = job.get("arguments") or {}
    builds = [_build(b, job) for b in state.store.all("civisml_builds", parent=job["id"])]
    predictions = [{"id": p["id"], "tableName": p.get("scoredTableName"), "primaryKey": p.get("primaryKey") or [],
                    "limitingSQL": p.get("limitingSQL"), "outputTable": p.get("outputTableName"),
                    "schedule": dict(_SCHEDULE), "state": "succeeded"}
                   for p in state.store.all("civisml_predictions") if p.get("modelId") == job["id"]]
    last = job.get("lastRun")
    db_arg = args.get("DB")
    db = db_arg if isinstance(db_arg, dict) else {}
    return {
        "id": job["id"], "tableName": args.get("TABLE_NAME"), "databaseId": db.get("database"),
        "credentialId": None, "modelName": job.get("name"), "description": args.get("MODEL"),
        "interactionTerms": False, "boxCoxTransformation": False, "modelTypeId": None,
        "primaryKey": args.get("PRIMARY_KEY"), "dependentVariable": args.get("TARGET_COLUMN"),
        "dependentVariableOrder": [], "excludedColumns": (args.get("EXCLUDE_COLS") or "").split(),
        "limitingSQL": args.get("WHERESQL"), "activeBuildId": builds[-1]["id"] if builds else None,
        "crossValidationParameters": {}, "numberOfFolds": 4, "notifications": job.get("notifications"),
        "schedule": _schedule(job), "parentId": None, "runningAs": author(), "timeZone": "America/Chicago",
        "lastRun": last, "hidden": bool(job.get("hidden")), "user": author(), "createdAt": job.get("createdAt"),
        "updatedAt": job.get("updatedAt"), "currentBuildState": (last or {}).get("state") or "idle",
        "currentBuildException": (last or {}).get("error"), "builds": builds, "predictions": predictions,
        "lastOutputLocation": None, "archived": bool(job.get("archived")),
    }


@router.get("/models")
@router.get("/models/")
def list_models(request: Request, model_name: str | None = None, dependent_variable: str | None = None):
    models = [_model(request, j) for j in _jobs(request, "training")]
    if model_name:
        models = [m for m in models if model_name.lower() in (m["modelName"] or "").lower()]
    if dependent_variable:
        models = [m for m in models if dependent_variable in (m["dependentVariable"] or "")]
    return paginate(request, models)


def _model_job(request: Request, model_id: int) -> dict:
    job = next((j for j in _jobs(request, "training") if j["id"] == model_id), None)
    if job is None:
        raise not_found("model")
    return job


@router.get("/models/{model_id}")
def get_model(request: Request, model_id: int):
    return respond(request, _model(request, _model_job(request, model_id)))


@router.get("/models/{model_id}/builds")
def list_builds(request: Request, model_id: int):
    job = _model_job(request, model_id)
    return paginate(request, [_build(b, job) for b in emulator(request).store.all("civisml_builds", parent=model_id)])


@router.get("/models/{model_id}/schedules")
def get_model_schedule(request: Request, model_id: int):
    job = _model_job(request, model_id)
    return respond(request, {"id": model_id, "schedule": _schedule(job)})


@router.delete("/models/{model_id}/builds/{build_id}")
def cancel_build(request: Request, model_id: int, build_id: int):
    """Cancel the training run behind a build (a build's id is its training run's id)."""
    _model_job(request, model_id)
    registry = emulator(request).registry
    run = registry.get_run(model_id, build_id)
    if run is None:
        raise not_found("build")
    if run["state"] in FINISHED_STATES:
        raise not_found("active build")
    registry.cancel_run(model_id, build_id)
    return respond(request, None, status=202)


@router.get("/models/{model_id}/builds/{build_id}")
def get_build(request: Request, model_id: int, build_id: int):
    job = _model_job(request, model_id)
    doc = emulator(request).store.get("civisml_builds", build_id)
    if doc is None or doc.get("jobId") != model_id:
        raise not_found("build")
    return respond(request, _build(doc, job))


def _prediction(request: Request, job: dict) -> dict:
    store = emulator(request).store
    args = job.get("arguments") or {}
    runs = store.all("civisml_predictions", parent=job["id"])
    last = job.get("lastRun") or {}
    scored = []
    for p in runs:
        name = p.get("outputTableName") or ""
        schema, _, table = name.rpartition(".")
        scored.append({"id": p["id"], "schema": schema or "public", "name": table or None,
                       "createdAt": p.get("createdAt"), "scoreStats": []})
    return {
        "id": job["id"], "modelId": int(args["TRAIN_JOB"]) if args.get("TRAIN_JOB") else None,
        "scoredTableId": None, "scoredTableName": args.get("TABLE_NAME"), "outputTableName": args.get("OUTPUT_TABLE"),
        "state": last.get("state") or "idle", "error": last.get("error"), "startedAt": last.get("startedAt"),
        "finishedAt": last.get("finishedAt"), "lastRun": run_summary(last) if last else None,
        "scoredTables": scored, "schedule": _schedule(job), "limitingSQL": args.get("WHERESQL"),
        "primaryKey": [args["PRIMARY_KEY"]] if args.get("PRIMARY_KEY") else [],
    }


@router.get("/predictions")
@router.get("/predictions/")
def list_predictions(request: Request, model_id: int | None = None):
    items = [_prediction(request, j) for j in _jobs(request, "prediction")]
    if model_id is not None:
        items = [p for p in items if p["modelId"] == model_id]
    return paginate(request, items)


@router.get("/predictions/{prediction_id}/schedules")
def get_prediction_schedule(request: Request, prediction_id: int):
    job = next((j for j in _jobs(request, "prediction") if j["id"] == prediction_id), None)
    if job is None:
        raise not_found("prediction")
    return respond(request, {"id": prediction_id, "schedule": _schedule(job),
                             "scoreOnModelBuild": bool(job.get("scoreOnModelBuild"))})


@router.get("/predictions/{prediction_id}")
def get_prediction(request: Request, prediction_id: int):
    job = next((j for j in _jobs(request, "prediction") if j["id"] == prediction_id), None)
    if job is None:
        raise not_found("prediction")
    return respond(request, _prediction(request, job))
