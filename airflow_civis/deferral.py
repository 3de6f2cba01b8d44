"""Whether and how often to wait: the defaults operators and sensors share (so sensors need not import
the operator base)."""

from __future__ import annotations

from typing import Any

from airflow_civis._compat import conf
from airflow_civis.validation import check_bool

DEFAULT_POLL_INTERVAL = 10.0


def default_deferrable() -> bool:
    """Deferrable unless ``[civis] default_deferrable = False``.

    Airflow's own ``[operators] default_deferrable`` ships as False, which would quietly put every Civis
    wait in a worker slot; waiting in the triggerer is this provider's point, so it has its own switch.
    """
    return conf.getboolean("civis", "default_deferrable", fallback=True)


def resolve_deferrable(value: Any, task_id: str) -> bool:
    """None follows ``[civis] default_deferrable`` (True when unset); anything else must be a bool."""
    return default_deferrable() if value is None else check_bool("deferrable", value, task_id)
