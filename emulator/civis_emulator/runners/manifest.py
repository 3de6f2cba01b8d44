"""The unload manifest of a SQL script run with ``csvSettings.forceMultifile``.

On Civis such a run unloads the result in parallel into headerless CSV parts and its one output is a
JSON manifest (``civis.io.civis_to_multifile_csv`` reads run output 0; civis-r concatenates the parts
with ``cat``, so they carry no header): ``query``, ``header`` (the column names, when
``includeHeader``), ``delimiter``, ``compression``, ``unquoted`` and ``entries``, one per part in result
order with ``id``, ``name``, ``size``, ``url`` (unsigned, ``s3://``) and ``url_signed`` (a download URL).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import shutil
from typing import IO, Any

from .. import presign
from ..runs import RunContext

BUCKET = "civis-emulator-files"


def _open(path: str, mode: str, compression: str) -> IO[bytes]:
    return gzip.open(path, mode) if compression == "gzip" else open(path, mode)  # type: ignore[return-value]


def strip_header(path: str, compression: str) -> bytes:
    """Remove the first line of a CSV part in place; returns that line (without its newline)."""
    stripped = path + ".body"
    with _open(path, "rb", compression) as src, _open(stripped, "wb", compression) as dst:
        first = src.readline()
        shutil.copyfileobj(src, dst)
    os.replace(stripped, path)
    return first.rstrip(b"\r\n")


def column_names(header_line: bytes, delimiter: str) -> list[str]:
    return next(csv.reader(io.StringIO(header_line.decode("utf-8")), delimiter=delimiter), [])


def entry(ctx: RunContext, file_id: int, name: str, size: int) -> dict[str, Any]:
    signed = (presign.signed_url(ctx.endpoint, ctx.api_key, f"{presign.PRESIGNED_PREFIX}files/{file_id}")
              if ctx.endpoint and ctx.api_key else None)
    return {"id": file_id, "name": name, "size": size, "url": f"s3://{BUCKET}/files/{file_id}/{name}",
            "url_signed": signed}


def write_manifest(path: str, *, query: str, header: list[str] | None, delimiter: str, compression: str,
                   unquoted: bool, entries: list[dict[str, Any]]) -> None:
    doc: dict[str, Any] = {"query": query}
    if header is not None:
        doc["header"] = header
    doc.update({"delimiter": delimiter, "compression": compression, "unquoted": unquoted, "entries": entries})
    with open(path, "w", encoding="utf-8") as out:
        json.dump(doc, out)
