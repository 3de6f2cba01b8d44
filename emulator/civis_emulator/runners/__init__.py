"""Built-in runners: scripts (python3, containers, r, javascript, custom) and data movement (CSV imports,
queries, SQL scripts, CSV exports, CSV preprocess). Importing registers them."""

from __future__ import annotations

from .. import civisml, enhancements  # noqa: F401,E402 - CivisML programs (via scripts) and enhancement runners
from . import data, imports, preprocess, scripts  # noqa: F401
