"""Fixtures for differential tests: the official client and our operators against the session emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import civis
import pytest

from tests.conftest import API_KEY
from tests.integration.differential.harness import Recorder, check_against_table, compare, describe

POLL = 0.1
DB = "Civis Emulator Warehouse"
RUN = {"deferrable": False, "poll_interval": POLL}  # our operators poll in-process, as civis-python does


@pytest.fixture(scope="module")
def official(emulator):
    """``civis.APIClient`` aimed at the session emulator (its spec fetched from ``GET /endpoints``)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CIVIS_API_KEY", API_KEY)
        mp.setenv("CIVIS_API_ENDPOINT", emulator.base_url + "/")
        client = civis.APIClient(force_refresh_api_spec=True, user_agent="differential-official")
        # civis-python caches these per client (lru_cache): warm them so every comparison sees the same
        # official sequence whatever ran first; ours resolves them per task (one row in the table)
        client.get_database_id(DB)
        client.default_database_credential_id  # noqa: B018 - a cached property read for its side effect
        yield client


@pytest.fixture(scope="module")
def recorder(emulator) -> Recorder:
    return Recorder(emulator.base_url, API_KEY)


@pytest.fixture
def differential(recorder, civis_conn) -> Callable[..., Any]:
    """``differential(operation, official_fn, ours_fn)``: run both, compare, check docs/differential.md.

    Returns ``(official_result, our_result, differences)``.
    """

    def run(operation: str, official_fn: Callable[[], Any], ours_fn: Callable[[], Any]) -> tuple[Any, Any, set]:
        theirs, official_log = recorder.record(official_fn)
        mine, our_log = recorder.record(ours_fn)
        found = compare(operation, official_log, our_log)
        print(f"{operation}\nofficial client:\n{describe(official_log)}\nour operator:\n{describe(our_log)}")
        try:
            check_against_table(operation, found)
        except AssertionError as err:
            raise AssertionError(f"{err}\n\nofficial client:\n{describe(official_log)}\n\n"
                                 f"our operator:\n{describe(our_log)}") from None
        return theirs, mine, found

    return run


@pytest.fixture
def load_table(emulator, tmp_path) -> Callable[[Any, str], str]:
    """``load_table(frame, prefix)`` -> ``public.<fresh name>`` holding ``frame``, written straight into the
    warehouse (setup outside any recording, and independent of the import flows under test)."""
    import uuid

    def load(frame: Any, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
        emulator.app.state.emulator.warehouse.import_csv([str(path)], "public", name, if_exists="drop")
        return f"public.{name}"

    return load
