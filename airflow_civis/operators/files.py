"""Move files between the worker's disk and Civis files, streaming (constant memory, any size)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow.sdk import BaseOperator

from airflow_civis.hooks.civis import CivisHook
from airflow_civis.hooks.files import DEFAULT_MAX_WORKERS, CivisFileTransfer
from airflow_civis.validation import check_int_id, check_positive_number, check_required

_DEFAULT = "DEFAULT"


class _FileOperatorBase(BaseOperator):
    ui_color = "#a3d4ef"

    def __init__(self, *, civis_conn_id: str = CivisHook.default_conn_name, multipart_threshold_mb: float = 50,
                 part_size_mb: float = 32, max_workers: int = DEFAULT_MAX_WORKERS, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.civis_conn_id = civis_conn_id
        self.multipart_threshold_mb = check_positive_number("multipart_threshold_mb", multipart_threshold_mb,
                                                            self.task_id)
        self.part_size_mb = check_positive_number("part_size_mb", part_size_mb, self.task_id)
        self.max_workers = int(check_positive_number("max_workers", max_workers, self.task_id))

    @cached_property
    def hook(self) -> CivisHook:
        return CivisHook(self.civis_conn_id)

    @cached_property
    def transfer(self) -> CivisFileTransfer:
        return CivisFileTransfer(self.hook, multipart_threshold=int(self.multipart_threshold_mb * 1024 * 1024),
                                 part_size=int(self.part_size_mb * 1024 * 1024), max_workers=self.max_workers)


class CivisUploadFileOperator(_FileOperatorBase):
    """
    Upload a local file to Civis; returns the new file id (XCom). Files above ``multipart_threshold_mb``
    go up in parts of ``part_size_mb``, ``max_workers`` at once.

    :param local_path: the file on the worker (templated).
    :param name: the Civis file's name (default: the local file's name).
    :param expires_at: ISO-8601 expiry; ``None`` keeps the file forever; omitted: Civis' default (30 days).
    :param description: optional description (at most 512 characters).
    """

    template_fields: Sequence[str] = ("civis_conn_id", "local_path", "name", "expires_at", "description")

    def __init__(self, *, local_path: str, name: str | None = None, expires_at: str | None = _DEFAULT,
                 description: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.local_path = check_required("local_path", local_path, self.task_id)
        self.name = name
        self.expires_at = expires_at
        if description is not None and len(description) > 512:
            raise ValueError(f"Task {self.task_id!r}: description must be at most 512 characters")
        self.description = description

    def execute(self, context: Any) -> int:
        if not os.path.isfile(self.local_path):
            raise FileNotFoundError(f"Task {self.task_id!r}: local_path {self.local_path!r} is not a file")
        expires: Any = ... if self.expires_at == _DEFAULT else self.expires_at
        return self.transfer.upload(self.local_path, self.name or None, expires_at=expires,
                                    description=self.description)


class CivisDownloadFileOperator(_FileOperatorBase):
    """
    Download a Civis file to a local path (written atomically); returns the local path (XCom).

    :param file_id: the Civis file (templated, e.g. ``{{ ti.xcom_pull('upload') }}``).
    :param local_path: where to write it on the worker (templated); parent directories are created.
    """

    template_fields: Sequence[str] = ("civis_conn_id", "file_id", "local_path")

    def __init__(self, *, file_id: int | str, local_path: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.file_id = check_int_id("file_id", file_id, self.task_id)
        self.local_path = check_required("local_path", local_path, self.task_id)

    def execute(self, context: Any) -> str:
        file_id = int(check_int_id("file_id", self.file_id, self.task_id))
        self.transfer.download(file_id, self.local_path)
        return self.local_path
