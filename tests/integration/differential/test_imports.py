"""``civis.io.civis_file_to_table`` / ``dataframe_to_civis`` vs ``CivisImportCsvOperator``: CSV into a table.

One comparison per ``existing_table_rows`` mode the issue names: a new table, append, drop, upsert.
"""

from __future__ import annotations

import io
import json
import time
import urllib.request
import uuid

import pandas as pd
import pytest

from airflow_civis.operators.imports import CivisImportCsvOperator
from tests.conftest import API_KEY
from tests.helpers import make_context
from tests.integration.differential.conftest import DB, POLL, RUN, civis

CSV = b"id,name,score\n1,alpha,1.5\n2,beta,2.25\n"
FRAME = pd.DataFrame({"id": [1, 2], "name": ["alpha", "beta"], "score": [1.5, 2.25]})


def _table() -> str:
    return f"scratch.imp_{uuid.uuid4().hex[:8]}"


def _count(official, table: str) -> int:
    fut = civis.io.read_civis(table, DB, client=official, use_pandas=False, polling_interval=POLL)
    return len(fut) - 1


def test_civis_file_to_table_new_table(official, differential):
    file_id = civis.io.file_to_civis(io.BytesIO(CSV), "rows.csv", client=official)
    theirs_table, ours_table = _table(), _table()

    def theirs():
        return civis.io.civis_file_to_table(file_id, DB, theirs_table, client=official,
                                            polling_interval=POLL).result(timeout=120)

    def ours():
        return CivisImportCsvOperator(task_id="import", table=ours_table, database=DB, file_ids=[file_id],
                                      **RUN).execute(make_context())

    _, result, _ = differential("civis_file_to_table", theirs, ours)
    assert result["rows_loaded"] == 2 and _count(official, theirs_table) == 2


MODES = {
    "new": {},
    "append": {"existing_table_rows": "append"},
    "drop": {"existing_table_rows": "drop"},
    "upsert": {"existing_table_rows": "upsert", "primary_keys": ["id"], "last_modified_keys": ["score"]},
}


@pytest.mark.parametrize("mode", list(MODES))
def test_dataframe_to_civis(official, differential, tmp_path, mode):
    kwargs = MODES[mode]
    theirs_table, ours_table = _table(), _table()
    source = tmp_path / "frame.csv"
    FRAME.to_csv(source, index=False)
    if mode != "new":  # the table exists already, with the same rows
        for table in (theirs_table, ours_table):
            civis.io.dataframe_to_civis(FRAME, DB, table, client=official, polling_interval=POLL,
                                        **({"primary_keys": ["id"], "last_modified_keys": ["score"]}
                                           if mode == "upsert" else {})).result(timeout=120)

    def theirs():
        return civis.io.dataframe_to_civis(FRAME, DB, theirs_table, client=official, polling_interval=POLL,
                                           **kwargs).result(timeout=120)

    ours_kwargs = {"if_exists": kwargs.get("existing_table_rows", "fail"),
                   "primary_keys": kwargs.get("primary_keys"), "last_modified_keys": kwargs.get("last_modified_keys")}

    def ours():
        return CivisImportCsvOperator(task_id="import", table=ours_table, database=DB, source_path=str(source),
                                      **ours_kwargs, **RUN).execute(make_context())

    differential(f"dataframe_to_civis:{mode}", theirs, ours)
    expected = 4 if mode == "append" else 2
    assert _count(official, theirs_table) == _count(official, ours_table) == expected


def test_import_sends_execution_and_redshift_options_only_when_given(official, emulator, civis_conn, tmp_path):
    source = tmp_path / "frame.csv"
    FRAME.to_csv(source, index=False)
    bodies = {}
    for name, extra in {"plain": {}, "layout": {"diststyle": "key", "distkey": "id", "sortkeys": ["id", "name"]},
                        "delayed": {"execution": "delayed"}}.items():
        result = CivisImportCsvOperator(task_id=f"import_{name}", table=_table(), database=DB, source_path=str(source),
                                        **extra, **RUN).execute(make_context())
        request = urllib.request.Request(f"{emulator.base_url}/imports/files/csv/{result['job_id']}",
                                         headers={"Authorization": f"Bearer {API_KEY}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            bodies[name] = json.loads(response.read())
        assert _count(official, f"{result['schema']}.{result['table']}") == 2
    assert bodies["plain"]["execution"] == "immediate"  # civis-python's default, not the API's "delayed"
    assert not any((bodies["plain"].get("redshiftDestinationOptions") or {}).values())
    assert bodies["layout"]["redshiftDestinationOptions"] == {"diststyle": "key", "distkey": "id",
                                                              "sortkeys": ["id", "name"]}
    assert bodies["delayed"]["execution"] == "delayed"


def test_upserted_rows_are_in_the_table_when_the_task_ends_unless_delayed(official, emulator, civis_conn, tmp_path):
    """The API's default ``execution: "delayed"`` moves upserted rows after the run; the operator sends
    ``"immediate"`` (as civis-python) so a downstream task sees them."""
    warehouse = emulator.app.state.emulator.warehouse
    source = tmp_path / "more.csv"
    pd.DataFrame({"id": [2, 3], "name": ["beta", "gamma"], "score": [9.0, 3.5]}).to_csv(source, index=False)

    def count(table: str) -> int:
        return int(warehouse.query(f"SELECT count(*) FROM {table}").rows[0][0])

    counts = {}
    for execution in ("immediate", "delayed"):
        table = _table()
        civis.io.dataframe_to_civis(FRAME, DB, table, client=official, polling_interval=POLL, primary_keys=["id"],
                                    last_modified_keys=["score"]).result(timeout=120)
        CivisImportCsvOperator(task_id=f"upsert_{execution}", table=table, database=DB, source_path=str(source),
                               if_exists="upsert", primary_keys=["id"], last_modified_keys=["score"],
                               execution=execution, **RUN).execute(make_context())
        counts[execution] = (table, count(table))
    assert counts["immediate"][1] == 3
    table, right_after = counts["delayed"]
    assert right_after == 2, "a delayed upsert landed before the run ended: the emulator no longer delays it"
    deadline = time.monotonic() + 30
    while count(table) != 3:
        assert time.monotonic() < deadline, "the delayed upsert never landed"
        time.sleep(0.1)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"execution": "later"}, "execution"),
    ({"diststyle": "random"}, "diststyle"),
    ({"distkey": ""}, "distkey"),
    ({"sortkeys": ["a", "b", "c"]}, "sortkeys"),
    ({"sortkeys": "id"}, "sortkeys"),
])
def test_bad_import_options_fail_at_parse_time(kwargs, field):
    with pytest.raises(ValueError, match=rf"Task 'import'.*{field}"):
        CivisImportCsvOperator(task_id="import", table="scratch.t", database=DB, file_ids=[1], **kwargs)
