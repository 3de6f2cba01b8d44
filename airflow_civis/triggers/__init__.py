"""Civis triggers. Only the event triggers are exported here: they are what DAG files name in an AssetWatcher."""

from airflow_civis.triggers.events import CivisJobEventTrigger
from airflow_civis.triggers.table_events import CivisTableRefreshEventTrigger

__all__ = ["CivisJobEventTrigger", "CivisTableRefreshEventTrigger"]
