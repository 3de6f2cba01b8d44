"""Per-object families shared by most resources, registered from one table of prefixes (``TARGETS``):

* shares: ``GET {prefix}/{id}/shares``, ``PUT .../shares/users|groups``, ``DELETE .../shares/users|groups/{id}``;
* ownership: ``PUT {prefix}/{id}/transfer``, ``GET {prefix}/{id}/dependencies``;
* project membership: ``GET {prefix}/{id}/projects``, ``PUT/DELETE {prefix}/{id}/projects/{project_id}``;
* archive: ``PUT {prefix}/{id}/archive`` (``{"status": bool}``) sets the object's ``archived``.

A route is mounted only where the spec has it for that prefix. Shares are stored per object namespace
(``ns``: scripts, imports, models and ``/jobs`` share the job id space, so a script's shares are its
job's) in store kind ``shares_<ns>``; the emulated user owns every object until it is transferred.
Every route answers 404 (API error body) when the object does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from .. import spec
from ..common import USER, parse_body, respond
from ..errors import ApiError, bad_request, not_found
from ..filestore import FileNotFound
from ..runs import run_summary
from ..script_kinds import KINDS, kind_of
from . import emulator, found
from .projects import add_member, project_or_404, projects_containing, remove_member, summary

router = APIRouter()
LEVELS = ("read", "write", "manage")
_GROUPS = {1: "Emulator Group"}
_IMPORT_TYPES = ("JobTypes::Import", "JobTypes::CsvImport")
_ENHANCEMENT_TYPES = ("JobTypes::Geocode", "JobTypes::CassNcoa")


@dataclass(frozen=True)
class Target:
    prefix: str  # "/scripts/python3"
    ns: str  # id space: job, file, table, project, report, credential
    what: str  # for the 404 message
    lookup: Callable[[Request, int], dict]  # the object, or raise not_found
    archive: Callable[[Request, int, dict], dict] | None = None  # (request, id, object) -> response doc


# -- lookups ---------------------------------------------------------------------------------------
def _job_lookup(what: str, types: tuple[str, ...] | None = None) -> Callable[[Request, int], dict]:
    def lookup(request: Request, obj_id: int) -> dict:
        job = emulator(request).registry.get_job(obj_id)
        if job is None or (types is not None and job.get("type") not in types):
            raise not_found(what)
        return job
    return lookup


def _store_lookup(kind: str, what: str) -> Callable[[Request, int], dict]:
    def lookup(request: Request, obj_id: int) -> dict:
        doc = emulator(request).store.get(kind, obj_id)
        if doc is None:
            raise not_found(what)
        return doc
    return lookup


def _file_lookup(request: Request, obj_id: int) -> dict:
    try:
        return emulator(request).files.get(obj_id)
    except FileNotFound:
        raise not_found("file") from None


def _table_lookup(request: Request, obj_id: int) -> dict:
    from ..warehouse import WarehouseError

    warehouse = emulator(request).warehouse
    try:
        return warehouse.describe(*warehouse.table_by_id(obj_id))
    except WarehouseError:
        raise not_found("table") from None


def _model_lookup(request: Request, obj_id: int) -> dict:
    from .models import _model_job  # a model is a CivisML training job

    return _model_job(request, obj_id)


# -- archive renderers (the response is the object, as its own GET shows it) ----------------------
def _archive_job(render: Callable[[Request, dict], dict] | None = None):
    def archive(request: Request, obj_id: int, obj: dict) -> dict:
        job = found(emulator(request).registry.update_job(obj_id, {"archived": obj["archived"]}), "object")
        return render(request, job) if render else job
    return archive


def _render_jobs(request: Request, job: dict) -> dict:
    runs = emulator(request).registry.list_runs(job["id"])
    return dict(job, runs=[run_summary(r) for r in reversed(runs)][:10])


def _render_script(request: Request, job: dict) -> dict:
    from .scripts import render_script

    return render_script(request, job)


def _render_model(request: Request, job: dict) -> dict:
    from .models import _model

    return _model(request, job)


def _archive_store(kind: str):
    def archive(request: Request, obj_id: int, obj: dict) -> dict:
        doc = emulator(request).store.update(kind, obj_id, lambda d: d.update(archived=obj["archived"]))
        return found(doc, "object")
    return archive


TARGETS: list[Target] = [
    Target("/jobs", "job", "job", _job_lookup("job"), _archive_job(_render_jobs)),
    *(Target(f"/scripts/{k.path}", "job", "script", _job_lookup("script", (k.job_type,)),
             _archive_job(_render_script)) for k in KINDS.values()),
    Target("/imports", "job", "import", _job_lookup("import", _IMPORT_TYPES), _archive_job()),
    Target("/imports/files/csv", "job", "import", _job_lookup("import", ("JobTypes::CsvImport",)),
           _archive_job(lambda r, j: dict(j, myPermissionLevel="manage"))),
    Target("/files/preprocess/csv", "job", "preprocess job",
           _job_lookup("preprocess job", ("JobTypes::CsvPreprocess",)), _archive_job()),
    Target("/models", "job", "model", _model_lookup, _archive_job(_render_model)),
    Target("/files", "file", "file", _file_lookup),
    Target("/tables", "table", "table", _table_lookup),
    Target("/credentials", "credential", "credential", _store_lookup("credentials", "credential")),
    Target("/projects", "project", "project", _store_lookup("projects", "project")),
    Target("/reports", "report", "report", _store_lookup("reports", "report"), _archive_store("reports")),
]


# -- shares ----------------------------------------------------------------------------------------
def _shares(request: Request, ns: str, obj_id: int) -> dict:
    doc = emulator(request).store.get(f"shares_{ns}", obj_id)
    return doc or {"id": obj_id, "users": {str(USER["id"]): "manage"}, "groups": {}}


def _save_shares(request: Request, ns: str, doc: dict) -> None:
    emulator(request).store.put(f"shares_{ns}", doc)


def _user(uid: int) -> dict:
    return {"id": uid, "name": USER["name"] if uid == USER["id"] else f"User {uid}"}


def share_users(request: Request, ns: str, obj_id: int) -> list[dict]:
    """Users with access to the object, as ``UserSimpleUser`` (for project summaries)."""
    out = []
    for uid in sorted(int(u) for u in _shares(request, ns, obj_id)["users"]):
        user = _user(uid)
        out.append(dict(user, username=USER["username"] if uid == USER["id"] else f"user{uid}",
                        initials="".join(w[0] for w in user["name"].split()[:2]).upper(),
                        online=uid == USER["id"]))
    return out


def share_index(doc: dict) -> dict:
    out: dict[str, Any] = {}
    for level, key in (("read", "readers"), ("write", "writers"), ("manage", "owners")):
        out[key] = {
            "users": [_user(int(u)) for u, lv in sorted(doc["users"].items(), key=lambda x: int(x[0])) if lv == level],
            "groups": [{"id": int(g), "name": _GROUPS.get(int(g), f"Group {g}")}
                       for g, lv in sorted(doc["groups"].items(), key=lambda x: int(x[0])) if lv == level],
        }
    out["totalUserShares"] = len(doc["users"])
    out["totalGroupShares"] = len(doc["groups"])
    return out


def _share_body(body: Any, ids_field: str) -> tuple[list[int], str]:
    body = parse_body(body, [ids_field, "permissionLevel"])
    level = body["permissionLevel"]
    if level not in LEVELS:
        raise bad_request(f"permission_level must be one of: {', '.join(LEVELS)}")
    ids = body[ids_field] if isinstance(body[ids_field], list) else [body[ids_field]]
    try:
        return [int(i) for i in ids], level
    except (TypeError, ValueError):
        raise bad_request(f"{ids_field} must be a list of integers") from None


def _add_share_routes(t: Target) -> None:
    def get_shares(request: Request, obj_id: int):
        t.lookup(request, obj_id)
        return respond(request, [share_index(_shares(request, t.ns, obj_id))])

    def put_shares(field: str, ids_field: str):
        def put(request: Request, obj_id: int, body: Any = Body(None)):
            t.lookup(request, obj_id)
            ids, level = _share_body(body, ids_field)
            with emulator(request).store.lock:
                doc = _shares(request, t.ns, obj_id)
                doc[field].update({str(i): level for i in ids})
                _save_shares(request, t.ns, doc)
            return respond(request, share_index(doc))
        return put

    def delete_share(field: str):
        def delete(request: Request, obj_id: int, member_id: int):
            t.lookup(request, obj_id)
            with emulator(request).store.lock:
                doc = _shares(request, t.ns, obj_id)
                owners = [u for u, lv in doc["users"].items() if lv == "manage"]
                if field == "users" and owners == [str(member_id)]:
                    raise ApiError(400, "bad_request", "The owner of an object cannot be unshared.")
                if doc[field].pop(str(member_id), None) is None:
                    raise not_found("share")
                _save_shares(request, t.ns, doc)
            return Response(status_code=204)
        return delete

    def transfer(request: Request, obj_id: int, body: Any = Body(None)):
        t.lookup(request, obj_id)
        body = parse_body(body, ["userId", "includeDependencies"])
        with emulator(request).store.lock:
            doc = _shares(request, t.ns, obj_id)
            for uid, level in list(doc["users"].items()):
                if level == "manage":
                    doc["users"][uid] = "write"  # the previous owner keeps write access
            doc["users"][str(int(body["userId"]))] = "manage"
            _save_shares(request, t.ns, doc)
        return respond(request, {"dependencies": []})

    def dependencies(request: Request, obj_id: int, user_id: int | None = None):
        t.lookup(request, obj_id)
        return respond(request, [])  # the emulator tracks no object that another depends on

    base = f"{t.prefix}/{{obj_id}}"
    _route(t, "/shares", "get", get_shares)
    _route(t, "/shares/users", "put", put_shares("users", "userIds"))
    _route(t, "/shares/groups", "put", put_shares("groups", "groupIds"))
    _route(t, "/shares/users/{user_id}", "delete", delete_share("users"), f"{base}/shares/users/{{member_id}}")
    _route(t, "/shares/groups/{group_id}", "delete", delete_share("groups"),
           f"{base}/shares/groups/{{member_id}}")
    _route(t, "/transfer", "put", transfer)
    _route(t, "/dependencies", "get", dependencies)


# -- projects membership ---------------------------------------------------------------------------
def _add_project_routes(t: Target) -> None:
    fco = t.prefix.strip("/")

    def list_projects(request: Request, obj_id: int, hidden: bool = False):
        t.lookup(request, obj_id)
        docs = projects_containing(request, t.ns, obj_id, hidden)
        return respond(request, [summary(request, p) for p in docs])

    def put_project(request: Request, obj_id: int, project_id: int):
        t.lookup(request, obj_id)
        project_or_404(request, project_id)
        add_member(request, project_id, t.ns, obj_id, fco)
        _sync_job_projects(request, t, obj_id)
        return Response(status_code=204)

    def delete_project(request: Request, obj_id: int, project_id: int):
        t.lookup(request, obj_id)
        remove_member(request, project_id, t.ns, obj_id)
        _sync_job_projects(request, t, obj_id)
        return Response(status_code=204)

    _route(t, "/projects", "get", list_projects)
    _route(t, "/projects/{project_id}", "put", put_project)
    _route(t, "/projects/{project_id}", "delete", delete_project)


def _sync_job_projects(request: Request, t: Target, obj_id: int) -> None:
    """Scripts list their projects (``projects: [{id, name}]``): keep that field in step."""
    if t.ns != "job":
        return
    docs = projects_containing(request, "job", obj_id, hidden=None)
    emulator(request).store.update("jobs", obj_id, lambda j: j.update(
        projects=[{"id": p["id"], "name": p["name"]} for p in docs]))


def _add_archive_route(t: Target, render: Callable[[Request, int, dict], dict]) -> None:
    def archive(request: Request, obj_id: int, body: Any = Body(None)):
        obj = t.lookup(request, obj_id)
        status = parse_body(body, ["status"])["status"]
        return respond(request, render(request, obj_id, dict(obj, archived=bool(status))))

    _route(t, "/archive", "put", archive)


def _route(t: Target, suffix: str, method: str, endpoint: Callable, path: str | None = None) -> None:
    """Mount ``endpoint`` at ``{prefix}/{obj_id}{suffix}`` if the spec has that operation."""
    paths = spec.load_spec()["paths"]
    ops = paths.get(f"{t.prefix}/{{id}}{suffix}") or paths.get(f"{t.prefix}/{{id}}{suffix}/") or {}
    if method not in ops:
        return
    path = path or f"{t.prefix}/{{obj_id}}{suffix}"
    router.add_api_route(path, endpoint, methods=[method.upper()])


# -- what a project shows of its members ------------------------------------------------------------
def _latest(job: dict) -> dict | None:
    last = job.get("lastRun")
    if not isinstance(last, dict):
        return None
    return {"state": last.get("state"), "updatedAt": last.get("updatedAt") or job.get("lastRunUpdatedAt")}


def describe_member(request: Request, member: dict) -> dict | None:
    """One member of a project in the shape of its ``GET /projects/{id}`` list, or None if gone."""
    target = next((t for t in TARGETS if t.ns == member["ns"]), None)
    if target is None:
        return None
    try:
        obj = target.lookup(request, member["id"])
    except ApiError:
        return None
    base = {"id": member["id"], "createdAt": obj.get("createdAt"),
            "updatedAt": obj.get("updatedAt") or obj.get("createdAt"), "name": obj.get("name"),
            "archived": obj.get("archived"), "hidden": obj.get("hidden")}
    if member["ns"] == "job":
        section = ("imports" if obj["type"] in _IMPORT_TYPES else "exports" if obj["type"] == "JobTypes::CsvExport"
                   else "enhancements" if obj["type"] in _ENHANCEMENT_TYPES
                   else "scripts" if kind_of(obj) else "scripts")
        return dict(base, type=obj["type"], finishedAt=obj.get("finishedAt"), state=obj.get("state"),
                    lastRun=_latest(obj), section=section)
    if member["ns"] == "file":
        return dict(base, type="S3File", fileName=obj.get("name"), fileSize=obj.get("fileSize"), expired=False)
    if member["ns"] == "table":
        return dict(base, type="Database::Table", schema=obj.get("schema"), rowCount=obj.get("rowCount"),
                    columnCount=len(obj.get("columns") or []))
    if member["ns"] == "project":
        return dict(base, type="Project", description=obj.get("description"), autoShare=obj.get("autoShare"))
    return dict(base, type=obj.get("type"), state=obj.get("state"))


def _named_table_id(request: Request, db_id: int, schema_name: str, table_name: str) -> int:
    from .. import databases as dbs
    from ..warehouse import WarehouseError

    if dbs.get_database(db_id) is None:
        raise not_found("database")
    try:
        return emulator(request).warehouse.table_id(schema_name, table_name)
    except WarehouseError:
        raise not_found("table") from None


_NAMED = "/databases/{db_id}/schemas/{schema_name}/tables/{table_name}/projects"


@router.get(_NAMED)
def list_named_table_projects(request: Request, db_id: int, schema_name: str, table_name: str,
                              hidden: bool = False):
    table_id = _named_table_id(request, db_id, schema_name, table_name)
    return respond(request, [summary(request, p) for p in projects_containing(request, "table", table_id, hidden)])


@router.put(_NAMED + "/{project_id}")
def put_named_table_project(request: Request, db_id: int, schema_name: str, table_name: str, project_id: int):
    table_id = _named_table_id(request, db_id, schema_name, table_name)
    project_or_404(request, project_id)
    add_member(request, project_id, "table", table_id, "tables")
    return Response(status_code=204)


@router.delete(_NAMED + "/{project_id}")
def delete_named_table_project(request: Request, db_id: int, schema_name: str, table_name: str,
                               project_id: int):
    remove_member(request, project_id, "table", _named_table_id(request, db_id, schema_name, table_name))
    return Response(status_code=204)


for _t in TARGETS:
    _add_share_routes(_t)
    if _t.prefix != "/projects":  # a project's own projects are its parent_projects (projects.py)
        _add_project_routes(_t)
    if _t.archive is not None:
        _add_archive_route(_t, _t.archive)
