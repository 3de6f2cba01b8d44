"""Emulated data enhancements: geocoding and CASS/NCOA on warehouse tables (runners for their jobs).

Results come from offline data packages (``zipcodes``, ``usaddress-scourgify``, emulator extras) and
are deterministic; every run says in its log, its output table and its ``summary`` output which
precision it has (see :mod:`.addresses`).
"""

from __future__ import annotations

from ..runs import register_runner
from .programs import CASS_JOB_TYPE, GEOCODE_JOB_TYPE, run_cass_ncoa, run_geocode

register_runner(GEOCODE_JOB_TYPE, run_geocode)
register_runner(CASS_JOB_TYPE, run_cass_ncoa)

__all__ = ["CASS_JOB_TYPE", "GEOCODE_JOB_TYPE"]
