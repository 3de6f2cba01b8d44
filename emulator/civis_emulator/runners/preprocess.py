"""The CSV preprocess runner (``JobTypes::CsvPreprocess``, ``POST /files/preprocess/csv``).

What the official client runs before every import (``civis.io.civis_file_to_table``): convert the file to
UTF-8 (``warehouse/charsets.py``: always with ``forceCharacterSetConversion``, else only when it is not UTF-8
already), then detect its compression, delimiter, header and, with ``detectTableColumns``, its columns and
their SQL types. The result is the ``detectedInfo`` of the output file: a new file unless ``inPlace``
(the spec's default is in place), reached through the run's one ``File`` output.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from ..filestore import FileStoreError
from ..runs import RunContext, RunFailed, register_runner
from ..warehouse import WarehouseError
from ..warehouse.charsets import copy_as_utf8
from ..warehouse.detecting import file_compression

PREPROCESS = "JobTypes::CsvPreprocess"


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
        charset, converted = copy_as_utf8(source, cleaned, compression,
                                          force=bool(job.get("forceCharacterSetConversion")))
        ctx.log(f"File {file_id}: character set {charset}, " + ("converted to UTF-8" if converted else "kept"))
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
