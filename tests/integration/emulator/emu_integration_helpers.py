"""Shared by the emulator integration tests: their API key, and the one set of wait helpers."""

from __future__ import annotations

from tests.helpers import wait_for, wait_run

KEY = "integration-test-key"

__all__ = ["KEY", "wait_for", "wait_run"]
