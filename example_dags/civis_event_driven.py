"""
civis_event_driven: a DAG run each time a Civis job, run on Civis's own schedule, succeeds.

The asset ``civis-job://<id>`` (a scheme this provider registers: Airflow rejects anything but a positive
job id there at parse time; ``civis://`` is its scheme for warehouse tables) is watched
by ``CivisJobEventTrigger`` in the triggerer: every *new* run of the job that ends ``succeeded`` becomes
one asset event, and each event one DAG run (a run that was there before the watcher started never
fires; a run fires once, also across a triggerer restart on Airflow 3.3+). The task reads which Civis
run it was from the triggering event's payload.

Which job: ``CIVIS_EVENT_JOB_ID`` (an environment variable, read at parse time; a Variable lookup at
parse time would cost a database call per parse). Point ``civis_default`` at Civis or at the emulator.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_civis.triggers.events import CivisJobEventTrigger

JOB_ID = int(os.environ.get("CIVIS_EVENT_JOB_ID", "1"))
POLL_INTERVAL = float(os.environ.get("CIVIS_EVENT_POLL_INTERVAL", "30"))

civis_job_succeeded = Asset(
    name=f"civis_job_{JOB_ID}_succeeded",
    uri=f"civis-job://{JOB_ID}",
    watchers=[
        AssetWatcher(
            name=f"civis_job_{JOB_ID}_watcher",
            trigger=CivisJobEventTrigger(job_id=JOB_ID, states=["succeeded"], poll_interval=POLL_INTERVAL),
        )
    ],
)

with DAG(
    "civis_event_driven",
    schedule=[civis_job_succeeded],
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["civis", "example"],
):

    @task
    def report_civis_run(**context) -> list[int]:
        """The Civis run(s) behind this DAG run: the event payload carries job id, run id and state."""
        runs = []
        for event in context["triggering_asset_events"][civis_job_succeeded]:
            payload = (event.extra or {}).get("payload", {})
            print(f"Civis job {payload.get('job_id')} run {payload.get('run_id')} ended {payload.get('state')}")
            runs.append(payload.get("run_id"))
        return runs

    report_civis_run()
