"""CivisJobEventTrigger: run this DAG whenever a Civis job's new run ends succeeded or failed."""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, Asset, AssetWatcher, task

from airflow_civis.triggers import CivisJobEventTrigger

NIGHTLY_LOAD = int(os.environ.get("CIVIS_NIGHTLY_LOAD_JOB_ID", "1"))  # a job on Civis's own schedule

nightly_load_ended = Asset(
    name="civis_nightly_load_ended",
    uri=f"civis-job://{NIGHTLY_LOAD}",
    watchers=[AssetWatcher(
        name="civis_nightly_load_watcher",
        trigger=CivisJobEventTrigger(job_id=NIGHTLY_LOAD, states=["succeeded", "failed"], poll_interval=60),
    )],
)

with DAG("civis_doc_job_event_trigger", schedule=[nightly_load_ended], start_date=datetime(2024, 1, 1),
         catchup=False):

    @task
    def after_nightly_load(**context) -> None:
        for event in context["triggering_asset_events"][nightly_load_ended]:
            run = event.extra["payload"]  # {"job_id", "run_id", "state", "finished_at", "civis_conn_id"}
            if run["state"] == "failed":
                raise RuntimeError(f"Civis job {run['job_id']} run {run['run_id']} failed")
            print(f"Civis job {run['job_id']} run {run['run_id']} succeeded at {run['finished_at']}")

    after_nightly_load()
