"""Where a task remembers the run it started, across its tries: the operator base's memory for reattach."""

from __future__ import annotations

import hashlib
import json
from typing import Any

STATE_STORE_KEY = "civis_run"


class RunJournal:
    """Where a task remembers the run it started, across its tries (so a retry reattaches, never repeats).

    Airflow 3.3+: ``context["task_state_store"]`` (scoped to dag run, task and map index; the same store
    ``ResumableJobMixin`` uses). Older 3.x: an Airflow Variable named after that same scope, deleted
    when the run completes: durable in the metadata database like the store, and readable by every try.
    """

    def __init__(self, context: Any) -> None:
        self.store = context.get("task_state_store") if context else None
        ti = context.get("ti") if context else None
        scope = [getattr(ti, name, None) for name in ("dag_id", "run_id", "task_id", "map_index")]
        self.variable = None
        if self.store is None and None not in scope[:3]:
            name = "civis_run." + ".".join(str(part) for part in scope)
            digest = hashlib.sha256(name.encode()).hexdigest()[:16]
            self.variable = name if len(name) <= 200 else f"{name[:180]}.{digest}"

    def get(self) -> dict[str, Any] | None:
        if self.store is not None:
            return self.store.get(STATE_STORE_KEY)
        if self.variable is None:
            return None
        from airflow.sdk import Variable

        raw = Variable.get(self.variable, default=None)
        return json.loads(raw) if raw else None

    def set(self, value: dict[str, Any]) -> None:
        if self.store is not None:
            self.store.set(STATE_STORE_KEY, value)
        elif self.variable is not None:
            from airflow.sdk import Variable

            Variable.set(self.variable, json.dumps(value), description="airflow-civis: run of an unfinished task")

    def delete(self) -> None:
        if self.store is not None:
            self.store.delete(STATE_STORE_KEY)
        elif self.variable is not None:
            from airflow.sdk import Variable

            Variable.delete(self.variable)
