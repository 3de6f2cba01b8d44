"""A table or a query's result to CSV (``POST /exports/files/csv``): Civis files, and optionally local
copies; gzip and splitting into several files for large tables."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from airflow_civis import lineage
from airflow_civis.csv_options import delimiter_name
from airflow_civis.hooks.files import CivisFileTransfer
from airflow_civis.operators.base import CivisRunOperatorBase
from airflow_civis.resolve import resolve_target, split_table
from airflow_civis.runs import RunRef
from airflow_civis.validation import (
    check_bool,
    check_choice,
    check_int_id,
    check_positive_number,
    check_table_name,
)


class CivisExportTableOperator(CivisRunOperatorBase):
    """
    Export ``table`` (``schema.table``) or the result of ``sql`` as CSV and wait. Returns
    ``{"job_id", "run_id", "file_ids", "local_paths"}``, files in row order.

    :param table: ``schema.table`` to export (templated), or
    :param sql: a query whose result to export (templated; ``.sql`` files too).
    :param database: the database's name or id (templated).
    :param local_path: copy the result here (templated). With several files, it is a directory (created
        if needed) holding the files under their Civis names.
    :param compression: ``none`` or ``gzip``.
    :param max_file_size_mb: split into files of at most this size, each with its own header.
    :param header: files start with column names.
    :param delimiter: ``,``, ``\\t`` or ``|``.
    :param filename_prefix: the exported files' name prefix (default ``<dag_id>_<task_id>``).
    :param hidden: create the export job hidden (default True), as civis-python's io helpers create theirs: it
        stays out of the user's job and script lists (its runs and the "Civis Run" link work as before).
        False keeps it visible. See docs/job-clutter.md.
    """

    template_fields: Sequence[str] = (*CivisRunOperatorBase.template_fields, "table", "sql", "database",
                                      "credential_id", "local_path", "filename_prefix")
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers = {"sql": "sql"}

    def __init__(self, *, database: int | str, table: str | None = None, sql: str | None = None,
                 local_path: str | None = None, compression: str = "none", max_file_size_mb: int | None = None,
                 header: bool = True, delimiter: str = ",", filename_prefix: str | None = None,
                 credential_id: int | str | None = None, hidden: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        where = f"Task {self.task_id!r}"
        if (table is None) == (sql is None):
            raise ValueError(f"{where}: give exactly one of table ('schema.table') or sql (a SELECT)")
        self.table = None if table is None else check_table_name("table", table, self.task_id)
        self.sql = sql
        if database in (None, ""):
            raise ValueError(f"{where}: database is required (a name or an id)")
        self.database = database
        self.local_path = local_path
        self.compression = check_choice("compression", compression, ("none", "gzip"), self.task_id)
        self.max_file_size_mb = (None if max_file_size_mb is None else
                                 int(check_positive_number("max_file_size_mb", max_file_size_mb, self.task_id)))
        self.header = check_bool("header", header, self.task_id)
        self.hidden = check_bool("hidden", hidden, self.task_id)
        self.delimiter = delimiter_name(delimiter, self.task_id)
        self.filename_prefix = filename_prefix
        self.credential_id = None if credential_id is None else check_int_id("credential_id", credential_id,
                                                                               self.task_id)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Table (or the tables the SQL reads) -> Civis files and local copies; None without OpenLineage."""
        return lineage.for_export(self)

    def start_run(self, context: Any) -> RunRef:
        target = resolve_target(self.hook, self.database, self.credential_id)
        if self.table is not None:
            schema, table = split_table(check_table_name("table", self.table, self.task_id))
            sql = f'SELECT * FROM "{schema}"."{table}"'
        else:
            sql = str(self.sql)
        body: dict[str, Any] = {
            "name": f"{self.dag_id}.{self.task_id}", "hidden": self.hidden,
            "source": {"sql": sql, "remoteHostId": target.database_id, "credentialId": target.credential_id},
            "destination": {"filenamePrefix": self.filename_prefix or f"{self.dag_id}_{self.task_id}"},
            "includeHeader": self.header, "compression": self.compression, "columnDelimiter": self.delimiter,
            "forceMultifile": self.max_file_size_mb is not None,
        }
        if self.max_file_size_mb is not None:
            body["maxFileSize"] = self.max_file_size_mb
        created = self.hook.call("POST", "/exports/files/csv", json=body)
        self.log.info("Created CSV export %s from database %s", created["id"], target.database_id)
        return self.hook.start_run("export_csv", int(created["id"]))

    def build_result(self, context: Any, run: RunRef, details: dict[str, Any], outputs: dict[str, Any]) -> Any:
        files = sorted((name, v["file_id"]) for name, v in outputs.items() if isinstance(v, dict) and "file_id" in v)
        result: dict[str, Any] = {"job_id": run.job_id, "run_id": run.run_id,
                                  "file_ids": [fid for _, fid in files], "local_paths": []}
        if self.local_path and files:
            transfer = CivisFileTransfer(self.hook)
            if len(files) == 1 and not self.max_file_size_mb:
                paths = [self.local_path]
            else:
                os.makedirs(self.local_path, exist_ok=True)
                paths = [os.path.join(self.local_path, os.path.basename(name)) for name, _ in files]
            for (_, file_id), path in zip(files, paths):
                transfer.download(file_id, path)
            result["local_paths"] = paths
        self.log.info("Exported %d file(s): %s", len(files), result["file_ids"])
        return result
