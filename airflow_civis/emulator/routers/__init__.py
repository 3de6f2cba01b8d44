"""One router per Civis API resource; ``ALL_ROUTERS`` is what ``create_app`` mounts."""

from __future__ import annotations

from fastapi import Request

from ..state import EmulatorState


def emulator(request: Request) -> EmulatorState:
    return request.app.state.emulator


from . import admin, credentials, databases, jobs, json_values, script_runs, scripts, templates, users  # noqa: E402

ALL_ROUTERS = [
    admin.router,
    users.router,
    credentials.router,
    databases.router,
    jobs.router,
    json_values.router,
    templates.router,
    script_runs.router,
    scripts.router,
]
