"""RunLogFollower and the logs page reader, one function at a time (HTTP boundary scripted)."""

from __future__ import annotations

import time

import pytest

from airflow_civis.hooks import civis as civis_hook
from airflow_civis.hooks.run_logs import LogLines, RunLogFollower, log_lines
from airflow_civis.runs import RunRef
from tests.unit.hooks.test_hook import civis_connection, hook_with  # noqa: F401 - fixture reused

RUN = RunRef("python3", 1, 2)


class PublishedLogs:
    """Stands in for the hook: serves the lines published so far, above ``last_id``, as the API does."""

    def __init__(self) -> None:
        self.lines: list[dict] = []
        self.final = False
        self.cursors: list[int | None] = []

    def publish(self, *ids: int) -> None:
        self.lines += [{"id": i, "message": f"line {i}"} for i in ids]

    def get_run_logs(self, run: RunRef, last_id: int | None = None) -> LogLines:
        self.cursors.append(last_id)
        page = LogLines(sorted((x for x in self.lines if last_id is None or x["id"] > last_id),
                               key=lambda x: x["id"]))
        page.final = self.final
        return page


def ids(lines: list[dict]) -> list[int]:
    return [line["id"] for line in lines]


def test_a_lower_id_published_after_a_higher_one_is_returned_once():
    api = PublishedLogs()
    follower = RunLogFollower(api, RUN)  # type: ignore[arg-type]
    api.publish(1, 2, 9)  # 9: the platform's line; 3..8: the process's, still with the shipper
    assert ids(follower.read_new()) == [1, 2, 9]
    api.publish(8, 7)
    assert ids(follower.read_new()) == [7, 8]
    api.publish(6, 5, 4, 3)
    assert ids(follower.read_new()) == [3, 4, 5, 6]
    assert follower.read_new() == [] and follower.read_all() == []


def test_reads_again_below_the_newest_lines_seen_and_read_all_finds_what_the_window_misses():
    api = PublishedLogs()
    follower = RunLogFollower(api, RUN, refetch=10)  # type: ignore[arg-type]
    api.publish(*range(100, 150))
    assert len(follower.read_new()) == 50
    api.publish(139, 50)  # 139 is a repeat; 50 is far below the re-read window
    assert follower.read_new() == []
    assert api.cursors[-1] == 139  # the 11th newest id seen: the newest 10 are asked for again
    assert ids(follower.read_all()) == [50]
    assert api.cursors[-1] == 0


def test_wait_for_late_lines_stops_when_the_log_is_complete():
    api = PublishedLogs()
    follower = RunLogFollower(api, RUN)  # type: ignore[arg-type]
    batches: list[list[int]] = []

    def on_lines(lines: list[dict]) -> None:
        batches.append(ids(lines))
        if len(batches) == 1:
            api.publish(2)
        else:
            api.final = True

    api.publish(5)
    waited = follower.wait_for_late_lines(30, 0.01, on_lines)
    assert batches == [[5], [2]] and follower.final and waited < 5


def test_wait_for_late_lines_is_bounded():
    api = PublishedLogs()  # never final: the API keeps saying more may come
    follower = RunLogFollower(api, RUN)  # type: ignore[arg-type]
    started = time.monotonic()
    waited = follower.wait_for_late_lines(0.3, 0.05, lambda lines: None)
    assert 0.3 <= waited < 3 and time.monotonic() - started < 3 and not follower.final
    assert len(api.cursors) >= 2


@pytest.mark.parametrize(("headers", "final", "max_id"), [
    ({}, False, None),
    ({"Civis-Cache-Control": "no-store", "Civis-Max-Id": "7"}, False, 7),
    ({"Civis-Cache-Control": "max-age=31536000", "Civis-Max-Id": "9"}, True, 9),
])
def test_log_headers(headers, final, max_id):
    lines = log_lines([{"id": 3}, {"id": 1}], headers)
    assert ids(lines) == [1, 3] and lines.final is final and lines.max_id == max_id


def test_get_run_logs_pages_past_a_full_page(monkeypatch):
    monkeypatch.setattr(civis_hook, "LOG_PAGE_SIZE", 2)
    hook, adapter = hook_with([
        (200, [{"id": 4}, {"id": 3}], {"Civis-Cache-Control": "no-store"}),
        (200, [{"id": 6}], {"Civis-Cache-Control": "max-age=60"}),
    ])
    lines = hook.get_run_logs(RUN, last_id=0)
    assert ids(lines) == [3, 4, 6] and lines.final
    assert "last_id=0" in adapter.requests[0].url and "last_id=4" in adapter.requests[1].url
