"""Offline US address data for the enhancements: ZIP centroids (``zipcodes``) and USPS Publication 28
normalisation (``usaddress-scourgify``). Both are extras of the emulator, imported on first use.

Precision, stated plainly: coordinates are the *centre of a ZIP code area* (or the mean of a city's ZIP
centres), never rooftop or street level; standardisation follows USPS Pub 28 abbreviations but does no
delivery-point validation (DPV), ZIP+4 or carrier-route assignment.
"""

from __future__ import annotations

import functools
import re
from typing import Any

ZIP_PRECISION = "zip5_centroid"
CITY_PRECISION = "city_centroid"
UNMATCHED = "unmatched"
GEOCODE_PRECISION_NOTE = (
    "ZIP-code centroid geocoding from offline data (zipcodes package): latitude/longitude are the centre "
    "of the 5-digit ZIP area (geocode_precision=zip5_centroid) or the mean of a city's ZIP centres "
    "(city_centroid); no street or rooftop precision."
)
CASS_PRECISION_NOTE = (
    "USPS Publication 28 normalisation (usaddress-scourgify) with a 5-digit ZIP/state check against "
    "offline ZIP data; no delivery-point validation (DPV), ZIP+4 or carrier route."
)
NCOA_NOTE = "NCOA not applied: the emulator has no National Change of Address move data; addresses pass through."

ADDRESS_FIELDS = ("address1", "address2", "city", "state", "zip")
#: Source column names recognised for each address field (case-insensitive), in order of preference.
FIELD_ALIASES = {
    "address1": ("address1", "address_1", "address_line_1", "address", "street", "street_address", "addr1"),
    "address2": ("address2", "address_2", "address_line_2", "unit", "apt", "addr2"),
    "city": ("city", "town"),
    "state": ("state", "st", "state_code"),
    "zip": ("zip", "zip5", "zipcode", "zip_code", "postal_code", "postcode"),
}


def detect_columns(columns: list[str]) -> dict[str, str]:
    lower = {c.lower(): c for c in columns}
    found = {}
    for field, names in FIELD_ALIASES.items():
        for name in names:
            if name in lower:
                found[field] = lower[name]
                break
    return found


def text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    value = str(value).strip()
    return value or None


def zip5(value: Any) -> str | None:
    """``"60614-1234"`` / ``60614`` / ``2134`` (a ZIP read as a number) -> ``"60614"`` / ``"02134"``."""
    raw = text(value)
    if raw is None:
        return None
    if re.fullmatch(r"\d+(\.0+)?", raw):
        raw = raw.split(".")[0]
        return raw.zfill(5) if len(raw) <= 5 else raw[:5]
    match = re.match(r"^(\d{5})(-\d{4})?$", raw)
    return match.group(1) if match else None


@functools.lru_cache(maxsize=1)
def _zip_index() -> tuple[dict[str, dict], dict[tuple[str, str], list[dict]]]:
    import zipcodes

    by_zip: dict[str, dict] = {}
    by_city: dict[tuple[str, str], list[dict]] = {}
    for record in zipcodes.list_all():
        by_zip[record["zip_code"]] = record
        if record.get("lat") and record.get("long"):
            by_city.setdefault((record["state"], record["city"].upper()), []).append(record)
    return by_zip, by_city


def zip_record(code: str | None) -> dict | None:
    return _zip_index()[0].get(code) if code else None


def geocode(zip_value: Any, city: Any, state: Any) -> tuple[float | None, float | None, str, str | None]:
    """``(latitude, longitude, precision, zip5 used)`` from offline ZIP data; deterministic."""
    code = zip5(zip_value)
    record = zip_record(code)
    if record and record.get("lat") and record.get("long"):
        return round(float(record["lat"]), 4), round(float(record["long"]), 4), ZIP_PRECISION, code
    city_t, state_t = text(city), text(state)
    if city_t and state_t:
        matches = _zip_index()[1].get((state_t.upper(), city_t.upper()), [])
        if matches:
            lat = sum(float(r["lat"]) for r in matches) / len(matches)
            lon = sum(float(r["long"]) for r in matches) / len(matches)
            return round(lat, 4), round(lon, 4), CITY_PRECISION, None
    return None, None, UNMATCHED, None


def standardize(address1: Any, address2: Any, city: Any, state: Any, zip_value: Any) -> dict[str, Any]:
    """USPS Pub 28 form of one address plus a status: standardized, zip_mismatch or unparseable."""
    from scourgify import normalize_address_record
    from scourgify.exceptions import AddressNormalizationError

    record = {"address_line_1": text(address1), "address_line_2": text(address2), "city": text(city),
              "state": text(state), "postal_code": zip5(zip_value) or text(zip_value)}
    out = {"cass_address1": None, "cass_address2": None, "cass_city": None, "cass_state": None, "cass_zip5": None,
           "cass_status": "unparseable", "cass_note": None}
    if not record["address_line_1"]:
        out["cass_note"] = "no address line"
        return out
    try:
        normal = normalize_address_record(record)
    except AddressNormalizationError as exc:
        out["cass_note"] = str(exc).split(",")[0][:200]
        return out
    code = zip5(normal.get("postal_code"))
    out.update(cass_address1=normal.get("address_line_1"), cass_address2=normal.get("address_line_2"),
               cass_city=normal.get("city"), cass_state=normal.get("state"), cass_zip5=code)
    known = zip_record(code)
    if known is None:
        out.update(cass_status="zip_mismatch", cass_note=f"ZIP {code or record['postal_code']!r} is not a US ZIP code")
    elif known["state"] != (out["cass_state"] or "").upper():
        out.update(cass_status="zip_mismatch", cass_note=f"ZIP {code} is in {known['state']}, not {out['cass_state']}")
    else:
        out["cass_status"] = "standardized"
        if not out["cass_city"]:
            out["cass_city"] = known["city"].upper()
    return out
