"""``civis.io.query_civis`` vs ``CivisQueryOperator``: run SQL as a SQL script and wait."""

from __future__ import annotations

from airflow_civis.operators.queries import CivisQueryOperator
from tests.helpers import make_context
from tests.integration.differential.conftest import DB, POLL, RUN, civis

SQL = "SELECT 1 AS one, 'x' AS two"


def test_query_civis(official, differential):
    def theirs():
        return civis.io.query_civis(SQL, DB, client=official, polling_interval=POLL).result(timeout=120)

    def ours():
        return CivisQueryOperator(task_id="query", sql=SQL, database=DB, **RUN).execute(make_context())

    their_run, our_result, _ = differential("query_civis", theirs, ours)
    assert their_run.state == "succeeded" and our_result["job_id"]
