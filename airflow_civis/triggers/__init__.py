"""Civis triggers. Only the event trigger is exported here: it is what DAG files name in an AssetWatcher."""

from airflow_civis.triggers.events import CivisJobEventTrigger

__all__ = ["CivisJobEventTrigger"]
