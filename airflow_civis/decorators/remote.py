"""What runs on Civis for ``@task.civis``: install missing requirements, call the function, hand back its result.

This module's source is copied, whole, into each generated script (see ``script.py``): it must need nothing but
the standard library (plus ``cloudpickle`` for that serializer; the emulator runs it with its own interpreter),
and never import Airflow or this package. The result travels as a run output, the way Civis scripts hand values
on: a JSON value named ``return_value`` for small JSON results, else a Civis file (``return_value.json`` or
``return_value.pickle``), as ``civis.parallel``'s worker does; the calls are civis-python's (same endpoints,
fields and order, retried as it retries), made with the standard library.
"""

from __future__ import annotations
import __future__

import atexit
import base64
import importlib
import json
import linecache
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Any

RESULT_NAME = "return_value"
#: Above this many bytes a JSON result goes in a Civis file rather than a JSON value.
INLINE_LIMIT = 1024 * 1024
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_name(requirement: str) -> str:
    """The distribution name of a pip requirement string (``pyyaml>=6`` -> ``pyyaml``)."""
    match = _NAME.match(requirement)
    if not match:
        raise ValueError(f"not a pip requirement: {requirement!r}")
    return match.group(1)


def is_satisfied(requirement: str) -> bool:
    """Whether an installed distribution already satisfies ``requirement`` (version checked when
    ``packaging`` is importable, else its name only)."""
    from importlib import metadata

    try:
        version = metadata.version(requirement_name(requirement))
    except metadata.PackageNotFoundError:
        return False
    try:
        from packaging.requirements import Requirement
    except ImportError:
        return True
    return Requirement(requirement).specifier.contains(version, prereleases=True)


def install_command(missing: list[str], target: str) -> list[str]:
    """pip into a per-run ``target`` directory: the interpreter's own environment is never changed."""
    return [sys.executable, "-m", "pip", "install", "--no-input", "--disable-pip-version-check",
            "--target", target, *missing]


def install_requirements(requirements: list[str]) -> None:
    """Install the requirements not already satisfied, then make them importable."""
    missing = [req for req in requirements if not is_satisfied(req)]
    already = [req for req in requirements if req not in missing]
    if already:
        print("@task.civis: requirements already installed:", ", ".join(already))
    if not missing:
        return
    target = tempfile.mkdtemp(prefix="civis-task-requirements-")
    atexit.register(shutil.rmtree, target, ignore_errors=True)  # per run: gone when the script ends
    print("@task.civis: installing", ", ".join(missing), flush=True)
    subprocess.run(install_command(missing, target), check=True)
    sys.path.insert(0, target)
    importlib.invalidate_caches()


def load_function(name: str, source: str) -> Any:
    """Define the function from its source; tracebacks show its lines (registered with ``linecache``)."""
    filename = f"<@task.civis {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "__civis_task__"}
    # Annotations stay unevaluated, as in the DAG file (they may name types imported only there).
    exec(compile(source, filename, "exec", flags=__future__.annotations.compiler_flag), namespace)
    return namespace[name]


def decode_arguments(serializer: str, encoded: str) -> tuple[list[Any], dict[str, Any]]:
    if serializer == "cloudpickle":
        import cloudpickle  # noqa: F401  (functions and classes it pickled need it to load)

        data = pickle.loads(base64.b64decode(encoded))
    else:
        data = json.loads(encoded)
    return list(data["args"]), dict(data["kwargs"])


def encode_result(serializer: str, value: Any) -> bytes:
    """The result's bytes, or a TypeError that names the type and the fix."""
    if serializer == "cloudpickle":
        import cloudpickle

        try:
            return cloudpickle.dumps(value)
        except Exception as err:
            raise TypeError(
                f"@task.civis: the function returned a {type(value).__module__}.{type(value).__qualname__}, which "
                f"cloudpickle cannot serialise ({err}). Return plain data, or convert it first "
                "(e.g. a DataFrame with .to_dict())."
            ) from None
    try:
        return json.dumps(value, allow_nan=False).encode()
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"@task.civis: the function returned a {type(value).__module__}.{type(value).__qualname__}, which is "
            f"not JSON ({err}). Return JSON data (dict, list, str, int, float, bool, None), or use "
            "@task.civis(serializer='cloudpickle') to return any picklable object."
        ) from None


def _retrying(what: str, send: Any, attempts: int = 4) -> Any:
    """``send()`` again after 429/5xx (honouring Retry-After) or a dropped connection, as civis-python does."""
    import time
    import urllib.error

    for attempt in range(1, attempts + 1):
        wait = 2.0 ** (attempt - 1)
        try:
            return send()
        except urllib.error.HTTPError as err:
            if err.code not in (429, 500, 502, 503, 504) or attempt == attempts:
                raise RuntimeError(f"{what} failed: HTTP {err.code} {err.read()[:500]!r}") from None
            wait = float(err.headers.get("Retry-After") or wait)
        except urllib.error.URLError:
            if attempt == attempts:
                raise
        time.sleep(wait)
    raise AssertionError("unreachable")


def api_post(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST to the Civis API with the run's own key. Plain stdlib: ``civis.APIClient()`` builds every endpoint
    class from the spec first (seconds per run). Every POST here is harmless to repeat (an unused object at
    worst), so each is retried."""
    import urllib.request

    url = os.environ.get("CIVIS_API_ENDPOINT", "https://api.civisanalytics.com/").rstrip("/") + path
    headers = {"Authorization": "Bearer " + os.environ["CIVIS_API_KEY"], "Content-Type": "application/json",
               "Accept": "application/json"}

    def send() -> dict[str, Any]:
        request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    return _retrying(f"POST {path}", send)


def upload_file(name: str, data: bytes) -> int:
    """A new Civis file, as ``civis.io.file_to_civis`` makes one: ``POST /files/``, then the bytes in one form
    POST to its presigned ``uploadUrl`` (fields from ``uploadFields``, ``key`` first and ``file`` last, as S3
    wants; no API key: the URL carries its own authorisation)."""
    import urllib.request
    import uuid

    created = api_post("/files/", {"name": name})
    fields = dict(created["uploadFields"])
    ordered = [("key", fields.pop("key"))] if "key" in fields else []
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
             for key, value in [*ordered, *fields.items()]]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n".encode())
    body = b"".join([*parts, data, f"\r\n--{boundary}--\r\n".encode()])
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}

    def send() -> None:
        request = urllib.request.Request(created["uploadUrl"], data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=300):
            pass

    _retrying(f"upload of file {created['id']}", send)
    return int(created["id"])


def post_result(serializer: str, data: bytes, kind: str) -> None:
    """Post ``data`` as the run's ``return_value`` output: a JSON value if small JSON, else a file."""
    outputs = f"/scripts/{kind}/{int(os.environ['CIVIS_JOB_ID'])}/runs/{int(os.environ['CIVIS_RUN_ID'])}/outputs"
    if serializer == "json" and len(data) <= INLINE_LIMIT:
        value = api_post("/json_values/", {"valueStr": data.decode(), "name": RESULT_NAME})
        api_post(outputs, {"objectType": "JSONValue", "objectId": value["id"]})
        print(f"@task.civis: returned a JSON value ({len(data)} bytes) as run output {RESULT_NAME!r}")
        return
    name = f"{RESULT_NAME}.{'json' if serializer == 'json' else 'pickle'}"
    file_id = upload_file(name, data)
    api_post(outputs, {"objectType": "File", "objectId": file_id})
    print(f"@task.civis: returned a {len(data)}-byte result as Civis file {file_id} ({name})")


def main(payload_json: str) -> None:
    payload = json.loads(payload_json)
    install_requirements(payload.get("requirements") or [])
    function = load_function(payload["function_name"], payload["function_source"])
    args, kwargs = decode_arguments(payload["serializer"], payload["arguments"])
    print(f"@task.civis: calling {payload['function_name']}()", flush=True)
    result = function(*args, **kwargs)
    data = encode_result(payload["serializer"], result)
    post_result(payload["serializer"], data, payload["kind"])
    sys.stdout.flush()
