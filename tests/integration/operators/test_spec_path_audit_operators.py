"""Spec path audit, operator level: every request each public operator and sensor really sends is in the spec.

A tour runs each operator and sensor once against the real emulator while both hooks record every
(method, path) they send (``CivisHook._send`` / ``CivisAsyncHook._send``: the one place each hook's
requests pass, the trigger's and the poller's included). Every recorded request must match an
operation of the official spec. A public operator or sensor without a tour entry fails the audit, so
a new one cannot be skipped by forgetting it. (Per-kind run routes: ``tests/unit/contract/``.)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from airflow.exceptions import TaskDeferred

import airflow_civis.operators as operators
import airflow_civis.sensors as sensors
from airflow_civis.hooks.civis import CivisHook
from airflow_civis.hooks.civis_async import CivisAsyncHook
from airflow_civis.operators.enhancements import CivisCassNcoaOperator, CivisGeocodeOperator
from airflow_civis.operators.exports import CivisExportTableOperator
from airflow_civis.operators.files import CivisDownloadFileOperator, CivisUploadFileOperator
from airflow_civis.operators.imports import CivisImportCsvOperator
from airflow_civis.operators.jobs import CivisRunJobOperator
from airflow_civis.operators.ml import CivisMLPredictOperator, CivisMLTrainOperator
from airflow_civis.operators.queries import CivisQueryOperator
from airflow_civis.operators.scripts import CivisRunScriptOperator
from airflow_civis.operators.workflows import CivisRunWorkflowOperator
from airflow_civis.sensors.run import CivisRunSensor
from airflow_civis.sensors.table import CivisTableSensor
from airflow_civis.sensors.workflows import CivisWorkflowExecutionSensor
from civis_emulator.spec_index import get_index
from tests.helpers import first_event, make_context

RUN = {"deferrable": False, "poll_interval": 0.1}
ADDRESSES = "id,address,city,state,zip\n1,350 fifth avenue,New York,NY,10118\n2,1 main street,Cambridge,MA,02139\n"


class Tour:
    """What a tour entry needs: the emulator (for fixtures only) and a scratch directory."""

    def __init__(self, emulator: Any, tmp_path: Path) -> None:
        self.emulator, self.tmp_path = emulator, tmp_path

    def table(self, csv_text: str, prefix: str = "t") -> str:
        """A fresh warehouse table holding ``csv_text`` (test data, loaded straight into the warehouse)."""
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        path = self.tmp_path / f"{name}.csv"
        path.write_text(csv_text)
        self.emulator.app.state.emulator.warehouse.import_csv([str(path)], "scratch", name, if_exists="drop")
        return f"scratch.{name}"


def deferred(op: Any) -> Any:
    """Execute ``op`` through its trigger, as a triggerer would, and complete it."""
    ctx = make_context()
    try:
        return op.execute(ctx)
    except TaskDeferred as deferral:
        event = first_event(deferral.trigger)
        return getattr(op, deferral.method_name)(ctx, event.payload)


def run_script(t: Tour) -> Any:
    return deferred(CivisRunScriptOperator(task_id="s", script_type="python3", poll_interval=0.1, deferrable=True,
                                           script={"source": "import time\ntime.sleep(0.3)\nprint('hi')"}))


def run_job(t: Tour) -> Any:
    schema_table = t.table("id,name\n1,a\n")
    job = CivisHook().call("POST", "/imports", json={
        "name": "copy", "syncType": "Dbsync", "isOutbound": False,
        "source": {"remoteHostId": 1, "credentialId": 1}, "destination": {"remoteHostId": 1, "credentialId": 1}})
    schema, table = schema_table.split(".")
    CivisHook().call("POST", f"/imports/{job['id']}/syncs", json={
        "source": {"databaseTable": {"schema": schema, "table": table}},
        "destination": {"databaseTable": {"schema": schema, "table": f"{table}_copy"}}})
    CivisRunJobOperator(task_id="j", job_id=job["id"], kind="import", **RUN).execute(make_context())
    return deferred(CivisRunJobOperator(task_id="j2", job_id=job["id"], kind="import", poll_interval=0.1,
                                        deferrable=True))


def run_sensor(t: Tour) -> Any:
    result = run_script(t)
    sensor = CivisRunSensor(task_id="rs", job_id=result["job_id"], kind="python3", deferrable=False)
    assert sensor.poke(make_context())
    return CivisRunSensor(task_id="rs2", job_id=result["job_id"], run_id=result["run_id"], deferrable=True,
                          ).execute(make_context())


def table_sensor(t: Tour) -> Any:
    table = t.table("id\n1\n2\n")
    assert CivisTableSensor(task_id="ts", table=table, database=1, min_rows=2, deferrable=False).poke({})
    return deferred(CivisTableSensor(task_id="ts2", table=table, database=1, min_rows=2, poke_interval=0.05,
                                     deferrable=True))


def import_csv(t: Tour) -> Any:
    table = t.table("id,name\n0,z\n")
    source = t.tmp_path / "in.csv"
    source.write_text("id,name\n1,a\n2,b\n")
    return CivisImportCsvOperator(task_id="i", table=table, database=1, source_path=str(source), if_exists="append",
                                  **RUN).execute(make_context())


def export_table(t: Tour) -> Any:
    return CivisExportTableOperator(task_id="e", table=t.table("id\n1\n"), database=1,
                                    local_path=str(t.tmp_path / "out.csv"), **RUN).execute(make_context())


def query(t: Tour) -> Any:
    table = t.table("id\n1\n")
    return CivisQueryOperator(task_id="q", sql=f"SELECT * FROM {table}", database=1, preview_rows=5,
                              export_path=str(t.tmp_path / "q.csv"), **RUN).execute(make_context())


def upload(t: Tour) -> Any:
    path = t.tmp_path / "up.bin"
    path.write_bytes(b"x" * 2048)
    return CivisUploadFileOperator(task_id="u", local_path=str(path)).execute(make_context())


def download(t: Tour) -> Any:
    file_id = upload(t)
    return CivisDownloadFileOperator(task_id="d", file_id=file_id, local_path=str(t.tmp_path / "d.bin")).execute({})


def geocode(t: Tour) -> Any:
    table = t.table(ADDRESSES, "addr")
    schema, name = table.split(".")
    return CivisGeocodeOperator(task_id="g", source_table=table, target_schema=schema, target_table=f"{name}_geo",
                                existing_table_rows="drop", **RUN).execute(make_context())


def cass_ncoa(t: Tour) -> Any:
    table = t.table(ADDRESSES, "addr")
    return CivisCassNcoaOperator(task_id="c", source_table=table, destination_table=f"{table}_cass",
                                 multipart_key=["id"], **RUN).execute(make_context())


IRIS = "row_id,x1,x2,label\n" + "".join(f"{i},{i % 7},{(i * 3) % 11},{'a' if i % 2 else 'b'}\n" for i in range(1, 61))


def ml_train(t: Tour) -> Any:
    return CivisMLTrainOperator(task_id="train", model_type="sparse_logistic", dependent_variable="label",
                                table_name=t.table(IRIS, "ml"), primary_key="row_id", **RUN).execute(make_context())


def ml_predict(t: Tour) -> Any:
    trained = ml_train(t)
    table = t.table("row_id,x1,x2\n1,1,3\n2,2,6\n", "score")
    return CivisMLPredictOperator(task_id="predict", train_job_id=trained["job_id"], table_name=table,
                                  output_table=f"{table}_out", if_output_exists="drop", **RUN,
                                  ).execute(make_context())


def run_workflow(t: Tour) -> Any:
    """A one-task workflow (``POST /workflows``) around a container job, run in-process then deferred."""
    hook = CivisHook()
    job = hook.call("POST", "/scripts/containers", json={"name": "tour-wf-job", "dockerCommand": "echo hi",
                                                        "requiredResources": {"cpu": 256, "memory": 512}})
    definition = ("version: '2.0'\ntour:\n  tasks:\n    t0:\n      action: civis.run_job\n"
                  f"      input: {{job_id: {job['id']}}}\n")
    workflow_id = hook.call("POST", "/workflows", json={"name": "tour", "definition": definition})["id"]
    CivisRunWorkflowOperator(task_id="w", workflow_id=workflow_id, **RUN).execute(make_context())
    return deferred(CivisRunWorkflowOperator(task_id="w2", workflow_id=workflow_id, poll_interval=0.1,
                                             deferrable=True))


def workflow_sensor(t: Tour) -> Any:
    result = run_workflow(t)
    sensor = CivisWorkflowExecutionSensor(task_id="ws", workflow_id=result["workflow_id"], deferrable=False)
    assert sensor.poke(make_context())  # the latest execution
    return CivisWorkflowExecutionSensor(task_id="ws2", workflow_id=result["workflow_id"],
                                        execution_id=result["execution_id"], deferrable=True).execute(make_context())


TOUR: dict[type, Callable[[Tour], Any]] = {
    CivisRunScriptOperator: run_script,
    CivisRunJobOperator: run_job,
    CivisRunSensor: run_sensor,
    CivisTableSensor: table_sensor,
    CivisImportCsvOperator: import_csv,
    CivisExportTableOperator: export_table,
    CivisQueryOperator: query,
    CivisUploadFileOperator: upload,
    CivisDownloadFileOperator: download,
    CivisGeocodeOperator: geocode,
    CivisCassNcoaOperator: cass_ncoa,
    CivisMLTrainOperator: ml_train,
    CivisMLPredictOperator: ml_predict,
    CivisRunWorkflowOperator: run_workflow,
    CivisWorkflowExecutionSensor: workflow_sensor,
}


def test_the_tour_covers_every_public_operator_and_sensor():
    public = {getattr(module, name) for module in (operators, sensors) for name in module.__all__}
    missing = sorted(cls.__name__ for cls in public - set(TOUR))
    assert not missing, f"add a TOUR entry (one real run against the emulator) for: {missing}"


@pytest.fixture
def recorded(monkeypatch) -> list[tuple[str, str]]:
    """Every (method, API path) either hook sends while the test runs."""
    sent: list[tuple[str, str]] = []
    sync_send, async_send = CivisHook._send, CivisAsyncHook._send

    def record_sync(self, method, path, url, **kwargs):
        sent.append((method, path))
        return sync_send(self, method, path, url, **kwargs)

    async def record_async(self, client, method, path, **kwargs):
        sent.append((method, path))
        return await async_send(self, client, method, path, **kwargs)

    monkeypatch.setattr(CivisHook, "_send", record_sync)
    monkeypatch.setattr(CivisAsyncHook, "_send", record_async)
    return sent


@pytest.mark.parametrize("cls", list(TOUR), ids=lambda cls: cls.__name__)
def test_every_request_an_operator_sends_is_in_the_spec(cls, civis_conn, tmp_path, recorded):
    TOUR[cls](Tour(civis_conn, tmp_path))
    assert recorded, f"{cls.__name__} sent no request"
    index = get_index()
    missing = sorted({f"{method} {path}" for method, path in recorded if index.match(method, path) is None})
    assert not missing, f"{cls.__name__} sent requests the Civis API spec does not have: {missing}"
