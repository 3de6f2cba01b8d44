"""``/files``: create (single and multipart uploads), complete, get, update; ``/files/preprocess/csv``.

Upload and download URLs point at the emulator's own presigned data plane (``file_transfer.py``),
so clients send the bytes exactly as they would to S3 and never send the API key with them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from starlette.concurrency import run_in_threadpool

from .. import presign
from ..common import author, parse_body, required_fields, respond
from ..errors import bad_request, not_found
from ..filestore import DEFAULT_EXPIRY, FileNotFound, FileStoreError
from . import emulator, found
from .job_runs import job_or_404

router = APIRouter()

PREPROCESS_JOB_TYPE = "JobTypes::CsvPreprocess"


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def download_url(request: Request, file_id: int) -> str:
    state = emulator(request)
    return presign.signed_url(base_url(request), state.api_key, f"{presign.PRESIGNED_PREFIX}files/{file_id}")


def render_file(request: Request, file_id: int) -> dict:
    try:
        doc = emulator(request).files.get(file_id)
    except FileNotFound:
        raise not_found("file") from None
    url = download_url(request, file_id) if doc["state"] == "uploaded" else None
    return dict(doc, fileUrl=url, downloadUrl=url, author=author(), myPermissionLevel="manage")


def _expiry(body: dict) -> Any:
    return body["expiresAt"] if "expiresAt" in body else DEFAULT_EXPIRY


@router.post("/files")
@router.post("/files/")
def create_file(request: Request, body: Any = Body(None)):
    body = parse_body(body, ["name"])
    state = emulator(request)
    try:
        file_id = state.files.create(body["name"], _expiry(body), description=body.get("description"))
    except FileStoreError as exc:
        raise bad_request(str(exc)) from None
    doc = state.files.get(file_id)
    doc.update(uploadUrl=f"{base_url(request)}{presign.PRESIGNED_PREFIX}uploads",
               uploadFields=presign.upload_fields(state.api_key, file_id, body["name"]),
               myPermissionLevel="manage")
    return respond(request, doc, status=201)


@router.post("/files/multipart")
def create_multipart(request: Request, body: Any = Body(None)):
    body = parse_body(body, ["name", "numParts"])
    state = emulator(request)
    num_parts = body["numParts"]
    if not isinstance(num_parts, int) or not 1 <= num_parts <= 10000:
        raise bad_request("numParts must be an integer from 1 to 10000")
    try:
        file_id = state.files.create_multipart(body["name"], num_parts, _expiry(body),
                                               description=body.get("description"))
    except FileStoreError as exc:
        raise bad_request(str(exc)) from None
    doc = state.files.get(file_id)
    prefix = f"{presign.PRESIGNED_PREFIX}parts/{file_id}/"
    doc["uploadUrls"] = [presign.signed_url(base_url(request), state.api_key, f"{prefix}{n}")
                         for n in range(1, num_parts + 1)]
    return respond(request, doc, status=201)


@router.post("/files/multipart/{file_id}/complete")
async def complete_multipart(request: Request, file_id: int):
    files = emulator(request).files
    try:
        await run_in_threadpool(files.complete_multipart, file_id)  # concatenates: off the event loop
    except FileNotFound:
        raise not_found("file") from None
    except FileStoreError as exc:
        raise bad_request(str(exc)) from None
    return respond(request, None, status=204)


@router.get("/files/{file_id}")
def get_file(request: Request, file_id: int):
    return respond(request, render_file(request, file_id))


@router.patch("/files/{file_id}")
@router.put("/files/{file_id}")
def update_file(request: Request, file_id: int, body: Any = Body(None)):
    method = request.method.lower()
    body = parse_body(body, required_fields(method, "/files/{id}"))
    files = emulator(request).files
    try:
        files.update(file_id, name=body.get("name"), expires_at=_expiry(body))
    except FileNotFound:
        raise not_found("file") from None
    except FileStoreError as exc:
        raise bad_request(str(exc)) from None
    return respond(request, render_file(request, file_id))


# -- /files/preprocess/csv: the official client's CSV check before an import --------------------------
# Runs go through /jobs/{id}/runs (runners/preprocess.py); the output file's detectedInfo is the result.
_PREPROCESS_FIELDS = ("fileId", "inPlace", "detectTableColumns", "forceCharacterSetConversion",
                      "includeHeader", "columnDelimiter", "hidden")
_PREPROCESS_DEFAULTS = {"inPlace": True, "detectTableColumns": False, "forceCharacterSetConversion": False,
                        "includeHeader": None, "columnDelimiter": None, "hidden": False}
_BOOLEAN_FIELDS = ("inPlace", "detectTableColumns", "forceCharacterSetConversion", "hidden")


def _render_preprocess(job: dict) -> dict:
    return {"id": job["id"], **{k: job.get(k) for k in _PREPROCESS_FIELDS}}


def _preprocess_doc(request: Request, body: dict, current: dict) -> dict:
    """The job's fields after ``body``, checked as the spec describes them."""
    doc = dict(current)
    doc.update({k: body[k] for k in _PREPROCESS_FIELDS if k in body})
    file_id = doc.get("fileId")
    if isinstance(file_id, bool) or not isinstance(file_id, int):
        raise bad_request(f"fileId must be an integer file id, got {file_id!r}")
    render_file(request, file_id)  # 404 for an unknown file
    for key in _BOOLEAN_FIELDS:
        if not isinstance(doc.get(key), bool):
            raise bad_request(f"{key} must be true or false, got {doc.get(key)!r}")
    if doc["includeHeader"] is not None and not isinstance(doc["includeHeader"], bool):
        raise bad_request(f"includeHeader must be true, false or left out, got {doc['includeHeader']!r}")
    if doc["columnDelimiter"] not in (None, "comma", "tab", "pipe"):
        raise bad_request(f"columnDelimiter must be one of comma, tab, pipe (or left out to detect it), "
                          f"got {doc['columnDelimiter']!r}")
    return doc


@router.post("/files/preprocess/csv")
def create_preprocess(request: Request, body: Any = Body(None)):
    body = parse_body(body, required_fields("post", "/files/preprocess/csv"))
    doc = _preprocess_doc(request, body, _PREPROCESS_DEFAULTS)
    job = emulator(request).registry.create_job(PREPROCESS_JOB_TYPE, f"CSV preprocess of file {doc['fileId']}", doc)
    return respond(request, _render_preprocess(job), status=201)


@router.get("/files/preprocess/csv/{job_id}")
def get_preprocess(request: Request, job_id: int):
    return respond(request, _render_preprocess(job_or_404(request, job_id, PREPROCESS_JOB_TYPE, "preprocess job")))


@router.put("/files/preprocess/csv/{job_id}")
@router.patch("/files/preprocess/csv/{job_id}")
def update_preprocess(request: Request, job_id: int, body: Any = Body(None)):
    job = job_or_404(request, job_id, PREPROCESS_JOB_TYPE, "preprocess job")
    method = request.method.lower()
    body = parse_body(body, required_fields(method, "/files/preprocess/csv/{id}"))
    current = _PREPROCESS_DEFAULTS if method == "put" else {k: job.get(k) for k in _PREPROCESS_FIELDS}
    doc = _preprocess_doc(request, body, {**_PREPROCESS_DEFAULTS, "fileId": job.get("fileId"), **current})
    updated = found(emulator(request).registry.update_job(job_id, doc), "preprocess job")
    return respond(request, _render_preprocess(updated))
