"""``GET /_emulator/ui/workflows/{id}/executions/{execution_id}``: a read-only HTML page of one execution
(its state and each task's runs, linked to their run pages), where the workflow operator's "Civis Run"
link points on the emulator. Guarded like every page under ``/_emulator/ui`` (see ``pages.py``)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..workflows import execution_state
from ..workflows.engine import KIND as EXECUTIONS
from . import emulator
from .pages import UI_PREFIX, _forbidden, _local, _Page, _rows

router = APIRouter(prefix=UI_PREFIX, include_in_schema=False)


@router.get("/workflows/{workflow_id}/executions/{execution_id}")
def execution_page(request: Request, workflow_id: int, execution_id: int):
    if not _local(request):
        return _forbidden(request)
    page = _Page(request)
    state = emulator(request)
    workflow, doc = state.store.get("workflows", workflow_id), state.store.get(EXECUTIONS, execution_id)
    if workflow is None or doc is None or doc["workflowId"] != workflow_id:
        return page.respond("Not found", f"<p>No execution {execution_id} of workflow {workflow_id}.</p>", status=404)
    status = execution_state(doc)
    summary = (
        _rows(page, [("Workflow", f"{workflow_id}: {workflow.get('name') or ''}"), ("Execution", execution_id)])
        + f'<tr><th>State</th><td class="{page.text(status)}" id="state">{page.text(status)}</td></tr>'
        + _rows(page, [("Info", doc.get("mistralStateInfo")), ("Started", doc.get("startedAt")),
                       ("Finished", doc.get("finishedAt"))])
    )
    rows = []
    for entry in doc["tasks"]:
        links = []
        for job_id, run_id in sorted(entry["runs"], key=lambda pair: pair[1], reverse=True):
            run = state.registry.get_run(job_id, run_id) or {}
            links.append(f'<a href="{UI_PREFIX}/jobs/{int(job_id)}/runs/{int(run_id)}">job {int(job_id)} run '
                         f"{int(run_id)}</a> {page.text(run.get('state'))}")
        rows.append(f"<tr><td>{page.text(entry['name'])}</td><td>{page.text(entry['mistralState'])}</td>"
                    f"<td>{page.text(entry.get('mistralStateInfo'))}</td><td>{'<br>'.join(links)}</td></tr>")
    tasks = (f'<table id="tasks"><tr><th>Task</th><th>State</th><th>Info</th><th>Runs</th></tr>{"".join(rows)}'
             "</table>") if rows else '<p id="tasks">No task has started.</p>'
    body = f"<table>{summary}</table><h2>Tasks</h2>{tasks}"
    return page.respond(f"Workflow {workflow_id}, execution {execution_id}: {status}", body,
                        refresh=status in ("running", "paused"))
