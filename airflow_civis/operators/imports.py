"""Load CSV into a warehouse table with the Imports API, the way the official clients do:
upload (when given a local file), preprocess every file (``hooks/csv_preprocess.py``: converted to UTF-8,
columns detected when the table needs them), ``POST /imports/files/csv``, then run it and wait."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

from airflow_civis import lineage
from airflow_civis.csv_options import DELIMITERS
from airflow_civis.hooks.csv_preprocess import preprocess_csv_files
from airflow_civis.hooks.files import DEFAULT_MAX_WORKERS, CivisFileTransfer
from airflow_civis.lineage import declare_table_outlets
from airflow_civis.operators.base import CivisRunOperatorBase
from airflow_civis.resolve import get_table, resolve_target, split_table
from airflow_civis.runs import RunRef
from airflow_civis.validation import (
    check_bool,
    check_choice,
    check_int_id,
    check_non_negative_int,
    check_table_name,
)

IF_EXISTS = ("fail", "append", "drop", "truncate", "upsert")
COMPRESSIONS = ("none", "gzip")
EXECUTIONS = ("immediate", "delayed")
DISTSTYLES = ("even", "all", "key")
_LOADED_RE = re.compile(r"Loaded (\d+) rows .*?(\d+) rejected")


class CivisImportCsvOperator(CivisRunOperatorBase):
    """
    Import CSV into ``schema.table`` and wait; returns ``{"database_id", "schema", "table", "table_id",
    "rows_loaded", "rows_rejected", "job_id", "run_id"}``.

    :param table: ``schema.table`` (templated).
    :param database: the database's name or id (templated).
    :param source_path: a local CSV file to upload first (templated), or
    :param file_ids: one or more Civis file ids (templated), all with the same header.
    :param if_exists: ``fail`` | ``append`` | ``drop`` | ``truncate`` | ``upsert`` (needs ``primary_keys``,
        and ``last_modified_keys`` for a new table).
    :param header: the first row holds column names.
    :param delimiter: ``,`` / ``comma``, ``\\t`` / ``tab``, ``|`` / ``pipe``.
    :param compression: ``none`` or ``gzip``; detected by CSV preprocessing when left out (the default);
        given, it must match what preprocessing detects.
    :param column_types: ``[{"name": "id", "sql_type": "INTEGER"}, ...]`` in file order. Every import is
        preprocessed first (``POST /files/preprocess/csv``, converting the files to UTF-8), as civis-python
        does; for a new or dropped table, missing ``sql_type`` (or a missing list) are detected then, and
        the list must name every column.
    :param max_errors: rows that may be rejected before the import fails (default: none may).
    :param execution: ``immediate`` (default, as civis-python) moves upserted rows into the table before
        the run ends; ``delayed`` (the API's own default) moves them a little later, so the task may
        finish before they show.
    :param diststyle: Redshift distribution of a new or dropped table: ``even``, ``all`` or ``key``.
    :param distkey: its Redshift distribution key (a column).
    :param sortkeys: its Redshift sort keys (at most two columns). The three are sent (as
        ``redshiftDestinationOptions``) only when one is given.
    :param credential_id: database credential (default: the user's default credential).
    """

    template_fields: Sequence[str] = (*CivisRunOperatorBase.template_fields, "table", "database", "source_path",
                                      "file_ids", "credential_id", "column_types", "primary_keys",
                                      "last_modified_keys")
    template_fields_renderers = {"column_types": "json"}

    def __init__(self, *, table: str, database: int | str, source_path: str | None = None,
                 file_ids: int | str | list[int | str] | None = None, if_exists: str = "fail",
                 primary_keys: list[str] | None = None, last_modified_keys: list[str] | None = None,
                 header: bool = True, delimiter: str = ",", compression: str | None = None,
                 column_types: list[dict[str, Any]] | None = None, max_errors: int | None = None,
                 escaped: bool = False, execution: str = "immediate", diststyle: str | None = None,
                 distkey: str | None = None, sortkeys: list[str] | None = None,
                 credential_id: int | str | None = None,
                 multipart_threshold_mb: float = 50, part_size_mb: float = 32,
                 max_workers: int = DEFAULT_MAX_WORKERS, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        where = f"Task {self.task_id!r}"
        self.table = check_table_name("table", table, self.task_id)
        if database in (None, ""):
            raise ValueError(f"{where}: database is required (a name or an id)")
        self.database = database
        if (source_path is None) == (file_ids in (None, [], "")):
            raise ValueError(f"{where}: give exactly one of source_path (a local CSV) or file_ids (Civis files)")
        self.source_path, self.file_ids = source_path, file_ids
        self.if_exists = check_choice("if_exists", if_exists, IF_EXISTS, self.task_id)
        if if_exists == "upsert" and not primary_keys:
            raise ValueError(f"{where}: if_exists='upsert' needs primary_keys (and last_modified_keys "
                             "when the table does not exist yet)")
        self.primary_keys, self.last_modified_keys = primary_keys, last_modified_keys
        self.header = check_bool("header", header, self.task_id)
        if delimiter not in DELIMITERS:
            raise ValueError(f"{where}: delimiter must be one of ',', '\\t', '|' (or comma, tab, pipe); "
                             f"got {delimiter!r}")
        self.delimiter = DELIMITERS[delimiter]
        if compression is not None:
            check_choice("compression", compression, COMPRESSIONS, self.task_id)
        self.compression = compression
        if column_types is not None and not isinstance(column_types, (list, str)):
            raise ValueError(f"{where}: column_types must be a list of {{'name', 'sql_type'}} mappings")
        self.column_types = column_types
        self.max_errors = check_non_negative_int("max_errors", max_errors, self.task_id)
        self.escaped = check_bool("escaped", escaped, self.task_id)
        self.execution = check_choice("execution", execution, EXECUTIONS, self.task_id)
        self.redshift_options = self._redshift_options(diststyle, distkey, sortkeys)
        self.credential_id = None if credential_id is None else check_int_id("credential_id", credential_id,
                                                                               self.task_id)
        self.multipart_threshold_mb, self.part_size_mb, self.max_workers = (
            multipart_threshold_mb, part_size_mb, max_workers)
        declare_table_outlets(self, database, [table])

    def _redshift_options(self, diststyle: str | None, distkey: str | None,
                          sortkeys: list[str] | None) -> dict[str, Any]:
        where = f"Task {self.task_id!r}"
        if diststyle is not None:
            check_choice("diststyle", diststyle, DISTSTYLES, self.task_id)
        if distkey is not None and (not isinstance(distkey, str) or not distkey.strip()):
            raise ValueError(f"{where}: distkey must be a column name, got {distkey!r}")
        if sortkeys is not None and (not isinstance(sortkeys, (list, tuple)) or len(sortkeys) > 2
                                     or not all(isinstance(k, str) and k.strip() for k in sortkeys)):
            raise ValueError(f"{where}: sortkeys must be a list of at most two column names, got {sortkeys!r}")
        options = {"diststyle": diststyle, "distkey": distkey, "sortkeys": list(sortkeys) if sortkeys else None}
        return {k: v for k, v in options.items() if v is not None}

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """File (local path or Civis files) -> table; None without the OpenLineage provider."""
        return lineage.for_import(self)

    def _file_ids(self) -> list[int]:
        ids = self.file_ids if isinstance(self.file_ids, list) else str(self.file_ids).strip("[]").split(",")
        return [int(check_int_id("file_ids", str(i).strip(), self.task_id)) for i in ids]

    def _columns(self) -> list[dict[str, Any]] | None:
        if not self.column_types:
            return None
        out = []
        for col in self.column_types:
            if not isinstance(col, dict) or not col.get("name"):
                raise ValueError(f"Task {self.task_id!r}: every column_types entry needs a name, got {col!r}")
            sql_type = col.get("sql_type") or col.get("sqlType")
            out.append({"name": col["name"], **({"sqlType": sql_type} if sql_type else {})})
        return out

    def _needs_table_columns(self, database_id: int, schema: str, table: str) -> bool:
        """The spec's rule: a new or dropped table needs every column with its sqlType."""
        columns = self._columns() or []
        if columns and all(c.get("sqlType") for c in columns):
            return False
        return self.if_exists == "drop" or get_table(self.hook, database_id, schema, table) is None

    def _complete_columns(self, detected: list[dict[str, str]]) -> list[dict[str, Any]]:
        """The detected columns, with the names and types the user gave winning."""
        given = self._columns()
        if not given:
            return detected
        if len(given) != len(detected):
            raise ValueError(f"Task {self.task_id!r}: column_types lists {len(given)} column(s) but the file has "
                             f"{len(detected)} ({', '.join(c['name'] for c in detected)}); list every column in "
                             "file order")
        return [{"name": g["name"], "sqlType": g.get("sqlType") or d["sqlType"]} for g, d in zip(given, detected)]

    def start_run(self, context: Any) -> RunRef:
        schema, table = split_table(check_table_name("table", self.table, self.task_id))
        target = resolve_target(self.hook, self.database, self.credential_id)
        compression = self.compression
        if self.source_path is not None:
            transfer = CivisFileTransfer(self.hook, multipart_threshold=int(self.multipart_threshold_mb * 2**20),
                                         part_size=int(self.part_size_mb * 2**20), max_workers=self.max_workers)
            file_ids = [transfer.upload(self.source_path, os.path.basename(self.source_path))]
        else:
            file_ids = self._file_ids()
        columns = self._columns()
        need_columns = self._needs_table_columns(target.database_id, schema, table)
        # Every import, as civis-python: the cleaned copies are UTF-8 (forceCharacterSetConversion), so a
        # Latin-1, UTF-16 or BOM-prefixed CSV loads the characters it holds; columns only when needed.
        detected = preprocess_csv_files(self.hook, file_ids, detect_table_columns=need_columns,
                                        include_header=self.header, column_delimiter=self.delimiter,
                                        poll_interval=self.poll_interval, timeout=self.timeout)
        self.log.info("Preprocessed file(s) %s into %s: header %s, delimiter %s, compression %s%s",
                      file_ids, detected.file_ids, detected.include_header, detected.column_delimiter,
                      detected.compression, f", columns {detected.table_columns}" if need_columns else "")
        if compression is not None and compression != detected.compression:
            raise ValueError(f"Task {self.task_id!r}: compression is {compression!r} but the file(s) {file_ids} "
                             f"are {detected.compression!r}; leave compression out (it is detected) or give "
                             "the file that was meant")
        file_ids, compression = detected.file_ids, detected.compression
        header, delimiter = detected.include_header, detected.column_delimiter
        if need_columns:
            columns = self._complete_columns(detected.table_columns)
        destination: dict[str, Any] = {"schema": schema, "table": table, "remoteHostId": target.database_id,
                                       "credentialId": target.credential_id}
        if self.primary_keys:
            destination["primaryKeys"] = list(self.primary_keys)
        if self.last_modified_keys:
            destination["lastModifiedKeys"] = list(self.last_modified_keys)
        body: dict[str, Any] = {
            "name": f"{self.dag_id}.{self.task_id}", "source": {"fileIds": file_ids}, "destination": destination,
            "firstRowIsHeader": header, "columnDelimiter": delimiter, "compression": compression,
            "existingTableRows": self.if_exists, "escaped": self.escaped, "execution": self.execution,
            "hidden": True,
            # Like civis-python: let Civis widen detected lengths, but never loosen types the user gave.
            "loosenTypes": need_columns and not self._columns(),
        }
        if self.max_errors is not None:
            body["maxErrors"] = int(self.max_errors)
        if self.redshift_options:
            body["redshiftDestinationOptions"] = self.redshift_options
        if columns:
            body["tableColumns"] = columns
        # A repeat only leaves an unused import job; the whole start is not done over (preprocessing ran a job).
        created = self.hook.create("/imports/files/csv", json=body)
        self.log.info("Created CSV import %s into %s.%s (database %s)", created["id"], schema, table,
                      target.database_id)
        return self.hook.start_run("job", int(created["id"]))  # POST /jobs/{id}/runs, as civis-python's run_job

    def build_result(self, context: Any, run: RunRef, details: dict[str, Any], outputs: dict[str, Any]) -> Any:
        schema, table = split_table(self.table)
        job = self.hook.call("GET", f"/imports/files/csv/{run.job_id}")
        database_id = int(job["destination"]["remoteHostId"])
        info = get_table(self.hook, database_id, schema, table) or {}
        stats = outputs.get("import_result")  # a JSON value: the shared _read_outputs gives the value itself
        stats = stats if isinstance(stats, dict) else {}
        loaded, rejected = stats.get("rowsLoaded"), stats.get("rowsRejected")
        if loaded is None:  # the platform's log line, else what the table now holds
            for line in reversed(self.hook.get_run_logs(run)):
                match = _LOADED_RE.search(line.get("message", ""))
                if match:
                    loaded, rejected = int(match.group(1)), int(match.group(2))
                    break
        result = {
            "database_id": database_id, "schema": schema.lower(), "table": table.lower(),
            "table_id": info.get("id") or stats.get("tableId"),
            "rows_loaded": loaded if loaded is not None else info.get("rowCount"),
            "rows_rejected": rejected or 0, "job_id": run.job_id, "run_id": run.run_id,
        }
        self.log.info("Imported %s rows into %s.%s (%s rejected)", result["rows_loaded"], schema, table,
                      result["rows_rejected"])
        return result
