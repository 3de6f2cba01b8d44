"""A quick guess at an uploaded file's CSV properties (header, delimiter, gzip, column types) from its
first few KB, as the real API reports in a file's ``detectedInfo``; also a reader that gunzips."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import zlib
from typing import Any

SNIFF_BYTES = 64 * 1024
_DELIMITER_NAMES = {",": "comma", "\t": "tab", "|": "pipe"}


def _infer_type(values: list[str]) -> str:
    present = [v.strip() for v in values if v.strip() != ""]
    if not present:
        return "VARCHAR(256)"

    def all_match(test: Any) -> bool:
        for v in present:
            try:
                if not test(v):
                    return False
            except ValueError:
                return False
        return True

    if all(v.lower() in {"true", "false", "t", "f"} for v in present):
        return "BOOLEAN"
    if all_match(lambda v: v.lstrip("+-").isdigit() and -2**31 <= int(v) < 2**31):
        return "INTEGER"
    if all_match(lambda v: v.lstrip("+-").isdigit() and -2**63 <= int(v) < 2**63):
        return "BIGINT"
    if all_match(lambda v: float(v) is not None):
        return "DOUBLE PRECISION"
    if all_match(lambda v: len(v) == 10 and dt.date.fromisoformat(v) is not None):
        return "DATE"
    if all_match(lambda v: len(v) > 10 and v[10] in " T" and dt.datetime.fromisoformat(v) is not None):
        return "TIMESTAMP"
    return f"VARCHAR({max(len(v.encode()) for v in present)})"


def detect_csv(path: str) -> dict[str, Any] | None:
    """``{includeHeader, columnDelimiter, compression, tableColumns}`` guessed from the first
    :data:`SNIFF_BYTES` of a (possibly gzipped) file, or ``None`` when it does not look like CSV."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError:
        return None
    compression = "none"
    if head[:2] == b"\x1f\x8b":
        compression = "gzip"
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, SNIFF_BYTES)
        except zlib.error:
            return None
    if not head or b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a multi-byte character cut at the end
            return None
        text = head[: exc.start].decode("utf-8")
    if len(head) >= SNIFF_BYTES or compression == "gzip":
        cut = text.rfind("\n")  # drop a partial last line
        text = text[: cut + 1] if cut > 0 else text
    lines = text.splitlines()
    if not lines:
        return None
    delimiter = _guess_delimiter(lines)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    rows = [r for r in rows if r]
    if not rows:
        return None
    width = len(rows[0])
    body = [r for r in rows[1:] if len(r) == width]
    include_header = _guess_header(rows[0], body)
    data = body if include_header else [rows[0]] + body
    names = ([n.strip() or f"column{i}" for i, n in enumerate(rows[0])] if include_header
             else [f"column{i}" for i in range(width)])
    columns = [{"name": name, "sqlType": _infer_type([r[i] for r in data])} for i, name in enumerate(names)]
    return {"includeHeader": include_header, "columnDelimiter": _DELIMITER_NAMES[delimiter],
            "compression": compression, "tableColumns": columns}


def _guess_delimiter(lines: list[str]) -> str:
    """The candidate whose count per line is the most consistent and non-zero."""
    sample = lines[:50]
    best, best_score = ",", (-1, -1)
    for candidate in (",", "\t", "|"):
        counts = [len(next(csv.reader([line], delimiter=candidate), [])) - 1 for line in sample]
        if not counts or max(counts) == 0:
            continue
        agreeing = sum(1 for c in counts if c == counts[0])
        score = (agreeing, counts[0])
        if score > best_score:
            best, best_score = candidate, score
    return best


def _looks_numeric(value: str) -> bool:
    try:
        float(value)
        return True
    except ValueError:
        return False


def _guess_header(first: list[str], body: list[list[str]]) -> bool:
    """A header has no numbers or empty names, and differs in kind from the rows below it."""
    if any(_looks_numeric(v) or not v.strip() for v in first):
        return False
    if len(set(first)) != len(first):
        return False
    if not body:
        return True
    for i, name in enumerate(first):
        column = [r[i] for r in body if r[i].strip()]
        if column and all(_looks_numeric(v) for v in column):
            return True
        if name in column:
            return False
    # every column is text: a header only if its values never repeat in the data
    return not any(name in {r[i] for r in body} for i, name in enumerate(first))


def open_maybe_gzip(path: str) -> io.BufferedIOBase:
    """Open a stored file for reading, transparently gunzipping it (for previews)."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")  # noqa: SIM115
