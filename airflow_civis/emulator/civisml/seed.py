"""CivisML's script templates and their aliases, created once per emulator state (idempotent).

Each template is backed by a hidden container script whose command is ``civis-emulator:civisml-<kind>``,
a program the emulator runs in-process (see :func:`runners.scripts.register_builtin_program`). The
params are the real templates' argument names, as ``civis.ml.ModelPipeline`` sends them.
"""

from __future__ import annotations

from ...ml_models import ALIAS_OBJECT_TYPE, TEMPLATE_ALIASES
from ..common import USER, author, now_iso

CIVISML_IMAGE = "civisanalytics/civis-ml"


def _p(name: str, type_: str = "string", default: str | None = None, required: bool = False) -> dict:
    """A template param; defaults are strings, as the API's params carry them."""
    return {"name": name, "label": name, "description": None, "type": type_, "required": required,
            "value": None, "default": default, "allowedValues": []}


_DATA = [
    _p("TABLE_NAME"), _p("DB", "database"), _p("CIVIS_FILE_ID", "integer"), _p("WHERESQL"),
    _p("LIMITSQL", "integer"), _p("PRIMARY_KEY"), _p("DEBUG", "bool", "false"), _p("N_JOBS", "integer"),
    _p("TARGET_COLUMN"),
]
TRAINING_PARAMS = [
    *_DATA, _p("MODEL", required=True), _p("EXCLUDE_COLS"), _p("PARAMS", default="{}"),
    _p("CVPARAMS", default="{}"), _p("CALIBRATION"), _p("FIT_PARAMS"), _p("OOSTABLE"), _p("OOSDB", "database"),
    _p("IF_EXISTS", default="fail"), _p("VALIDATION_DATA", default="train"), _p("DEPENDENCIES"), _p("ETL"),
    _p("GIT_CRED", "credential_custom"), _p("REQUIRED_CPU", "integer", "1024"),
    _p("REQUIRED_MEMORY", "integer", "3000"), _p("REQUIRED_DISK_SPACE", "float", "2.0"),
    _p("ACTIVE_BUILD", default="latest"),
]
PREDICTION_PARAMS = [
    *_DATA, _p("TRAIN_JOB", "integer", required=True), _p("TRAIN_RUN", "integer", required=True),
    _p("OUTPUT_TABLE"), _p("OUTPUT_DB", "database"), _p("IF_EXISTS", default="fail"), _p("MANIFEST", "integer"),
    _p("CPU", "integer", "1024"), _p("MEMORY", "integer", "3000"), _p("DISK_SPACE", "float", "2.0"),
]
TEMPLATES = {
    "training": ("CivisML Training", TRAINING_PARAMS),
    "prediction": ("CivisML Prediction", PREDICTION_PARAMS),
}


def seed_civisml(state) -> None:
    """Create the CivisML templates (training, prediction) and their aliases unless they exist."""
    store, registry = state.store, state.registry
    with store.lock:
        existing = {a["alias"] for a in store.all("aliases")}
        for kind, (name, params) in TEMPLATES.items():
            alias = TEMPLATE_ALIASES[kind]
            if alias in existing:
                continue
            now = now_iso()
            script = registry.create_job("JobTypes::ContainerDocker", f"{name} (emulated)", {
                "params": params, "arguments": {}, "hidden": True, "category": "script",
                "dockerCommand": f"civis-emulator:civisml-{kind}", "dockerImageName": CIVISML_IMAGE,
                "dockerImageTag": "emulated", "requiredResources": {"cpu": 1024, "memory": 3000, "diskSpace": 2.0},
                "userContext": "runner", "isTemplate": True,
            })
            template = {
                "id": store.next_id("templates"), "public": True, "scriptId": script["id"],
                "scriptType": "Container", "userContext": "runner", "params": params, "name": name,
                "category": "script", "note": f"Emulated {name}: fits scikit-learn locally on the emulator's data.",
                "createdAt": now, "updatedAt": now, "useCount": 0, "uiReportId": None, "techReviewed": True,
                "archived": False, "hidden": False, "author": author(), "myPermissionLevel": "read",
            }
            store.put("templates", template)
            registry.update_job(script["id"], {"publishedAsTemplateId": template["id"]})
            store.put("aliases", {
                "id": store.next_id("aliases"), "objectId": template["id"], "objectType": ALIAS_OBJECT_TYPE,
                "alias": alias, "userId": USER["id"], "displayName": name,
            })


def civisml_template_ids(store) -> dict[str, int]:
    """``{"training": 3, "prediction": 4}`` from the aliases (production version)."""
    by_alias = {a["alias"]: a["objectId"] for a in store.all("aliases") if a.get("objectType") == ALIAS_OBJECT_TYPE}
    return {kind: by_alias[alias] for kind, alias in TEMPLATE_ALIASES.items() if alias in by_alias}
