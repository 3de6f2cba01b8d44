"""CivisML's script templates and their aliases, created once per emulator state (idempotent).

Each template is backed by a hidden container script whose command is ``civis-emulator:civisml-<kind>``,
a program the emulator runs in-process (see :func:`runners.scripts.register_builtin_program`). The
params are the real templates' argument names, as ``civis.ml.ModelPipeline`` sends them; older releases
lack the arguments added since, so a client that ignores template versions is refused (400) as on Civis.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..common import USER, author, now_iso
from .catalogue import ALIAS_OBJECT_TYPE, TEMPLATE_ALIASES, alias_for

CIVISML_IMAGE = "civisanalytics/civis-ml"


def _p(name: str, type_: str = "string", default: str | None = None, required: bool = False) -> dict:
    """A template param; defaults are strings, as the API's params carry them."""
    return {"name": name, "label": name, "description": None, "type": type_, "required": required,
            "value": None, "default": default, "allowedValues": []}


_DATA = [
    _p("TABLE_NAME"), _p("DB", "database"), _p("CIVIS_FILE_ID", "integer"), _p("WHERESQL"),
    _p("LIMITSQL", "integer"), _p("PRIMARY_KEY"), _p("DEBUG", "bool", "false"),
]
TRAINING_PARAMS = [
    *_DATA, _p("TARGET_COLUMN"), _p("N_JOBS", "integer"), _p("MODEL", required=True), _p("EXCLUDE_COLS"),
    _p("PARAMS", default="{}"), _p("CVPARAMS", default="{}"), _p("CALIBRATION"), _p("FIT_PARAMS"), _p("OOSTABLE"),
    _p("OOSDB", "database"), _p("IF_EXISTS", default="fail"), _p("VALIDATION_DATA", default="train"),
    _p("DEPENDENCIES"), _p("ETL"), _p("GIT_CRED", "credential_custom"), _p("REQUIRED_CPU", "integer", "1024"),
    _p("REQUIRED_MEMORY", "integer", "3000"), _p("REQUIRED_DISK_SPACE", "float", "2.0"),
    _p("ACTIVE_BUILD", default="latest"),
]
PREDICTION_PARAMS = [
    *_DATA, _p("TARGET_COLUMN"), _p("N_JOBS", "integer"), _p("TRAIN_JOB", "integer", required=True),
    _p("TRAIN_RUN", "integer", required=True), _p("OUTPUT_TABLE"), _p("OUTPUT_DB", "database"),
    _p("IF_EXISTS", default="fail"), _p("MANIFEST", "integer"),
    _p("CPU", "integer", "1024"), _p("MEMORY", "integer", "3000"), _p("DISK_SPACE", "float", "2.0"),
]


def _without(params: list[dict], *names: str) -> list[dict]:
    return [p for p in params if p["name"] not in names]


@dataclass(frozen=True)
class TemplateVersion:
    """One CivisML release as the platform publishes it: a training and a prediction template whose ids
    and params match what ``civis.ml.ModelPipeline`` expects of that release (it gates arguments by
    template id: ``VALIDATION_DATA``/``N_JOBS`` from training template 9968 (v2.0), ``CPU``/``MEMORY``/
    ``DISK_SPACE`` from prediction template 9969, ``TARGET_COLUMN`` for prediction above 10583 (v2.1))."""

    version: str | None  # None: the production alias (civis-civisml-training)
    training_id: int
    prediction_id: int
    training_params: list[dict]
    prediction_params: list[dict]


#: Production (the current release) plus two older releases a long-lived account still sees.
VERSIONS = (
    TemplateVersion(None, 11219, 11220, TRAINING_PARAMS, PREDICTION_PARAMS),
    TemplateVersion("v2.1", 10582, 10583, TRAINING_PARAMS, _without(PREDICTION_PARAMS, "TARGET_COLUMN")),
    TemplateVersion("v1.1", 9112, 9113, _without(TRAINING_PARAMS, "VALIDATION_DATA", "N_JOBS", "ETL"),
                    _without(PREDICTION_PARAMS, "TARGET_COLUMN", "CPU", "MEMORY", "DISK_SPACE")),
)
NAMES = {"training": "CivisML Training", "prediction": "CivisML Prediction"}


def seed_civisml(state) -> None:
    """Create the CivisML templates of every version and their aliases, unless the alias exists."""
    store = state.store
    with store.lock:
        existing = {a["alias"] for a in store.all("aliases")}
        for release in VERSIONS:
            for kind, template_id, params in (("training", release.training_id, release.training_params),
                                              ("prediction", release.prediction_id, release.prediction_params)):
                alias = alias_for(kind, release.version)
                if alias not in existing and store.get("templates", template_id) is None:
                    _seed_template(state, kind, template_id, params, release.version, alias)


def _seed_template(state, kind: str, template_id: int, params: list[dict], version: str | None, alias: str) -> None:
    store, registry = state.store, state.registry
    name = NAMES[kind] + (f" {version}" if version else "")
    now = now_iso()
    script = registry.create_job("JobTypes::ContainerDocker", f"{name} (emulated)", {
        "params": params, "arguments": {}, "hidden": True, "category": "script",
        "dockerCommand": f"civis-emulator:civisml-{kind}", "dockerImageName": CIVISML_IMAGE,
        "dockerImageTag": version or "emulated",
        "requiredResources": {"cpu": 1024, "memory": 3000, "diskSpace": 2.0},
        "userContext": "runner", "isTemplate": True,
    })
    template = {
        "id": template_id, "public": True, "scriptId": script["id"],
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


def civisml_template_ids(store) -> dict[str, set[int]]:
    """``{"training": {11219, 10582, ...}, "prediction": {...}}``: every version's templates, by alias."""
    found: dict[str, set[int]] = {kind: set() for kind in TEMPLATE_ALIASES}
    for a in store.all("aliases"):
        if a.get("objectType") != ALIAS_OBJECT_TYPE:
            continue
        for kind, base in TEMPLATE_ALIASES.items():
            if a["alias"] == base or a["alias"].startswith(base + "-"):
                found[kind].add(int(a["objectId"]))
    return found
