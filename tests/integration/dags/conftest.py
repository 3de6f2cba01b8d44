from __future__ import annotations

import pytest

from tests.conftest import API_KEY


@pytest.fixture(scope="module")
def emulator_process(tmp_path_factory):
    """The emulator as a separate process, as ``make demo`` and a DAG author run it."""
    from civis_emulator.process import start_emulator_process, stop_emulator_process

    proc, base_url = start_emulator_process(API_KEY, data_dir=str(tmp_path_factory.mktemp("emu")))
    from tests.contract_plugin import collect_contract_report

    yield base_url
    try:
        collect_contract_report(base_url, API_KEY)
    finally:
        stop_emulator_process(proc)
