"""The wait for a CSV preprocess run: short first checks, doubling up to poll_interval, within the deadline."""

from __future__ import annotations

import time

import pytest

from airflow_civis.exceptions import CivisRunError, CivisRunTimeoutError
from airflow_civis.hooks import csv_preprocess
from airflow_civis.runs import RunRef


class ScriptedRuns:
    """Answers ``get_run`` with the given states in turn (the last one repeats)."""

    def __init__(self, *states: str) -> None:
        self.states, self.reads = list(states), 0

    def get_run(self, ref: RunRef) -> dict:
        state = self.states[min(self.reads, len(self.states) - 1)]
        self.reads += 1
        return {"state": state, "error": "bad bytes" if state == "failed" else None}

    def get_run_logs(self, ref: RunRef) -> list[dict]:
        return [{"message": "File 7: could not be read"}]


@pytest.fixture
def sleeps(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(csv_preprocess.time, "sleep", slept.append)
    return slept


REF = RunRef("job", 3, 4)


def test_checks_start_short_and_double_up_to_the_poll_interval(sleeps):
    hook = ScriptedRuns("queued", "running", "running", "running", "running", "running", "succeeded")
    csv_preprocess._wait(hook, REF, 7, poll_interval=1.0, deadline=time.monotonic() + 60)
    assert sleeps == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0] and hook.reads == 7


def test_a_short_poll_interval_is_never_exceeded(sleeps):
    csv_preprocess._wait(ScriptedRuns("running", "running", "succeeded"), REF, 7, poll_interval=0.05,
                         deadline=time.monotonic() + 60)
    assert sleeps == [0.05, 0.05]


def test_a_finished_run_is_not_waited_for(sleeps):
    csv_preprocess._wait(ScriptedRuns("succeeded"), REF, 7, poll_interval=10, deadline=time.monotonic() + 60)
    assert sleeps == []


def test_the_deadline_ends_the_wait(sleeps):
    with pytest.raises(CivisRunTimeoutError, match="CSV preprocess of file 7"):
        csv_preprocess._wait(ScriptedRuns("running"), REF, 7, poll_interval=10, deadline=time.monotonic() - 1)


def test_a_failed_run_raises_with_its_error_and_log(sleeps):
    with pytest.raises(CivisRunError, match="CSV preprocess of file 7 failed.*bad bytes") as info:
        csv_preprocess._wait(ScriptedRuns("failed"), REF, 7, poll_interval=10, deadline=time.monotonic() + 60)
    assert info.value.log_tail == ["File 7: could not be read"]
