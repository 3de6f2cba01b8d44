"""The geocode and CASS/NCOA runs: read the source table, enhance each row, write the output table."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..civisml.data import add_json_value_output, read_table, split_table, write_table
from ..runs import RunContext, RunFailed
from . import addresses as addr

GEOCODE_JOB_TYPE = "JobTypes::Geocode"
CASS_JOB_TYPE = "JobTypes::CassNcoa"


def _import_extras() -> None:
    try:
        import scourgify  # noqa: F401
        import zipcodes  # noqa: F401
    except ImportError:
        raise RunFailed("Enhancements need the emulator extras: pip install 'airflow-civis[emulator]'") from None


def _column(row: Any, columns: dict[str, str], field: str) -> Any:
    name = columns.get(field)
    if not name:
        return None
    if "+" in name:  # "first_name+last_name"
        return " ".join(str(row[p]) for p in name.split("+") if addr.text(row.get(p)))
    return row.get(name)


def _check_connection(ctx: RunContext, host: Any, credential: Any) -> None:
    """The run connects to the database as the credential: a missing one, another database or a credential of
    another type (S3, Custom...) fails it, as the platform's connection would."""
    from .. import databases

    if host is None or databases.get_database(int(host)) is None:
        raise RunFailed(f"Database {host} does not exist (remoteHostId)")
    if int(host) != databases.DEFAULT_DATABASE_ID:
        raise RunFailed(f"Database {host} has no warehouse in the emulator (remoteHostId)")
    cred = ctx.state.store.get("credentials", int(credential)) if credential is not None else None
    if cred is None:
        raise RunFailed(f"Credential {credential} does not exist (credentialId)")
    if cred.get("type") != "Database":
        raise RunFailed(f"Credential {credential} is a {cred.get('type')!r} credential, not a Database one: "
                        "cannot connect to the database with it (credentialId)")


def _finish(ctx: RunContext, frame: pd.DataFrame, target: str, if_exists: str, summary: dict) -> None:
    table_id = write_table(ctx, frame, target, if_exists)
    ctx.add_output("Table", table_id, target)
    add_json_value_output(ctx, "summary", summary)


def run_geocode(ctx: RunContext) -> None:
    _import_extras()
    job = ctx.job
    _check_connection(ctx, job.get("remoteHostId"), job.get("credentialId"))
    source = job.get("sourceSchemaAndTable") or ""
    schema, table = split_table(source)
    if (job.get("country") or "us").lower() != "us":
        raise RunFailed(f"Country {job.get('country')!r}: the emulator has offline geocoding data for the US only")
    target = f"{job.get('targetSchema') or schema}.{job.get('targetTable') or table + '_geocoded'}"
    frame = read_table(ctx, source, job.get("limitingSQL"))
    columns = addr.detect_columns(list(frame.columns))
    if "zip" not in columns and not {"city", "state"} <= set(columns):
        raise RunFailed(f"{source} needs a zip column (zip, zip5, zipcode, zip_code, postal_code) or city and state "
                        f"columns to geocode; its columns are {list(frame.columns)}")
    ctx.log(f"Geocoding {len(frame)} rows of {source} (columns used: {columns})")
    ctx.log(addr.GEOCODE_PRECISION_NOTE)
    rows = []
    for _, row in frame.iterrows():
        if ctx.cancelled.is_set():
            return
        lat, lon, precision, code = addr.geocode(_column(row, columns, "zip"), _column(row, columns, "city"),
                                                 _column(row, columns, "state"))
        out = {"latitude": lat, "longitude": lon, "geocode_precision": precision, "geocode_zip5": code}
        if job.get("outputAddress"):
            std = addr.standardize(*(_column(row, columns, f) for f in addr.ADDRESS_FIELDS))
            out.update({k.replace("cass_", "parsed_"): v for k, v in std.items() if k != "cass_note"})
        rows.append(out)
    result = pd.concat([frame.reset_index(drop=True), pd.DataFrame(rows)], axis=1)
    counts = result["geocode_precision"].value_counts().to_dict() if len(result) else {}
    summary = {"rows": len(result), "output_table": target, "precision_note": addr.GEOCODE_PRECISION_NOTE,
               **{p: int(counts.get(p, 0)) for p in (addr.ZIP_PRECISION, addr.CITY_PRECISION, addr.UNMATCHED)}}
    ctx.log(f"Geocoded {len(result)} rows into {target}: {summary[addr.ZIP_PRECISION]} at ZIP centroids, "
            f"{summary[addr.CITY_PRECISION]} at city centroids, {summary[addr.UNMATCHED]} unmatched")
    _finish(ctx, result, target, job.get("existingTableRows") or "fail", summary)


def run_cass_ncoa(ctx: RunContext) -> None:
    _import_extras()
    job = ctx.job
    src = ((job.get("source") or {}).get("databaseTable")) or {}
    if not src.get("schema") or not src.get("table"):
        raise RunFailed("source.databaseTable needs schema and table")
    _check_connection(ctx, src.get("remoteHostId"), src.get("credentialId"))
    source = f"{src['schema']}.{src['table']}"
    dest = ((job.get("destination") or {}).get("databaseTable")) or {}
    target = f"{dest.get('schema') or src['schema']}.{dest.get('table') or src['table'] + '_cass'}"
    frame = read_table(ctx, source, job.get("limitingSQL"))
    mapping = {k: v for k, v in (job.get("columnMapping") or {}).items() if v}
    if job.get("useDefaultColumnMapping", True) is not False or not mapping:
        columns = addr.detect_columns(list(frame.columns))
    else:
        columns = mapping
        missing = [c for v in mapping.values() for c in v.split("+") if c not in frame.columns]
        if missing:
            raise RunFailed(f"columnMapping names column(s) {missing} that {source} does not have")
    if "address1" not in columns:
        raise RunFailed(f"No address line column in {source} (give columnMapping.address1); columns: "
                        f"{list(frame.columns)}")
    ncoa = bool(job.get("performNcoa"))
    ctx.log(f"CASS standardisation of {len(frame)} rows of {source} (columns used: {columns})")
    ctx.log(addr.CASS_PRECISION_NOTE)
    if ncoa:
        ctx.log(addr.NCOA_NOTE, "warn")
    rows = []
    for _, row in frame.iterrows():
        if ctx.cancelled.is_set():
            return
        out = addr.standardize(*(_column(row, columns, f) for f in addr.ADDRESS_FIELDS))
        if ncoa:
            out.update(ncoa_status="not_checked", ncoa_address1=out["cass_address1"], ncoa_city=out["cass_city"],
                       ncoa_state=out["cass_state"], ncoa_zip5=out["cass_zip5"])
        rows.append(out)
    enhanced = pd.DataFrame(rows)
    keys = [k for k in (src.get("multipartKey") or []) if k in frame.columns]
    if (job.get("outputLevel") or "all") == "all" or not keys:
        base = frame.reset_index(drop=True)
    else:
        base = frame[keys].reset_index(drop=True)
    result = pd.concat([base, enhanced], axis=1)
    counts = enhanced["cass_status"].value_counts().to_dict() if len(enhanced) else {}
    summary = {"rows": len(result), "output_table": target, "precision_note": addr.CASS_PRECISION_NOTE,
               "ncoa": addr.NCOA_NOTE if ncoa else "not requested",
               **{s: int(counts.get(s, 0)) for s in ("standardized", "zip_mismatch", "unparseable")}}
    ctx.log(f"Standardised {len(result)} rows into {target}: {summary['standardized']} standardized, "
            f"{summary['zip_mismatch']} ZIP/state mismatches, {summary['unparseable']} unparseable")
    _finish(ctx, result, target, "drop", summary)
