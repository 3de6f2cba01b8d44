"""What a task may ask of its Civis job's container: CPU shares, memory and disk, checked once at parse time.

``@task.civis`` sends them as the script's ``requiredResources`` (``cpu``, ``memory``, ``diskSpace``), CivisML
scoring as its template's ``CPU``/``MEMORY``/``DISK_SPACE`` and training as ``REQUIRED_CPU``/
``REQUIRED_MEMORY``/``REQUIRED_DISK_SPACE``. The API and civis-python type them alike everywhere: CPU shares
and memory are integers, disk space a number of GB (fractions allowed), so one check serves all three.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from airflow.sdk import BaseOperator


class JobResources(NamedTuple):
    cpu: int | None
    memory: int | None
    disk_space: float | None


def positive_int(field: str, value: Any, task_id: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"Task {task_id!r}: {field} must be a positive integer, got {value!r}")
    return value


def positive_number(field: str, value: Any, task_id: str, unit: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"Task {task_id!r}: {field} must be a positive number of {unit}, got {value!r}")
    return value


def check_job_resources(task_id: str, cpu: Any, memory: Any, disk_space: Any,
                        names: tuple[str, str, str] = ("cpu", "memory", "disk_space")) -> JobResources:
    """The resources as given (None: the platform's or the template's default), or an error naming the task
    and the field (``names``: the operator's own names for the three)."""
    cpu_field, memory_field, disk_field = names
    return JobResources(positive_int(cpu_field, cpu, task_id), positive_int(memory_field, memory, task_id),
                        positive_number(disk_field, disk_space, task_id, "GB"))


class JobResourcesMixin(BaseOperator):
    """
    The ``cpu``, ``memory`` and ``disk_space`` arguments of an operator whose job's size a task may set.

    A ``BaseOperator`` so that Airflow finds these keywords on it, as on any operator class, when it applies
    ``default_args`` and checks ``partial()`` arguments. None leaves the platform's (or template's) default.

    :param cpu: CPU shares (1000 to a core).
    :param memory: memory in MB.
    :param disk_space: disk space in GB (fractions allowed).
    """

    def __init__(self, *, cpu: int | None = None, memory: int | None = None, disk_space: float | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cpu, self.memory, self.disk_space = check_job_resources(self.task_id, cpu, memory, disk_space)
