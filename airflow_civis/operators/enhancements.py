"""Civis data enhancements: geocoding and CASS/NCOA address standardisation, on a table into a table.

Each operator creates the enhancement job (``POST /enhancements/geocode`` or ``/enhancements/cass-ncoa``)
with the API's own fields, then runs it through the shared run lifecycle (deferrable, reattach, logs).
The database and credential are resolved as for every other operator (``airflow_civis.resolve``).
The jobs are not created hidden: neither POST body has a ``hidden`` field in the spec.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from airflow.exceptions import AirflowProviderDeprecationWarning

from airflow_civis import lineage
from airflow_civis.operators.base import CivisRunOperatorBase
from airflow_civis.resolve import resolve_target, split_table
from airflow_civis.runs import RunRef
from airflow_civis.validation import check_bool, check_choice, check_int_id

EXISTING_TABLE_ROWS = ("fail", "truncate", "append", "drop")
GEOCODE_COUNTRIES = ("us", "ca")
GEOCODE_PROVIDERS = ("postgis", "geocoder_ca")
CASS_OUTPUT_LEVELS = ("cass", "ncoa", "coalesced", "all")
COLUMN_MAPPING_FIELDS = ("address1", "address2", "city", "state", "zip", "name", "company")


def _check_table(field: str, value: Any, task_id: str) -> Any:
    if isinstance(value, str) and "{{" in value:
        return value
    split_table(value, field, task_id)
    return value


class _EnhancementBase(CivisRunOperatorBase):
    kind: str = ""
    path: str = ""

    def __init__(self, *, database: int | str | None = None, remote_host_id: int | str | None = None,
                 credential_id: int | str | None = None, limiting_sql: str | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        where = f"Task {self.task_id!r}"
        if remote_host_id is not None:
            if database not in (None, ""):
                raise ValueError(f"{where}: give database (a name or an id), not also the deprecated "
                                 f"remote_host_id (got database={database!r}, remote_host_id={remote_host_id!r})")
            warnings.warn(f"{where}: remote_host_id is deprecated; pass database= (a name or an id) instead",
                          AirflowProviderDeprecationWarning, stacklevel=3)
            database = check_int_id("remote_host_id", remote_host_id, self.task_id)
        self.database = database
        self.remote_host_id = remote_host_id
        self.credential_id = None if credential_id in (None, "") else check_int_id(
            "credential_id", credential_id, self.task_id)
        self.limiting_sql = limiting_sql
        self.name = name

    def _host_and_credential(self) -> tuple[int, int]:
        """The database and credential every other operator would use (``airflow_civis.resolve``)."""
        target = resolve_target(self.hook, self.database, self.credential_id)
        return target.database_id, target.credential_id

    def body(self, host: int, credential: int) -> dict[str, Any]:
        raise NotImplementedError

    def start_run(self, context: Any) -> RunRef:
        host, credential = self._host_and_credential()
        body = {"name": self.name or f"{self.dag_id}.{self.task_id}", **self.body(host, credential)}
        created = self.hook.call("POST", f"/enhancements/{self.path}", json=body)
        self.log.info("Created %s enhancement %s (%s)", self.path, created["id"], body["name"])
        return self.hook.start_run(self.kind, int(created["id"]))

    def build_result(self, context: Any, run: RunRef, details: dict[str, Any], outputs: dict[str, Any]) -> Any:
        result = {"job_id": run.job_id, "run_id": run.run_id, "state": details.get("state"), "outputs": outputs}
        summary = outputs.get("summary")
        if isinstance(summary, dict):
            result["summary"] = summary
            self.log.info("%s enhancement summary: %s", self.path, summary)
        return result


def _check_key_columns(multipart_key: Any, task_id: str) -> list[str] | None:
    if multipart_key is not None and not (isinstance(multipart_key, list) and all(
            isinstance(k, str) and k for k in multipart_key)):
        raise ValueError(f"Task {task_id!r}: multipart_key must be a list of column names, got {multipart_key!r}")
    return multipart_key


class CivisGeocodeOperator(_EnhancementBase):
    """
    Geocode the addresses of a table into a new table (``POST /enhancements/geocode``), and wait.

    :param source_table: ``schema.table`` holding the addresses.
    :param target_schema: / ``target_table``: the output table.
    :param multipart_key: the source table's primary key column(s).
    :param limiting_sql: a WHERE clause (without "WHERE") scoping the source rows.
    :param country: ``us`` or ``ca``; ``provider``: ``postgis`` or ``geocoder_ca``.
    :param output_address: also output the parsed address.
    :param existing_table_rows: fail, truncate, append or drop, when the output table exists.
    :param database: the database's name or id (templated); default: the only database the API key sees
        (an error when it sees several). ``remote_host_id`` is its deprecated alias (an id).
    :param credential_id: database credential (templated); default: the user's default *database* credential.
    """

    kind = "geocode"
    path = "geocode"
    template_fields: Sequence[str] = (
        *CivisRunOperatorBase.template_fields, "source_table", "target_schema", "target_table", "limiting_sql",
        "multipart_key", "database", "credential_id",
    )
    ui_color = "#f3d9a4"

    def __init__(
        self,
        *,
        source_table: str,
        target_schema: str | None = None,
        target_table: str | None = None,
        multipart_key: list[str] | None = None,
        country: str = "us",
        provider: str = "postgis",
        output_address: bool = False,
        existing_table_rows: str = "fail",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        t = self.task_id
        self.source_table = _check_table("source_table", source_table, t)
        self.target_schema, self.target_table = target_schema, target_table
        self.multipart_key = _check_key_columns(multipart_key, t)
        self.country = check_choice("country", country, GEOCODE_COUNTRIES, t)
        self.provider = check_choice("provider", provider, GEOCODE_PROVIDERS, t)
        self.output_address = check_bool("output_address", output_address, self.task_id)
        self.existing_table_rows = check_choice("existing_table_rows", existing_table_rows, EXISTING_TABLE_ROWS, t)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Source table -> geocoded table; None without the OpenLineage provider."""
        return lineage.for_geocode(self)

    def body(self, host: int, credential: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "remoteHostId": host, "credentialId": credential, "sourceSchemaAndTable": self.source_table,
            "country": self.country, "provider": self.provider, "outputAddress": self.output_address,
            "existingTableRows": self.existing_table_rows,
        }
        optional = {"targetSchema": self.target_schema, "targetTable": self.target_table,
                    "multipartKey": self.multipart_key, "limitingSQL": self.limiting_sql}
        body.update({k: v for k, v in optional.items() if v})
        return body


class CivisCassNcoaOperator(_EnhancementBase):
    """
    Standardise addresses (CASS) and optionally apply moves (NCOA), ``POST /enhancements/cass-ncoa``.

    :param source_table: ``schema.table`` holding the addresses.
    :param destination_table: ``schema.table`` for the output.
    :param column_mapping: which source columns hold ``address1``, ``address2``, ``city``, ``state``,
        ``zip``, ``name``, ``company`` (sets ``useDefaultColumnMapping`` false).
    :param multipart_key: the source table's primary key column(s).
    :param perform_ncoa: also look up moves (needs ``ncoa_credential_id``).
    :param output_level: cass or all (CASS); cass, ncoa, coalesced or all (NCOA).
    :param batch_size: records processed at a time.
    :param database: / ``credential_id`` / ``remote_host_id``: as for :class:`CivisGeocodeOperator`.
    """

    kind = "cass_ncoa"
    path = "cass-ncoa"
    template_fields: Sequence[str] = (
        *CivisRunOperatorBase.template_fields, "source_table", "destination_table", "column_mapping",
        "limiting_sql", "multipart_key", "database", "credential_id",
    )
    ui_color = "#f3d9a4"

    def __init__(
        self,
        *,
        source_table: str,
        destination_table: str | None = None,
        column_mapping: dict[str, str] | None = None,
        multipart_key: list[str] | None = None,
        perform_ncoa: bool = False,
        ncoa_credential_id: int | None = None,
        output_level: str = "all",
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        t = self.task_id
        self.source_table = _check_table("source_table", source_table, t)
        self.destination_table = None if destination_table is None else _check_table(
            "destination_table", destination_table, t)
        if column_mapping is not None:
            if not isinstance(column_mapping, dict):
                raise ValueError(f"Task {t!r}: column_mapping must map address fields to column names")
            unknown = sorted(set(column_mapping) - set(COLUMN_MAPPING_FIELDS))
            if unknown:
                raise ValueError(f"Task {t!r}: column_mapping has unknown field(s) {unknown}; "
                                 f"use {', '.join(COLUMN_MAPPING_FIELDS)}")
        self.column_mapping = column_mapping
        self.multipart_key = _check_key_columns(multipart_key, t)
        self.perform_ncoa = check_bool("perform_ncoa", perform_ncoa, self.task_id)
        if self.perform_ncoa and ncoa_credential_id is None:
            raise ValueError(f"Task {t!r}: perform_ncoa=True needs ncoa_credential_id (the NCOA credential)")
        self.ncoa_credential_id = ncoa_credential_id
        levels = CASS_OUTPUT_LEVELS if self.perform_ncoa else ("cass", "all")
        self.output_level = check_choice("output_level", output_level, levels, t)
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                       or batch_size <= 0):
            raise ValueError(f"Task {t!r}: batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = batch_size

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Source table -> standardised table; None without the OpenLineage provider."""
        return lineage.for_cass_ncoa(self)

    def body(self, host: int, credential: int) -> dict[str, Any]:
        schema, table = split_table(self.source_table, "source_table", self.task_id)
        source: dict[str, Any] = {"schema": schema, "table": table, "remoteHostId": host, "credentialId": credential}
        if self.multipart_key:
            source["multipartKey"] = self.multipart_key
        body: dict[str, Any] = {
            "source": {"databaseTable": source}, "performNcoa": self.perform_ncoa, "outputLevel": self.output_level,
            "useDefaultColumnMapping": self.column_mapping is None,
        }
        if self.destination_table:
            dest_schema, dest_table = split_table(self.destination_table, "destination_table", self.task_id)
            body["destination"] = {"databaseTable": {"schema": dest_schema, "table": dest_table}}
        optional = {"columnMapping": self.column_mapping, "ncoaCredentialId": self.ncoa_credential_id,
                    "limitingSQL": self.limiting_sql, "batchSize": self.batch_size}
        body.update({k: v for k, v in optional.items() if v is not None})
        return body
