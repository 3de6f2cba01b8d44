"""Reading just enough of a CSV source in Python: its first record (column count and header)."""

from __future__ import annotations

import csv
import gzip
import io
import os

from .errors import WarehouseError

DELIMITERS = {"comma": ",", "tab": "\t", "pipe": "|", ",": ",", "\t": "\t", "|": "|"}
COMPRESSIONS = ("none", "gzip")


def normalize_delimiter(delimiter: str) -> str:
    """Accept a character (``,``, ``\\t``, ``|``) or the Civis names ``comma``, ``tab``, ``pipe``."""
    try:
        return DELIMITERS[delimiter]
    except (KeyError, TypeError):
        raise WarehouseError(
            f"Unsupported column delimiter {delimiter!r}: use comma, tab or pipe"
        ) from None


def normalize_compression(compression: str) -> str:
    if compression not in COMPRESSIONS:
        raise WarehouseError(f"Unsupported compression {compression!r}: use 'none' or 'gzip'")
    return compression


def first_record(path: str, *, delimiter: str, compression: str, escaped: bool) -> list[str] | None:
    """The first CSV record of ``path`` (``None`` for an empty file); reads only what it needs."""
    if not os.path.isfile(path):
        raise WarehouseError(f"Source file not found: {os.path.basename(path)}")
    try:
        raw = gzip.open(path, "rb") if compression == "gzip" else open(path, "rb")  # noqa: SIM115
        with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="") as text:
            reader = csv.reader(
                text,
                delimiter=delimiter,
                quotechar='"',
                escapechar="\\" if escaped else None,
                doublequote=not escaped,
                strict=False,
            )
            return next(reader, None)
    except (OSError, EOFError, csv.Error) as exc:
        raise WarehouseError(f"Cannot read source file {os.path.basename(path)}: {exc}") from None
