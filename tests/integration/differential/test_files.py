"""``civis.io.file_to_civis`` / ``civis_to_file`` vs ``CivisUploadFileOperator`` / ``CivisDownloadFileOperator``.

Both clients switch to a multipart upload above 50 MiB (civis-python: ``MIN_MULTIPART_SIZE``; ours:
``multipart_threshold_mb=50``), so the multipart case uses a file just above it.
"""

from __future__ import annotations

import io
import os

import pytest

from airflow_civis.operators.files import CivisDownloadFileOperator, CivisUploadFileOperator
from tests.helpers import make_context
from tests.integration.differential.conftest import civis

SMALL = 64 * 1024
ABOVE_THRESHOLD = 50 * 2**20 + 4096


@pytest.mark.parametrize("size", [pytest.param(SMALL, id="single"),
                                  pytest.param(ABOVE_THRESHOLD, id="multipart", marks=pytest.mark.slow)])
def test_file_to_civis(official, differential, tmp_path, size):
    src = tmp_path / "upload.bin"
    src.write_bytes(os.urandom(size))

    def theirs():
        with open(src, "rb") as fh:
            return civis.io.file_to_civis(fh, "upload.bin", client=official)

    def ours():
        return CivisUploadFileOperator(task_id="upload", local_path=str(src)).execute(make_context())

    operation = "file_to_civis" if size == SMALL else "file_to_civis:multipart"
    their_id, our_id, _ = differential(operation, theirs, ours)
    for file_id in (their_id, our_id):
        assert official.files.get(file_id).file_size == size


def test_civis_to_file(official, differential, tmp_path):
    payload = os.urandom(SMALL)
    file_id = civis.io.file_to_civis(io.BytesIO(payload), "download.bin", client=official)
    buf = io.BytesIO()
    out = tmp_path / "download.bin"

    def theirs():
        civis.io.civis_to_file(file_id, buf, client=official)

    def ours():
        return CivisDownloadFileOperator(task_id="download", file_id=file_id, local_path=str(out)).execute(
            make_context())

    differential("civis_to_file", theirs, ours)
    assert buf.getvalue() == payload == out.read_bytes()
