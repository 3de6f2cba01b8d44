"""Runners for scripts: python3 (``source`` with ``sys.executable``), containers (``dockerCommand`` with
``bash -c``), r (``Rscript``), javascript (``node``), custom (the template's backing script).

Environment of the process: the emulator's own environment (for containers, its interpreter's directory
first on PATH: ``python3`` there is the emulator's own, with civis-python, as in Civis's images), then
each of the script's ``params`` as ``NAME`` (upper-cased) with its value from ``arguments`` (else the
param's default) -- credential params become ``NAME_USERNAME`` / ``NAME_PASSWORD`` as on the platform --
plus ``CIVIS_JOB_ID``, ``CIVIS_RUN_ID``, ``CIVIS_API_KEY`` and ``CIVIS_API_ENDPOINT`` (the emulator's base URL + "/").
stdout lines are logged at level "info", stderr lines at "error".
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable

from ..runs import RunContext, RunFailed, register_runner
from ..script_kinds import KINDS, kind_of
from .process import run_command, run_simulated, simulated

_DROP_ENV = ("CIVIS_API_KEY", "CIVIS_API_ENDPOINT", "CIVIS_JOB_ID", "CIVIS_RUN_ID")

#: In-process programs a container script can name as its whole dockerCommand: ``civis-emulator:<name>``.
#: Each gets ``(ctx, arguments)``: the run's arguments by param name, param defaults filled in, unconverted.
BuiltinProgram = Callable[[RunContext, dict], None]
_BUILTINS: dict[str, BuiltinProgram] = {}


def register_builtin_program(name: str, fn: BuiltinProgram) -> None:
    """Make a container script whose dockerCommand is ``civis-emulator:<name>`` run ``fn`` in-process
    (for templates like CivisML's, whose real image the emulator replaces with Python code)."""
    _BUILTINS[name] = fn


def _builtin(command: str | None) -> BuiltinProgram | None:
    text = (command or "").strip()
    return _BUILTINS.get(text[len("civis-emulator:"):]) if text.startswith("civis-emulator:") else None


def resolved_arguments(job: dict) -> dict:
    arguments = dict(job.get("arguments") or {})
    for param in job.get("params") or []:
        name = param.get("name")
        if name and arguments.get(name) is None and param.get("default") is not None:
            arguments[name] = param["default"]
    return arguments


def _env_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def build_env(ctx: RunContext, job: dict) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV}
    arguments = job.get("arguments") or {}
    store = ctx.state.store if ctx.state is not None else None
    for param in job.get("params") or []:
        name = param.get("name")
        if not name:
            continue
        value = arguments.get(name, param.get("default"))
        if value is None:
            continue
        key = name.upper()
        if str(param.get("type", "")).startswith("credential") and store is not None:
            cred = store.get("credentials", int(value)) if str(value).isdigit() else None
            if cred is not None:
                env[f"{key}_USERNAME"] = cred.get("username") or ""
                env[f"{key}_PASSWORD"] = cred.get("password") or ""
                env[f"{key}_ID"] = str(cred["id"])
                continue
        env[key] = _env_value(value)
    env["CIVIS_JOB_ID"] = str(ctx.job_id)
    env["CIVIS_RUN_ID"] = str(ctx.run_id)
    if ctx.api_key:
        env["CIVIS_API_KEY"] = ctx.api_key
    if ctx.endpoint:
        env["CIVIS_API_ENDPOINT"] = ctx.endpoint.rstrip("/") + "/"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def container_env(ctx: RunContext, job: dict) -> dict[str, str]:
    """A container's environment: the emulator's own interpreter is ``python3`` / ``python`` (first on PATH),
    standing in for the image's (Civis images such as civisanalytics/datascience-python have civis-python)."""
    env = build_env(ctx, job)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    return env


def _run_script(ctx: RunContext, script: dict, env_job: dict) -> None:
    """Run ``script``'s code with the params/arguments of ``env_job``."""
    kind = kind_of(script)
    path = kind.path if kind else None
    if path == "containers":
        command = script.get("dockerCommand")
        program = _builtin(command)
        if program is not None:
            return program(ctx, resolved_arguments(env_job))
        sim = simulated(command)
        if sim:
            return run_simulated(ctx, *sim)
        if not command:
            raise RunFailed("The container script has no dockerCommand")
        return run_command(ctx, ["bash", "-c", command], container_env(ctx, env_job))
    if path == "python3":
        return run_command(ctx, [sys.executable, "-u", "script.py"], build_env(ctx, env_job),
                           {"script.py": script.get("source") or ""})
    if path == "r":
        rscript = shutil.which("Rscript")
        if rscript is None:
            raise RunFailed("R is not available: Rscript was not found on the emulator's PATH")
        return run_command(ctx, [rscript, "script.R"], build_env(ctx, env_job),
                           {"script.R": script.get("source") or ""})
    if path == "javascript":
        node = shutil.which("node")
        if node is None:
            raise RunFailed("JavaScript is not available: node was not found on the emulator's PATH")
        return run_command(ctx, [node, "script.js"], build_env(ctx, env_job),
                           {"script.js": script.get("source") or ""})
    raise RunFailed(f"The Civis emulator cannot run scripts of type {script.get('type')}")


def run_plain_script(ctx: RunContext) -> None:
    _run_script(ctx, ctx.job, ctx.job)


def run_custom_script(ctx: RunContext) -> None:
    store = ctx.state.store
    template = store.get("templates", int(ctx.job.get("fromTemplateId") or 0))
    if template is None:
        raise RunFailed(f"Template {ctx.job.get('fromTemplateId')} not found")
    backing = store.get("jobs", template["scriptId"])
    if backing is None:
        raise RunFailed(f"The template's script {template['scriptId']} was not found")
    ctx.log(f"Running template {template['id']} ({template['name']}), backing script {backing['id']}")
    # The custom script's arguments, the backing script's params (which the custom script copied).
    env_job = dict(ctx.job, params=backing.get("params") or ctx.job.get("params") or [])
    _run_script(ctx, backing, env_job)


for _kind in ("containers", "python3", "r", "javascript"):
    register_runner(KINDS[_kind].job_type, run_plain_script)
register_runner(KINDS["custom"].job_type, run_custom_script)
