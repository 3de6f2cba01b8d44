"""Built-in runners: scripts (python3, containers, r, javascript, custom). Importing registers them."""

from __future__ import annotations

from . import scripts  # noqa: F401
