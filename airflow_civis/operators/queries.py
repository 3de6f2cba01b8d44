"""Run SQL on a Civis database (a SQL script run: ``POST /scripts/sql``), with a bounded preview of the
result in XCom and, optionally, the result as CSV: a Civis file id, and a local copy."""

from __future__ import annotations

import codecs
import csv
import os
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from airflow_civis import lineage
from airflow_civis.csv_options import DELIMITERS, delimiter_character
from airflow_civis.hooks.files import CivisFileTransfer
from airflow_civis.lineage import declare_table_outlets, sql_write_outlets
from airflow_civis.operators.base import CivisRunOperatorBase
from airflow_civis.resolve import resolve_target
from airflow_civis.runs import RunRef
from airflow_civis.validation import (
    check_bool,
    check_choice,
    check_int_id,
    check_non_negative_int,
    check_required,
)

MAX_PREVIEW_ROWS = 1000


def _text_lines(chunks: Iterable[bytes], gzipped: bool) -> Iterator[str]:
    """Decoded lines (newlines kept, as ``csv.reader`` wants) from a byte stream, in constant memory."""
    inflate = zlib.decompressobj(zlib.MAX_WBITS | 32) if gzipped else None
    decode = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    for chunk in chunks:
        text = decode.decode(inflate.decompress(chunk) if inflate else chunk)
        lines = (pending + text).splitlines(keepends=True)
        pending = lines.pop() if lines and not lines[-1].endswith(("\n", "\r")) else ""
        yield from lines
    tail = pending + decode.decode(inflate.flush() if inflate else b"", final=True)
    if tail:
        yield from tail.splitlines(keepends=True)


def csv_preview(chunks: Iterable[bytes], *, gzipped: bool, delimiter: str, header: bool,
                max_rows: int) -> dict[str, Any]:
    """``{"columns", "rows", "row_count"}``: at most ``max_rows`` rows kept, every row counted."""
    reader = csv.reader(_text_lines(chunks, gzipped), delimiter=delimiter)
    columns = next(reader, []) if header else []
    rows: list[list[str]] = []
    count = 0
    for row in reader:
        count += 1
        if len(rows) < max_rows:
            rows.append(row)
    return {"columns": columns, "rows": rows, "row_count": count}


def _local_chunks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            yield chunk


class CivisQueryOperator(CivisRunOperatorBase):
    """
    Run SQL on a database and wait. Returns ``{"job_id", "run_id", "file_ids", "local_path", "preview"}``;
    ``preview`` is ``{"columns", "rows", "row_count"}`` (at most ``preview_rows`` rows) when asked for.

    :param sql: the SQL, or a ``.sql`` file next to the DAG (templated either way).
    :param database: the database's name or id (templated).
    :param credential_id: database credential (default: the user's default credential).
    :param preview_rows: rows of the result to keep in XCom (0: no preview; at most 1000).
    :param export_path: also write the result as CSV to this local path (templated).
    :param compression: ``none`` or ``gzip`` for the result's CSV file.
    :param header: the result CSV starts with column names.
    :param delimiter: ``,``, ``\\t`` or ``|``.
    :param hidden: create the SQL script hidden (default True), as civis-python's io helpers create theirs: it
        stays out of the user's job and script lists (its runs and the "Civis Run" link work as before).
        False keeps it visible. See docs/job-clutter.md.
    """

    template_fields: Sequence[str] = (*CivisRunOperatorBase.template_fields, "sql", "database", "credential_id",
                                      "export_path")
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers = {"sql": "sql"}

    def __init__(self, *, sql: str, database: int | str, credential_id: int | str | None = None,
                 preview_rows: int = 0, export_path: str | None = None, compression: str = "none",
                 header: bool = True, delimiter: str = ",", hidden: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sql = check_required("sql", sql, self.task_id, "inline SQL or a .sql file")
        self.database = check_required("database", database, self.task_id, "a name or an id")
        self.credential_id = None if credential_id is None else check_int_id("credential_id", credential_id,
                                                                               self.task_id)
        self.preview_rows = check_non_negative_int("preview_rows", preview_rows, self.task_id, allow_none=False)
        if isinstance(preview_rows, int) and preview_rows > MAX_PREVIEW_ROWS:
            raise ValueError(f"Task {self.task_id!r}: preview_rows must be at most {MAX_PREVIEW_ROWS} "
                             "(XCom is for small data; use export_path for the full result)")
        self.export_path = export_path
        self.compression = check_choice("compression", compression, ("none", "gzip"), self.task_id)
        self.header = check_bool("header", header, self.task_id)
        self.hidden = check_bool("hidden", hidden, self.task_id)
        self.delimiter = delimiter_character(delimiter, self.task_id)
        declare_table_outlets(self, database, sql_write_outlets(sql))

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Tables the SQL reads -> tables it writes and the result files; None without OpenLineage."""
        return lineage.for_query(self)

    def start_run(self, context: Any) -> RunRef:
        target = resolve_target(self.hook, self.database, self.credential_id)
        body = {
            "name": f"{self.dag_id}.{self.task_id}", "hidden": self.hidden, "sql": self.sql,
            "remoteHostId": target.database_id, "credentialId": target.credential_id,
            "csvSettings": {"includeHeader": self.header, "compression": self.compression,
                            "columnDelimiter": DELIMITERS[self.delimiter], "forceMultifile": False},
        }
        created = self.hook.call("POST", "/scripts/sql", json=body)
        self.log.info("Created SQL script %s on database %s", created["id"], target.database_id)
        return self.hook.start_run("sql", int(created["id"]))

    def build_result(self, context: Any, run: RunRef, details: dict[str, Any], outputs: dict[str, Any]) -> Any:
        file_ids = [int(o["fileId"]) for o in details.get("output") or [] if o.get("fileId")]
        if not file_ids:
            file_ids = [v["file_id"] for v in outputs.values() if isinstance(v, dict) and "file_id" in v]
        result: dict[str, Any] = {"job_id": run.job_id, "run_id": run.run_id, "file_ids": file_ids,
                                  "local_path": None, "preview": None}
        if not file_ids:
            return result
        transfer = CivisFileTransfer(self.hook)
        if self.export_path:
            transfer.download(file_ids[0], self.export_path)
            result["local_path"] = self.export_path
        if self.preview_rows:
            chunks = _local_chunks(self.export_path) if self.export_path else transfer.stream(file_ids[0])
            result["preview"] = csv_preview(chunks, gzipped=self.compression == "gzip", delimiter=self.delimiter,
                                            header=self.header, max_rows=int(self.preview_rows))
            self.log.info("Result: %d rows; preview of %d in XCom", result["preview"]["row_count"],
                          len(result["preview"]["rows"]))
        if result["local_path"]:
            path = result["local_path"]
            self.log.info("Result written to %s (%d bytes)", path, os.path.getsize(path))
        return result
