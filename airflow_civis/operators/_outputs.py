"""A finished run's outputs by name: what every operator's ``build_result`` receives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_civis.hooks.civis import CivisHook
    from airflow_civis.runs import RunRef


def outputs_by_name(hook: CivisHook, run: RunRef) -> dict[str, Any]:
    """Outputs by name: JSON values as their value, files/tables/others as ``{"file_id": 12}`` etc.

    Every output, of every page (the hook reads them where civis-python does, for every kind). Names
    need not be unique on Civis: a repeated name gets ``_<objectId>`` appended rather than hiding one.
    """
    result: dict[str, Any] = {}
    for output in hook.list_run_outputs(run):
        kind = output.get("objectType")
        name = output.get("name") or f"{kind}_{output.get('objectId')}"
        if name in result:
            name = f"{name}_{output.get('objectId')}"
        if kind == "JSONValue":
            value = output.get("value")
            result[name] = hook.get_json_value(output["objectId"]) if value is None else value
        else:
            key = "file_id" if kind == "File" else f"{str(kind).lower()}_id"
            result[name] = {key: output.get("objectId")}
    return result
