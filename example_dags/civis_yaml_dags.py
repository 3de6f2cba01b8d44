"""
Load the dag-factory YAML configs in ``example_dags/yaml/`` as Airflow DAGs.

Airflow parses this file (it says "airflow" and "dag", so the DAG processor's safe mode reads it); each
``*.yml``/``*.yaml`` file next to it in ``yaml/`` becomes one or more DAGs, e.g. ``civis_yaml_quickstart``.

Copy this file into your own DAGs folder and point ``YAML_DIR`` at your configs.

Why not ``dagfactory.load_yaml_dags(dags_folder=...)`` alone: given a folder, dag-factory 1.1 logs a
file's error and carries on, so a bad value (``poll_interval: -1``) makes the DAG silently vanish. Here
each file is loaded on its own and any error is raised again as an import error that names the YAML
file, the DAG and the task, next to the operator's own message (which names the field), e.g.::

    YamlDagError: yaml/civis_yaml_quickstart.yml, DAG 'civis_yaml_quickstart', task 'make_greeting':
    Task 'make_greeting': poll_interval must be > 0, got -1

One bad file fails this whole loader (the other YAML DAGs disappear too until it is fixed), as one
bad line does in a Python DAG file: the Airflow UI shows the error under "Import errors".
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

from dagfactory import load_yaml_dags

YAML_DIR = Path(__file__).resolve().parent / "yaml"


class YamlDagError(ValueError):
    """A YAML DAG config could not be turned into a DAG."""


def _where(tb: types.TracebackType | None) -> tuple[str | None, str | None]:
    """The DAG and task dag-factory was building when the error was raised (read from its frames)."""
    dag_id = task_id = None
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_globals.get("__name__", "").startswith("dagfactory"):
            name = frame.f_code.co_name
            if name == "build" and isinstance(getattr(frame.f_locals.get("self"), "dag_name", None), str):
                dag_id = frame.f_locals["self"].dag_name
            elif name == "build" and isinstance(frame.f_locals.get("task_name"), str):
                task_id = frame.f_locals["task_name"]
            if name == "make_task" and isinstance(frame.f_locals.get("task_params"), dict):
                task_id = frame.f_locals["task_params"].get("task_id", task_id)
        tb = tb.tb_next
    return dag_id, task_id


def describe_error(path: Path, err: BaseException) -> str:
    """``<file>, DAG 'd', task 't': <the error>``, without repeating what the message already says."""
    dag_id, task_id = _where(err.__traceback__)
    message = f"{type(err).__name__}: {err}" if not isinstance(err, ValueError) else str(err)
    where = [str(path)]
    if dag_id:
        where.append(f"DAG {dag_id!r}")
    if task_id and f"{task_id!r}" not in message:
        where.append(f"task {task_id!r}")
    return f"{', '.join(where)}: {message}"


def load_civis_yaml_dags(globals_dict: dict[str, Any], yaml_dir: str | Path = YAML_DIR) -> list[str]:
    """Load every YAML config under ``yaml_dir`` into ``globals_dict``; one error names each bad file."""
    yaml_dir = Path(yaml_dir)
    errors: list[str] = []
    before = set(globals_dict)
    for path in sorted(p for p in yaml_dir.rglob("*") if p.suffix in (".yml", ".yaml")):
        if path.name in ("defaults.yml", "defaults.yaml"):  # dag-factory's shared defaults, not a DAG
            continue
        try:
            load_yaml_dags(
                globals_dict=globals_dict, config_filepath=str(path), defaults_config_path=str(yaml_dir)
            )
        except Exception as err:  # noqa: BLE001 - every error becomes one clear import error below
            errors.append(describe_error(path, err))
    if errors:
        raise YamlDagError("\n".join(errors))
    return sorted(set(globals_dict) - before)


load_civis_yaml_dags(globals())
