from airflow_civis.sensors.run import CivisRunSensor
from airflow_civis.sensors.table import CivisTableSensor
from airflow_civis.sensors.workflows import CivisWorkflowExecutionSensor

__all__ = ["CivisRunSensor", "CivisTableSensor", "CivisWorkflowExecutionSensor"]
