"""``/projects``: list, create, get, update, archive, auto-share, parent projects; and project membership.

A project is a document (store kind ``projects``) whose ``members`` list names the objects in it as
``{"ns": <namespace>, "id": <object id>, "fco": <resource path>}``; ``ns`` is the id space the object
lives in (``job`` for scripts, imports, models and every other job; ``file``, ``table``, ``project``,
``report``, ``credential``) and ``fco`` the resource path it was added through (``scripts/python3``,
``imports``, ``files``, ...), which decides the list of ``GET /projects/{id}`` it shows up in.
Membership is changed through ``PUT/DELETE /{resource}/{id}/projects/{project_id}`` (``sharing.py``)
and, for projects in projects, ``/projects/{id}/parent_projects/{parent_id}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from ..common import USER, author, now_iso, paginate, parse_body, query_list, required_fields, respond
from ..errors import bad_request, not_found
from . import emulator, found

router = APIRouter()
KIND = "projects"

# fco (resource path an object was added through) -> list of GET /projects/{id} it appears in.
_SECTIONS = {"imports": "imports", "exports": "exports", "models": "models", "files": "files",
             "tables": "tables", "reports": "reports", "projects": "projects", "enhancements": "enhancements"}
_ICONS = {"scripts": "civicon-scripts", "imports": "civicon-imports", "exports": "civicon-exports",
          "models": "civicon-modeling", "files": "civicon-csv", "tables": "civicon-table",
          "reports": "civicon-reports", "projects": "civicon-MuiDriveFolderUploadIcon",
          "enhancements": "civicon-enhancements"}
_LISTS = ("tables", "surveys", "scripts", "imports", "exports", "models", "notebooks", "services",
          "workflows", "reports", "scriptTemplates", "files", "enhancements", "projects")


def project_or_404(request: Request, project_id: int) -> dict:
    doc = emulator(request).store.get(KIND, project_id)
    if doc is None:
        raise not_found("project")
    return doc


def _users(request: Request, ns: str, obj_id: int) -> list[dict]:
    from .sharing import share_users  # sharing imports this module

    return share_users(request, ns, obj_id)


def summary(request: Request, doc: dict) -> dict:
    return dict(doc, author=author(), users=_users(request, "project", doc["id"]))


def projects_containing(request: Request, ns: str, obj_id: int, hidden: bool | None = False) -> list[dict]:
    out = []
    for doc in emulator(request).store.all(KIND):
        if any(m["ns"] == ns and m["id"] == obj_id for m in doc.get("members", [])):
            if hidden is None or bool(doc.get("hidden")) == hidden:
                out.append(doc)
    return out


def add_member(request: Request, project_id: int, ns: str, obj_id: int, fco: str) -> None:
    def apply(doc: dict) -> None:
        members = doc.setdefault("members", [])
        if not any(m["ns"] == ns and m["id"] == obj_id for m in members):
            members.append({"ns": ns, "id": obj_id, "fco": fco})
            doc["updatedAt"] = now_iso()

    if emulator(request).store.update(KIND, project_id, apply) is None:
        raise not_found("project")


def remove_member(request: Request, project_id: int, ns: str, obj_id: int) -> None:
    def apply(doc: dict) -> None:
        before = doc.get("members", [])
        doc["members"] = [m for m in before if not (m["ns"] == ns and m["id"] == obj_id)]
        if len(doc["members"]) != len(before):
            doc["updatedAt"] = now_iso()

    if emulator(request).store.update(KIND, project_id, apply) is None:
        raise not_found("project")


def _entry(request: Request, project: dict, member: dict) -> tuple[str, dict, dict] | None:
    """(section, section entry, allObjects entry) for one member, or None if the object is gone."""
    from .sharing import describe_member  # sharing imports this module

    obj = describe_member(request, member)
    if obj is None:
        return None
    fco = member["fco"]
    section = "scripts" if fco.startswith("scripts") or fco == "jobs" else _SECTIONS.get(fco, "scripts")
    if fco == "jobs":
        section = obj.pop("section", section)
    obj.pop("section", None)
    everything = {
        "projectId": project["id"], "objectId": member["id"], "objectType": obj.get("type"),
        "fcoType": fco, "subType": None, "name": obj.get("name") or obj.get("fileName"),
        "icon": _ICONS.get(section, "civicon-scripts"), "author": USER["name"],
        "updatedAt": obj.get("updatedAt"), "autoShare": obj.get("autoShare"),
        "archived": bool(obj.get("archived")), "hidden": bool(obj.get("hidden")),
        "myPermissionLevel": "manage",
    }
    return section, obj, everything


def render(request: Request, doc: dict) -> dict:
    out = summary(request, doc)
    out.update({name: [] for name in _LISTS}, allObjects=[], myPermissionLevel="manage",
               canCurrentUserEnableAutoShare=True)
    for member in doc.get("members", []):
        found = _entry(request, doc, member)
        if found:
            section, obj, everything = found
            out[section].append(obj)
            out["allObjects"].append(everything)
    parents = projects_containing(request, "project", doc["id"], hidden=None)
    # The spec types parentProject.name as an integer (a spec bug: it is the name); null satisfies both.
    out["parentProject"] = {"id": parents[0]["id"], "name": None} if parents else None
    return out


def _flag(value: str | None, what: str) -> str:
    value = (value or "false").lower()
    if value not in ("true", "false", "all"):
        raise bad_request(f"{what} must be one of: true, false, all")
    return value


@router.get("/projects")
@router.get("/projects/")
def list_projects(request: Request, permission: str | None = None, auto_share: bool | None = None,
                  hidden: bool = False, archived: str | None = None):
    if permission and permission not in ("read", "write", "manage"):
        raise bad_request("permission must be one of: read, write, manage")
    archived = _flag(archived, "archived")
    authors = query_list(request, "author")
    out = []
    for doc in emulator(request).store.all(KIND):
        if archived != "all" and bool(doc.get("archived")) != (archived == "true"):
            continue
        if bool(doc.get("hidden")) != hidden:
            continue
        if auto_share is not None and bool(doc.get("autoShare")) != auto_share:
            continue
        if authors and str(USER["id"]) not in authors:
            continue
        out.append(summary(request, doc))
    return paginate(request, out)


@router.post("/projects")
@router.post("/projects/")
def create_project(request: Request, body: Any = Body(None)):
    body = parse_body(body, required_fields("post", "/projects"))
    store = emulator(request).store
    now = now_iso()
    with store.lock:
        doc = {"id": store.next_id(KIND), "name": body["name"], "description": body.get("description"),
               "note": body.get("note"), "autoShare": bool(body.get("autoShare", False)),
               "hidden": bool(body.get("hidden", False)), "archived": False, "createdAt": now,
               "updatedAt": now, "members": []}
        store.put(KIND, doc)
    return respond(request, render(request, doc), status=200)  # the spec (and the API) answer 200


@router.get("/projects/{project_id}")
def get_project(request: Request, project_id: int):
    return respond(request, render(request, project_or_404(request, project_id)))


def _update(request: Request, project_id: int, changes: dict) -> dict:
    project_or_404(request, project_id)

    def apply(doc: dict) -> None:
        doc.update(changes)
        doc["updatedAt"] = now_iso()

    return found(emulator(request).store.update(KIND, project_id, apply), "project")


@router.put("/projects/{project_id}")
def update_project(request: Request, project_id: int, body: Any = Body(None)):
    body = parse_body(body, required_fields("put", "/projects/{project_id}"))
    changes = {k: body[k] for k in ("name", "description", "note") if k in body}
    if "name" in changes and not changes["name"]:
        raise bad_request("name must not be blank")
    return respond(request, render(request, _update(request, project_id, changes)))


@router.delete("/projects/{project_id}")
def delete_project(request: Request, project_id: int):
    """Deprecated on the API: it archives the project."""
    _update(request, project_id, {"archived": True})
    return Response(status_code=204)


@router.put("/projects/{project_id}/archive")
def archive_project(request: Request, project_id: int, body: Any = Body(None)):
    body = parse_body(body, ["status"])
    return respond(request, render(request, _update(request, project_id, {"archived": bool(body["status"])})))


@router.put("/projects/{project_id}/auto_share")
def auto_share(request: Request, project_id: int, body: Any = Body(None)):
    body = parse_body(body, ["autoShare"])
    return respond(request, render(request, _update(request, project_id, {"autoShare": bool(body["autoShare"])})))


@router.get("/projects/{project_id}/parent_projects")
def list_parents(request: Request, project_id: int, hidden: bool = False):
    project_or_404(request, project_id)
    return paginate(request, [summary(request, p) for p in projects_containing(request, "project", project_id, hidden)])


@router.put("/projects/{project_id}/parent_projects/{parent_id}")
def put_parent(request: Request, project_id: int, parent_id: int):
    project_or_404(request, project_id)
    if parent_id == project_id:
        raise bad_request("a project cannot be its own parent")
    add_member(request, parent_id, "project", project_id, "projects")
    return Response(status_code=204)


@router.delete("/projects/{project_id}/parent_projects/{parent_id}")
def delete_parent(request: Request, project_id: int, parent_id: int):
    project_or_404(request, project_id)
    remove_member(request, parent_id, "project", project_id)
    return Response(status_code=204)
