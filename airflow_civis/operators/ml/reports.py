"""CivisML's JSON run reports (``model_info.json``, ``metrics.json``): read them, and fail on a model
exception they record. CivisML catches errors of the model code and lets the run *succeed*, writing
``"status": "exception"`` and the stack trace; ``civis.ml.ModelFuture`` turns that into ``ModelError``."""

from __future__ import annotations

import json
from typing import Any

from airflow_civis.exceptions import CivisRunError
from airflow_civis.hooks.files import CivisFileTransfer
from airflow_civis.runs import RunRef


def read_json_output(hook: Any, outputs: dict[str, Any], name: str) -> Any:
    """The JSON content of the File run output ``name``, or None if the run has none. The bytes come from
    the file's presigned URL with the connection's TLS settings and retries, never with the API key."""
    ref = outputs.get(name)
    if not isinstance(ref, dict) or "file_id" not in ref:
        return None
    return json.loads(b"".join(CivisFileTransfer(hook).stream(int(ref["file_id"]))))


def status(report: dict[str, Any]) -> Any:
    run = report.get("run")
    return run.get("status") if isinstance(run, dict) else None


def model_error(run: RunRef, what: str, problem: str, trace: str = "", tail_lines: int = 20) -> CivisRunError:
    """The task's error for a CivisML run whose model failed: names the job, the run and the model's error."""
    message = f"CivisML {what} job {run.job_id} run {run.run_id} failed: {problem}"
    if trace:
        message += "\nModel stack trace:\n" + "\n".join(f"    {line}" for line in trace.splitlines())
    return CivisRunError(message, state="exception", job_id=run.job_id, run_id=run.run_id,
                         log_tail=trace.splitlines()[-tail_lines:] if tail_lines else [])


def checked_report(report: Any, run: RunRef, what: str, name: str, *, required: bool,
                   tail_lines: int = 20) -> dict[str, Any] | None:
    """``report`` unless it records a model exception (raised as :func:`model_error`) or is missing
    while ``required`` (a succeeded CivisML run always has ``model_info.json``, as ModelFuture assumes)."""
    if not isinstance(report, dict):
        if required:
            raise model_error(run, what, f"the run has no {name} output (CivisML always writes one)")
        return None
    if status(report) == "exception":
        trace = str((report.get("run") or {}).get("stack_trace") or "").strip()
        headline = next((line for line in reversed(trace.splitlines()) if line.strip()), "no stack trace")
        raise model_error(run, what, f"{headline.strip()} ({name})", trace, tail_lines)
    return report
