"""CSV preprocessing before an import, as civis-python's ``civis_file_to_table`` does it.

For each file: ``POST /files/preprocess/csv`` (``inPlace`` false, ``detectTableColumns`` when the
import needs columns, UTF-8 conversion forced, hidden), run it with ``POST /jobs/{id}/runs``, poll
``GET /jobs/{id}/runs/{run_id}``, then read the cleaned file from the run's one output
(``GET /jobs/{id}/runs/{run_id}/outputs``) and its ``detectedInfo`` (``GET /files/{id}``). The files'
detected header, delimiter, compression and columns must agree; the import then loads the cleaned
files with what was detected.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from airflow_civis.exceptions import CivisError, CivisRunError, CivisRunTimeoutError
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.runs import ACTIVE_STATES, SUCCESS_STATES, RunRef

DEFAULT_TIMEOUT = 3600.0
FIRST_CHECK = 0.1  #: seconds before the second look at a preprocess run (doubling up to poll_interval)


@dataclass(frozen=True)
class DetectedCsv:
    """What preprocessing found, for the import's body."""

    file_ids: list[int]  #: the cleaned files, in the order of the source files
    include_header: bool
    column_delimiter: str  #: comma, tab or pipe
    compression: str  #: gzip or none
    table_columns: list[dict[str, str]] = field(default_factory=list)  #: ``{"name", "sqlType"}``, if asked


def _start(hook: CivisHook, file_id: int, *, detect_table_columns: bool, include_header: bool | None,
           column_delimiter: str | None) -> RunRef:
    body: dict[str, Any] = {"fileId": int(file_id), "inPlace": False, "detectTableColumns": detect_table_columns,
                            "forceCharacterSetConversion": True, "hidden": True}
    if include_header is not None:
        body["includeHeader"] = include_header
    if column_delimiter is not None:
        body["columnDelimiter"] = column_delimiter
    job = hook.create("/files/preprocess/csv", json=body)
    return hook.start_run("job", int(job["id"]))


def _wait(hook: CivisHook, ref: RunRef, file_id: int, poll_interval: float, deadline: float) -> None:
    """Poll until the run ends. Preprocess runs are short and every import waits for them in the worker,
    so the checks start :data:`FIRST_CHECK` s apart and double up to ``poll_interval`` (not 10 s at once)."""
    interval = min(FIRST_CHECK, poll_interval)
    while True:
        run = hook.get_run(ref) or {}
        state = run.get("state")
        if state is not None and state not in ACTIVE_STATES:  # any ended state, known or not
            break
        now = time.monotonic()
        if now >= deadline:
            raise CivisRunTimeoutError(f"CSV preprocess of file {file_id} ({ref}) did not finish in time")
        time.sleep(min(interval, deadline - now))
        interval = min(interval * 2, poll_interval)
    if state not in SUCCESS_STATES:
        tail = [str(line.get("message", "")) for line in hook.get_run_logs(ref)][-10:]
        raise CivisRunError(
            f"CSV preprocess of file {file_id} {state} ({ref}): {run.get('error') or 'no error given'}",
            state=str(state), job_id=ref.job_id, run_id=ref.run_id, log_tail=tail)


def _cleaned_file(hook: CivisHook, ref: RunRef, file_id: int) -> dict[str, Any]:
    outputs = [o for o in hook.list_run_outputs(ref) if o.get("objectType") == "File"]
    if not outputs:
        raise CivisError(f"No CSV preprocess output found for file {file_id} ({ref})")
    cleaned = hook.call("GET", f"/files/{int(outputs[0]['objectId'])}")
    if not cleaned.get("detectedInfo"):
        raise CivisError(f"CSV preprocess of file {file_id} left no detectedInfo on file {cleaned.get('id')}")
    return cleaned


def _agreed(files: list[dict[str, Any]], key: str) -> Any:
    values = {f["id"]: f["detectedInfo"].get(key) for f in files}
    if len({repr(v) for v in values.values()}) > 1:
        listed = ", ".join(f"file {fid}: {v!r}" for fid, v in values.items())
        raise CivisError(f"All files must have the same detected {key}, but: {listed}")
    return next(iter(values.values()))


def _columns(files: list[dict[str, Any]]) -> list[dict[str, str]]:
    """One column list for every file: a base type the files disagree on becomes VARCHAR (civis-python)."""
    per_file = [f["detectedInfo"].get("tableColumns") or [] for f in files]
    if len({len(cols) for cols in per_file}) > 1:
        counts = ", ".join(f"file {f['id']}: {len(c)}" for f, c in zip(files, per_file))
        raise CivisError(f"All files must have the same number of columns, but: {counts}")
    columns = []
    for i, cols in enumerate(zip(*per_file), 1):
        name = next((c.get("name") for c in cols if c.get("name")), f"column_{i}")
        types = [str(c.get("sqlType") or c.get("sql_type") or "") for c in cols]
        bases = {t.split("(", 1)[0].strip().upper() for t in types}
        if len(bases) > 1 and "VARCHAR" not in bases:
            raise CivisError(f"Column {name!r} has different detected types across the files: {sorted(set(types))}")
        columns.append({"name": name, "sqlType": "VARCHAR" if len(bases) > 1 else types[0]})
    return columns


def preprocess_csv_files(hook: CivisHook, file_ids: list[int], *, detect_table_columns: bool,
                         include_header: bool | None = None, column_delimiter: str | None = None,
                         poll_interval: float = 1.0, timeout: float | None = DEFAULT_TIMEOUT) -> DetectedCsv:
    """Preprocess every file (all started before any is awaited) and return what they agree on."""
    refs = [_start(hook, fid, detect_table_columns=detect_table_columns, include_header=include_header,
                   column_delimiter=column_delimiter) for fid in file_ids]
    deadline = time.monotonic() + (timeout if timeout is not None else DEFAULT_TIMEOUT)
    for fid, ref in zip(file_ids, refs):
        _wait(hook, ref, fid, poll_interval, deadline)
    files = [_cleaned_file(hook, ref, fid) for fid, ref in zip(file_ids, refs)]
    return DetectedCsv(
        file_ids=[int(f["id"]) for f in files],
        include_header=bool(_agreed(files, "includeHeader")),
        column_delimiter=str(_agreed(files, "columnDelimiter")),
        compression=str(_agreed(files, "compression")),
        table_columns=_columns(files) if detect_table_columns else [],
    )
