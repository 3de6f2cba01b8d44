from airflow_civis.sensors.run import CivisRunSensor
from airflow_civis.sensors.table import CivisTableSensor

__all__ = ["CivisRunSensor", "CivisTableSensor"]
