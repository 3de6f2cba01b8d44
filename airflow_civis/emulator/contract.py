"""Placeholder: the spec contract (issue 9) replaces this with response/request validation."""

from __future__ import annotations


def install_contract(app) -> None:  # pragma: no cover - replaced by the contract module
    """Attach spec validation to the emulator app (no-op until the contract lands)."""
