from airflow_civis.sensors.run import CivisRunSensor

__all__ = ["CivisRunSensor"]
