"""Starting a workflow execution goes through the same exactly-once start as job runs."""

from __future__ import annotations

import json

import pytest

from airflow_civis.hooks.workflows import CivisWorkflowHook
from airflow_civis.runs import RunRef
from tests.transports import scripted


@pytest.fixture(autouse=True)
def connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_CIVIS_DEFAULT", json.dumps(
        {"conn_type": "civis", "password": "k", "host": "https://api.example.test"}))
    monkeypatch.setattr("tenacity.nap.time.sleep", lambda s: None)


def test_an_execution_started_by_an_ambiguous_post_is_adopted_not_started_again():
    transport = scripted([
        (200, {"id": 3, "lastExecutionId": 40}),  # the baseline, read before the POST
        (502, {"errorDescription": "gateway"}),  # the POST: may have taken effect
        (200, {"id": 3, "lastExecutionId": 41}),  # it did: a newer execution
    ])
    ref = CivisWorkflowHook(transport=transport).start_execution(3, {"input": {}})
    assert ref == RunRef("workflow", 3, 41)
    assert [method for method, _ in transport.sent] == ["GET", "POST", "GET"]


def test_an_ambiguous_post_that_started_nothing_is_sent_again():
    transport = scripted([
        (200, {"id": 3, "lastExecutionId": None}),
        (504, None),
        (200, {"id": 3, "lastExecutionId": None}),  # nothing started
        (201, {"id": 42, "state": "running"}),
    ])
    assert CivisWorkflowHook(transport=transport).start_execution(3, {}) == RunRef("workflow", 3, 42)
    assert [method for method, _ in transport.sent].count("POST") == 2
