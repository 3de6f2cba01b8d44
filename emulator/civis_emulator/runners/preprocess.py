"""The CSV preprocess runner (``JobTypes::CsvPreprocess``, ``POST /files/preprocess/csv``).

What the official client runs before an import (``civis.io.civis_file_to_table``): convert the file to
UTF-8, then detect its compression, delimiter, header and, with ``detectTableColumns``, its columns and
their SQL types. The result is the ``detectedInfo`` of the output file: a new file unless ``inPlace``
(the spec's default is in place), reached through the run's one ``File`` output.
"""

from __future__ import annotations

import codecs
import gzip
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import IO

from ..filestore import FileStoreError
from ..runs import RunContext, RunFailed, register_runner
from ..warehouse import WarehouseError
from ..warehouse.detecting import file_compression

PREPROCESS = "JobTypes::CsvPreprocess"
_CHUNK = 1024 * 1024


def _open(path: str, compression: str, mode: str) -> IO[bytes]:
    return gzip.open(path, mode) if compression == "gzip" else open(path, mode)  # type: ignore[return-value]


def _chunks(path: str, compression: str) -> Iterator[bytes]:
    with _open(path, compression, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


def _is_utf8(path: str, compression: str) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        for chunk in _chunks(path, compression):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _copy_as_utf8(src: str, dst: str, compression: str) -> bool:
    """Copy ``src`` to ``dst`` (same compression) in UTF-8; True when characters had to be converted.

    A file that is not UTF-8 is read as Windows-1252 (what such CSV files almost always are); a byte
    with no character there is discarded, as the spec says of characters that cannot be converted.
    """
    if _is_utf8(src, compression):
        shutil.copyfile(src, dst)
        return False
    decoder = codecs.getincrementaldecoder("cp1252")("ignore")
    with _open(dst, compression, "wb") as out:
        for chunk in _chunks(src, compression):
            out.write(decoder.decode(chunk).encode("utf-8"))
        out.write(decoder.decode(b"", final=True).encode("utf-8"))
    return True


def run_preprocess(ctx: RunContext) -> None:
    job, files = ctx.job, ctx.state.files
    file_id = int(job["fileId"])
    try:
        name, source = files.get(file_id)["name"], files.path(file_id)
    except FileStoreError as exc:  # FileNotFound too
        raise RunFailed(f"File {file_id}: {exc}") from None
    compression = file_compression(source)
    workdir = tempfile.mkdtemp(dir=files.scratch_dir())
    try:
        cleaned = os.path.join(workdir, "cleaned")
        converted = _copy_as_utf8(source, cleaned, compression)
        ctx.log(f"File {file_id}: {'converted to' if converted else 'already'} UTF-8")
        info = ctx.state.warehouse.detect_csv(cleaned, header=job.get("includeHeader"),
                                              delimiter=job.get("columnDelimiter"),
                                              detect_columns=bool(job.get("detectTableColumns")))
        if job.get("inPlace", True) is False:
            out_id = files.adopt(name, cleaned)
        else:
            out_id = file_id
            if converted:
                with open(cleaned, "rb") as fh:
                    files.write_stream(file_id, fh)
        files.set_detected_info(out_id, info)
    except WarehouseError as exc:
        raise RunFailed(f"File {file_id} could not be read as CSV: {exc}") from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    summary = {k: v for k, v in info.items() if k != "tableColumns"}
    ctx.log(f"File {file_id}: detected {summary}; {len(info['tableColumns'])} table column(s)"
            + ("" if out_id == file_id else f"; cleaned file {out_id}"))
    ctx.add_output("File", out_id, name)


register_runner(PREPROCESS, run_preprocess)
