"""Civis Workflows in the emulator: read a Mistral v2 definition (``definition``), run its executions
(``engine``). The HTTP side is ``routers/workflows.py``."""

from .definition import Definition, DefinitionError, parse_definition
from .engine import ExecutionError, engine_for, execution_state

__all__ = ["Definition", "DefinitionError", "ExecutionError", "engine_for", "execution_state", "parse_definition"]
