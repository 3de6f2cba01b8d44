"""``GET /databases``, ``GET /databases/{id}``, ``GET /databases/{id}/schemas`` (list in ``emulator.databases``)
and the databases' whitelisted IPs (``GET /databases/{id}/whitelist-ips[/{ip_id}]``).

The spec has no call to add or remove a whitelisted IP, so each database's list is seeded once, on
first read, with the loopback network the emulator serves (store kind ``whitelist_ips``, parent the
database id; ids are global, as on the real API).
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from .. import databases as dbs
from ..common import now_iso, respond
from ..errors import not_found
from . import emulator

router = APIRouter()


@router.get("/databases")
@router.get("/databases/")
def list_databases(request: Request):
    return respond(request, dbs.list_databases())


@router.get("/databases/{db_id}")
def get_database(request: Request, db_id: int):
    db = dbs.get_database(db_id)
    if db is None:
        raise not_found("database")
    return respond(request, db)


@router.get("/databases/{db_id}/schemas")
def list_schemas(request: Request, db_id: int, name: str | None = None):
    if dbs.get_database(db_id) is None:
        raise not_found("database")
    schemas = dbs.list_schemas(emulator(request), db_id)
    if name:
        schemas = [s for s in schemas if name in s]
    return respond(request, [{"schema": s} for s in schemas])


def _whitelist(request: Request, db_id: int) -> list[dict]:
    if dbs.get_database(db_id) is None:
        raise not_found("database")
    store = emulator(request).store
    with store.lock:
        if store.get("whitelist_ips_seeded", db_id) is None:
            now = now_iso()
            store.put("whitelist_ips", {
                "id": store.next_id("whitelist_ips"), "databaseId": db_id, "remoteHostId": db_id,
                "securityGroupId": f"sg-emulator{db_id:08d}", "subnetMask": "127.0.0.1/32",
                "authorizedBy": "emulator", "isActive": True, "createdAt": now, "updatedAt": now,
            }, parent=db_id)
            store.put("whitelist_ips_seeded", {"id": db_id})
        return store.all("whitelist_ips", parent=db_id)


@router.get("/databases/{db_id}/whitelist-ips")
def list_whitelist_ips(request: Request, db_id: int):
    return respond(request, _whitelist(request, db_id))


@router.get("/databases/{db_id}/whitelist-ips/{ip_id}")
def get_whitelist_ip(request: Request, db_id: int, ip_id: int):
    doc = next((d for d in _whitelist(request, db_id) if d["id"] == ip_id), None)
    if doc is None:
        raise not_found("whitelisted IP")
    return respond(request, doc)
