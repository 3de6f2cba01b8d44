"""TaskFlow decorators: ``@task.civis`` (registered through ``get_provider_info()["task-decorators"]``)."""

from __future__ import annotations

from airflow_civis.decorators.civis import CivisDecoratedOperator, civis_task

__all__ = ["CivisDecoratedOperator", "civis_task"]
