"""The script ``@task.civis`` sends to Civis: ``remote.py``'s source plus one call carrying the function and its
arguments (JSON, or base64 cloudpickle), and, for a container, the ``dockerCommand`` that runs it."""

from __future__ import annotations

import base64
import json
import secrets
from functools import cache
from importlib import resources
from typing import Any

SERIALIZERS = ("json", "cloudpickle")


@cache
def remote_source() -> str:
    return resources.files("airflow_civis.decorators").joinpath("remote.py").read_text(encoding="utf-8")


def cloudpickle_available() -> bool:
    try:
        import cloudpickle  # noqa: F401
    except ImportError:
        return False
    return True


def _not_json(value: Any, where: str, task_id: str) -> ValueError:
    return ValueError(
        f"Task {task_id!r}: {where} is a {type(value).__module__}.{type(value).__qualname__}, which cannot travel "
        "to Civis as JSON. Pass JSON data (dict, list, str, int, float, bool, None), or use "
        "@task.civis(serializer='cloudpickle') (needs the cloudpickle package)."
    )


def encode_arguments(serializer: str, args: list[Any], kwargs: dict[str, Any], task_id: str) -> str:
    """The call's arguments as text for the script; a ValueError naming the argument when they cannot go."""
    if serializer == "cloudpickle":
        import cloudpickle

        try:
            return base64.b64encode(cloudpickle.dumps({"args": list(args), "kwargs": dict(kwargs)})).decode()
        except Exception as err:
            raise ValueError(f"Task {task_id!r}: cloudpickle cannot serialise the arguments: {err}") from None
    named = [(f"positional argument {i}", v) for i, v in enumerate(args)] + [
        (f"argument {k!r}", v) for k, v in kwargs.items()]
    for where, value in named:
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            raise _not_json(value, where, task_id) from None
    return json.dumps({"args": list(args), "kwargs": dict(kwargs)})


def build_source(
    *, function_name: str, function_source: str, arguments: str, serializer: str, requirements: list[str], kind: str,
) -> str:
    """A self-contained Python script: ``remote.py`` then ``main(<payload>)``."""
    payload = json.dumps({
        "function_name": function_name,
        "function_source": function_source,
        "arguments": arguments,
        "serializer": serializer,
        "requirements": list(requirements),
        "kind": kind,
    })
    return f"{remote_source()}\n\nif __name__ == \"__main__\":\n    main({payload!r})\n"


def docker_command(source: str, python: str = "python3") -> str:
    """A shell command that runs ``source`` with the image's ``python3`` (a quoted heredoc: no expansion)."""
    marker = "CIVIS_TASK_EOF"
    while marker in source:
        marker = f"CIVIS_TASK_EOF_{secrets.token_hex(4)}"
    return f"{python} - <<'{marker}'\n{source}\n{marker}\n"
