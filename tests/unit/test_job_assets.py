"""``civis-job://<job id>`` assets (the event trigger's): Airflow's own URI normalisation, through the
handler this provider registers, accepts a positive integer job id only and folds its spellings."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from airflow.sdk import Asset

ROOT = Path(__file__).resolve().parents[2]
EVENT_EXAMPLES = [ROOT / "example_dags" / "civis_event_driven.py",
                  ROOT / "example_dags" / "docs" / "civis_doc_job_event_trigger.py"]


@pytest.mark.parametrize("written", ["civis-job://42", "civis-job://0042", "civis-job://42/", "CIVIS-JOB://42",
                                     "civis-job://42#run"])
def test_one_job_is_one_asset_however_written(written):
    assert Asset(uri=written).uri == "civis-job://42"


@pytest.mark.parametrize("bad", ["civis-job://abc", "civis-job://0", "civis-job://-3", "civis-job://4.2",
                                 "civis-job://", "civis-job://12/runs/3", "civis-job://12?state=failed",
                                 "civis-job://12:80", "civis-job://１２"])
def test_anything_but_a_positive_job_id_fails_when_the_asset_is_made(bad):
    with pytest.raises(ValueError, match=r"civis-job://<job id> with the positive integer id of the Civis job") as err:
        Asset(uri=bad)
    assert "CivisJobEventTrigger" in str(err.value)  # names where the id comes from


def test_the_message_shows_the_uri_as_written():
    with pytest.raises(ValueError, match=r"got 'civis-job://abc'$"):
        Asset(uri="civis-job://abc")


@pytest.mark.parametrize("example", EVENT_EXAMPLES, ids=lambda p: p.name)
def test_event_examples_watch_a_registered_job_asset(example, monkeypatch):
    """The event examples' asset is ``civis-job://<id>`` of the job their trigger watches, normalised by
    the handler Airflow registered for that scheme."""
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    monkeypatch.setenv("CIVIS_EVENT_JOB_ID", "0077")
    monkeypatch.setenv("CIVIS_NIGHTLY_LOAD_JOB_ID", "77")
    assets = [v for v in runpy.run_path(str(example)).values() if isinstance(v, Asset)]
    assert [a.uri for a in assets] == ["civis-job://77"]
    assert [w.trigger.job_id for w in assets[0].watchers] == [77]
    assert "civis-job" in ProvidersManagerTaskRuntime().asset_uri_handlers


def test_the_table_refresh_watchers_documented_asset_is_the_tables_registered_civis_asset():
    """docs/operators/job-event-trigger.md: the table-refresh watcher's snippet runs as written, and its
    asset is the table's ``civis://`` asset (the scheme with its own registered normaliser)."""
    from airflow.sdk import AssetWatcher

    from airflow_civis.lineage import civis_table_asset
    from airflow_civis.triggers import CivisTableRefreshEventTrigger

    page = (ROOT / "docs" / "operators" / "job-event-trigger.md").read_text()
    (snippet,) = [block.split("```")[0] for block in page.split("```python\n")[1:] if "TableRefresh" in block]
    names = {"Asset": Asset, "AssetWatcher": AssetWatcher, "civis_table_asset": civis_table_asset,
             "CivisTableRefreshEventTrigger": CivisTableRefreshEventTrigger}
    exec(snippet, names)
    asset = names["orders_refreshed"]
    assert asset.uri == Asset(uri="CIVIS://Warehouse/Sales/Orders/").uri == "civis://Warehouse/sales/orders"
    assert isinstance(asset.watchers[0].trigger, CivisTableRefreshEventTrigger)
