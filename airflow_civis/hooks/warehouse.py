"""Kept for existing imports: the lookups live in :mod:`airflow_civis.resolve`, the one resolver."""

from __future__ import annotations

from airflow_civis.resolve import (
    Target,
    default_credential_id,
    get_table,
    resolve_database,
    resolve_target,
    split_table,
)

__all__ = ["Target", "default_credential_id", "get_table", "resolve_database", "resolve_target", "split_table"]
