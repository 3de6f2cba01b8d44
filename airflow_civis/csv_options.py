"""CSV settings shared by imports, queries and exports: one table of column delimiters.

The API names a delimiter ``comma``, ``tab`` or ``pipe`` (``columnDelimiter``); a DAG may give either that
name or the character itself.
"""

from __future__ import annotations

from typing import Any

#: Every spelling a DAG may use -> the API's name for it.
DELIMITERS = {",": "comma", "\t": "tab", "|": "pipe", "comma": "comma", "tab": "tab", "pipe": "pipe"}
#: The API's name -> the character in the file.
DELIMITER_CHARACTERS = {"comma": ",", "tab": "\t", "pipe": "|"}


def delimiter_name(value: Any, task_id: str) -> str:
    """The API's name (``comma``/``tab``/``pipe``) for ``value``; a parse-time error naming the choices."""
    if not isinstance(value, str) or value not in DELIMITERS:
        raise ValueError(f"Task {task_id!r}: delimiter must be one of ',', '\\t', '|' (or comma, tab, pipe); "
                         f"got {value!r}")
    return DELIMITERS[value]


def delimiter_character(value: Any, task_id: str) -> str:
    """The character (``,``/``\\t``/``|``) for ``value``, as the CSV file holds it."""
    return DELIMITER_CHARACTERS[delimiter_name(value, task_id)]
