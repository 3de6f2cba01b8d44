"""Finding CivisML's templates as ``civis.ml`` finds them: by their ``civis-civisml-*`` aliases, one set of
training/prediction/registration templates per CivisML version (None is production)."""

from __future__ import annotations

import re
from typing import Any

from airflow_civis.ml_models import ALIAS_OBJECT_TYPE, ALIAS_PREFIX

_ALIAS_RE = (
    re.compile(r"\Acivis-civisml-(\w+)\Z"),  # production: civis-civisml-training
    re.compile(r"\Acivis-civisml-(\w+)-v(\d+)-(\d+)\Z"),  # civis-civisml-training-v2-3
    re.compile(r"\Acivis-civisml-(\w+)-(\S+[^-])\Z"),  # civis-civisml-training-dev
)

Templates = dict[str | None, dict[str, int]]


def parse_alias(alias: str) -> tuple[str, str | None] | None:
    """``("training", None)`` for the production alias, ``("prediction", "v2.3")`` for a versioned one."""
    prod, versioned, special = (r.search(alias) for r in _ALIAS_RE)
    if prod:
        return prod.group(1), None
    if versioned:
        return versioned.group(1), f"v{versioned.group(2)}.{versioned.group(3)}"
    if special:
        return special.group(1), special.group(2)
    return None


def civisml_templates(hook: Any) -> Templates:
    """Template ids by CivisML version (None = production): ``{None: {"training": 11, ...}}``."""
    found: Templates = {}
    for alias in hook.paginate("/aliases", {"object_type": ALIAS_OBJECT_TYPE}):
        name = str(alias.get("alias") or "")
        parsed = parse_alias(name) if name.startswith(ALIAS_PREFIX) else None
        if parsed:
            found.setdefault(parsed[1], {})[parsed[0]] = int(alias["objectId"])
    if not found:
        raise ValueError("No CivisML templates are visible to this API key (no civis-civisml-* aliases)")
    return found


def template_id(templates: Templates, job_type: str, version: str | None) -> int:
    """The ``job_type`` template of CivisML ``version`` ("prod" or None: production)."""
    key = None if version in (None, "prod") else version
    if key not in templates or job_type not in templates[key]:
        versions = ", ".join(sorted(str(v or "prod") for v in templates))
        raise ValueError(f"No CivisML {job_type} template for version {version or 'prod'!r}; found: {versions}")
    return templates[key][job_type]


def prediction_template_for(templates: Templates, training_template_id: int) -> int:
    """The prediction template of the version a model was trained (or registered) with."""
    for ids in templates.values():
        if training_template_id in (ids.get("training"), ids.get("registration")) and ids.get("prediction"):
            return ids["prediction"]
    raise ValueError(f"Template {training_template_id} is not a CivisML training template")
