"""``civis.utils.run_job`` vs ``CivisRunJobOperator``: start a run of an existing job and wait for it."""

from __future__ import annotations

import uuid

from airflow_civis.operators.jobs import CivisRunJobOperator
from tests.helpers import make_context
from tests.integration.differential.conftest import POLL, RUN, civis


def test_run_job(official, differential):
    job = official.scripts.post_python3(name=f"diff-{uuid.uuid4().hex[:6]}", source="print('differential')\n")

    def theirs():
        return civis.utils.run_job(job.id, client=official, polling_interval=POLL).result(timeout=120)

    def ours():
        return CivisRunJobOperator(task_id="run_job", job_id=job.id, **RUN).execute(make_context())

    their_run, our_result, _ = differential("run_job", theirs, ours)
    assert their_run.state == "succeeded" and our_result["state"] == "succeeded"
