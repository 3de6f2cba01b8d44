"""Civis operators. Import from the module of each capability, or from here."""

from airflow_civis.operators.jobs import CivisRunJobOperator
from airflow_civis.operators.scripts import CivisRunScriptOperator

__all__ = ["CivisRunJobOperator", "CivisRunScriptOperator"]
