"""pytest fixture ``civis_emulator``: a fresh Civis API emulator for one test, for any project.

Installed with ``civis-emulator`` as a ``pytest11`` plugin, so a test of code that talks to Civis (with
civis-python, civis-r's HTTP calls, or your own client) can ask for it with no conftest.py, as moto's
fixtures do for AWS:

``civis_emulator``
    An emulator on 127.0.0.1 (in this process, in a thread), with its own fresh data directory, stopped
    after the test. ``.base_url`` and ``.api_key`` say where it is; :meth:`EmulatorServer.client_env`
    gives the environment civis-python reads. Mark a test ``@pytest.mark.civis_emulator(pessimistic=True)``
    for an emulator that sets a job's ``lastRunUpdatedAt`` only when a run is created (the spec leaves
    open whether state changes move it).

Disable with ``-p no:civis_emulator``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the server pulls in FastAPI and DuckDB: imported only when a test asks for it
    from .server import EmulatorServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "civis_emulator(pessimistic=False): options of the civis_emulator fixture; pessimistic=True sets a "
        "job's lastRunUpdatedAt only when a run is created, never on its state changes",
    )


@pytest.fixture
def civis_emulator(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorServer]:
    """A fresh Civis API emulator for one test (about 0.3 s to start)."""
    from .server import EmulatorServer

    marker = request.node.get_closest_marker("civis_emulator")
    options = dict(marker.kwargs) if marker is not None else {}
    unknown = sorted(set(options) - {"pessimistic"})
    if unknown or (marker is not None and marker.args):
        raise pytest.UsageError(f"civis_emulator marker: unknown option(s) {unknown or marker.args}; use pessimistic=")
    server = EmulatorServer(
        api_key="civis-test-" + secrets.token_hex(8),
        data_dir=str(tmp_path_factory.mktemp("civis-emulator")),
        pessimistic=bool(options.get("pessimistic", False)),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
