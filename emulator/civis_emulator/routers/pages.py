"""Read-only HTML pages for people: a job's runs, and one run (state, timings, error, outputs, logs).

``GET /_emulator/ui/jobs/{job_id}`` and ``GET /_emulator/ui/jobs/{job_id}/runs/{run_id}`` are where the
"Civis Run" extra link points when a connection targets the emulator (the platform's own page
otherwise). ``/jobs/{id}/runs/{run_id}`` stays the JSON API route it is on the real API.

A browser following a link cannot send the API key, so these pages are the one place the emulator
answers without it (the auth middleware lets ``/_emulator/ui/`` through), and they guard themselves:

- only requests from loopback *to* a loopback host name are answered (403 otherwise), so a web page
  that rebinds its own DNS name to 127.0.0.1 cannot read them;
- GET only, no forms, no JavaScript; a Content-Security-Policy that forbids scripts and framing;
- every value is HTML-escaped, and the API key is masked wherever it appears (a script may log it).
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..runs import ACTIVE_STATES
from . import emulator
from .run_helpers import render_outputs

UI_PREFIX = "/_emulator/ui"
LOG_LINES = 2000
_LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                               "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
    "pre{background:#f6f6f6;padding:1em;overflow-x:auto;white-space:pre-wrap}"
    ".succeeded{color:#1a7f37}.failed{color:#cf222e}.cancelled{color:#9a6700}"
)

router = APIRouter(prefix=UI_PREFIX, include_in_schema=False)


def _host_of(value: str) -> str:
    """The host name of a ``Host`` header (``127.0.0.1:8000``, ``[::1]:8000``, ``localhost``)."""
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _local(request: Request) -> bool:
    client = request.client.host if request.client else ""
    return client in _LOOPBACK_HOSTS and _host_of(request.headers.get("host", "")) in _LOOPBACK_HOSTS


class _Page:
    def __init__(self, request: Request) -> None:
        self.api_key: str = emulator(request).api_key

    def text(self, value: Any) -> str:
        """Escaped text, with the API key masked."""
        shown = "" if value is None else str(value)
        if self.api_key:
            shown = shown.replace(self.api_key, "****")
        return html.escape(shown)

    def respond(self, title: str, body: str, *, status: int = 200, refresh: bool = False) -> HTMLResponse:
        meta = '<meta http-equiv="refresh" content="5">' if refresh else ""
        doc = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{meta}'
               f"<title>{self.text(title)}</title><style>{_STYLE}</style></head>"
               f"<body><h1>{self.text(title)}</h1>{body}"
               "<p><small>Civis API emulator: a read-only page.</small></p></body></html>")
        return HTMLResponse(doc, status_code=status, headers=_HEADERS)


def _forbidden(request: Request) -> HTMLResponse:
    return HTMLResponse("<!DOCTYPE html><title>Forbidden</title><p>Emulator pages are served to loopback only.</p>",
                        status_code=403, headers=_HEADERS)


def _duration(run: dict) -> str:
    try:
        start = datetime.fromisoformat(str(run["startedAt"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(run["finishedAt"]).replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError):
        return ""
    return f"{(end - start).total_seconds():.3f} s"


def _rows(page: _Page, pairs: list[tuple[str, Any]]) -> str:
    return "".join(f"<tr><th>{page.text(k)}</th><td>{page.text(v)}</td></tr>" for k, v in pairs)


def _job_or_none(request: Request, job_id: int) -> dict | None:
    return emulator(request).registry.get_job(job_id)


@router.get("/jobs/{job_id}/runs/{run_id}")
def run_page(request: Request, job_id: int, run_id: int):
    if not _local(request):
        return _forbidden(request)
    page = _Page(request)
    state = emulator(request)
    job, run = _job_or_none(request, job_id), state.registry.get_run(job_id, run_id)
    if job is None or run is None:
        return page.respond("Not found", f"<p>No run {run_id} of job {job_id}.</p>", status=404)
    status = str(run.get("state"))
    summary = (
        _rows(page, [("Job", f"{job_id}: {job.get('name') or ''}"), ("Type", job.get("type")), ("Run", run_id)])
        + f'<tr><th>State</th><td class="{page.text(status)}" id="state">{page.text(status)}</td></tr>'
        + _rows(page, [("Created", run.get("createdAt")), ("Started", run.get("startedAt")),
                       ("Finished", run.get("finishedAt")), ("Duration", _duration(run)), ("Error", run.get("error"))])
    )
    outputs = render_outputs(request, run)
    if outputs:
        cells = "".join(
            f"<tr><td>{page.text(o.get('objectType'))}</td><td>{page.text(o.get('objectId'))}</td>"
            f"<td>{page.text(o.get('name'))}</td>"
            f"<td>{page.text(json.dumps(o['value']) if o.get('objectType') == 'JSONValue' else '')}</td></tr>"
            for o in outputs)
        outputs_html = (f'<table id="outputs"><tr><th>Type</th><th>Id</th><th>Name</th><th>Value</th></tr>'
                        f"{cells}</table>")
    else:
        outputs_html = '<p id="outputs">No outputs.</p>'
    lines = list(reversed(state.store.get_logs(run_id, None, LOG_LINES)))
    more = f"<p>The last {LOG_LINES} lines.</p>" if len(lines) == LOG_LINES else ""
    log_text = "\n".join(f"{line['createdAt']} {line['level']:<5} {line['message']}" for line in lines)
    body = (f'<p><a href="{UI_PREFIX}/jobs/{job_id}">All runs of job {job_id}</a></p>'
            f"<table>{summary}</table><h2>Outputs</h2>{outputs_html}"
            f'<h2>Logs</h2>{more}<pre id="logs">{page.text(log_text) or "(no log lines)"}</pre>')
    return page.respond(f"Job {job_id}, run {run_id}: {status}", body, refresh=status in ACTIVE_STATES)


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: int):
    if not _local(request):
        return _forbidden(request)
    page = _Page(request)
    job = _job_or_none(request, job_id)
    if job is None:
        return page.respond("Not found", f"<p>No job {job_id}.</p>", status=404)
    runs = sorted(emulator(request).registry.list_runs(job_id), key=lambda r: r["id"], reverse=True)
    cells = "".join(
        f'<tr><td><a href="{UI_PREFIX}/jobs/{job_id}/runs/{int(r["id"])}">{int(r["id"])}</a></td>'
        f'<td class="{page.text(r.get("state"))}">{page.text(r.get("state"))}</td>'
        f"<td>{page.text(r.get('createdAt'))}</td><td>{page.text(_duration(r))}</td></tr>"
        for r in runs)
    body = (f"<table>{_rows(page, [('Name', job.get('name')), ('Type', job.get('type'))])}</table>"
            f'<h2>Runs</h2><table id="runs"><tr><th>Run</th><th>State</th><th>Created</th><th>Duration</th></tr>'
            f"{cells}</table>")
    return page.respond(f"Job {job_id}", body, refresh=any(r.get("state") in ACTIVE_STATES for r in runs))
