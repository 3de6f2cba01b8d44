"""The presigned data plane behind ``/files`` (what S3 is on Civis), streaming in constant memory:

* ``POST /_emulator/presigned/uploads``: an S3-style form POST (``key``, ``policy``, ``signature`` ...,
  then ``file`` last), parsed as it arrives;
* ``PUT /_emulator/presigned/parts/{id}/{n}``: one part of a multipart upload;
* ``GET /_emulator/presigned/files/{id}``: the file's bytes.

A part's body goes from the socket to its place in the assembled file on a data-plane thread
(``Sink.receive_from``: spliced into the page cache or written ``O_DIRECT`` from a reused buffer, whichever
has been faster lately, see ``socket_to_file.py``) when the server exposes the connection's socket (uvicorn
does): uvicorn's own path hands a body over 64-256 KiB at a time through the event loop, which held uploads
to a fraction of what the loopback carries. The parser then never saw those bytes, so that response closes
the connection. Otherwise (and for the form POST) bodies are read on the event loop and
handed to a worker thread in blocks of up to 4 MiB, one ``pwritev`` each while the next block arrives.
Parts go straight to their place in the assembled file (``file_writes.py``), so no byte is copied twice.
"""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from python_multipart.multipart import MultipartParser, parse_options_header

from .. import presign
from ..errors import ApiError, bad_request, not_found
from ..file_writes import FileNotFound, FileStoreError, Sink
from ..socket_to_file import ModeChooser
from . import emulator

router = APIRouter(prefix=presign.PRESIGNED_PREFIX.rstrip("/"))
BLOCK = 4 * 1024 * 1024
_MAX_PIECES = 256


class BlockWriter:
    """Received bytes to a :class:`~civis_emulator.file_writes.Sink`, a block at a time in a
    worker thread, one block in flight while the event loop gathers the next (no copy, no per-chunk hop)."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self._loop = asyncio.get_running_loop()
        self._pieces: list[bytes] = []
        self._size = 0
        self._inflight: asyncio.Future | None = None

    async def write(self, data: bytes) -> None:
        if data:
            self._pieces.append(data)
            self._size += len(data)
            if self._size >= BLOCK or len(self._pieces) >= _MAX_PIECES:
                await self._flush()

    async def _flush(self) -> None:
        if self._inflight is not None:
            await self._inflight
            self._inflight = None
        if self._pieces:
            pieces, self._pieces, self._size = self._pieces, [], 0
            self._inflight = self._loop.run_in_executor(_DISK, self._sink.writev, pieces)

    async def close(self) -> int:
        """Write what is left and commit; on any failure nothing is published."""
        try:
            await self._flush()
            await self._flush()
        except BaseException:
            self._sink.abort()
            raise
        return await self._loop.run_in_executor(_DISK, self._sink.commit)

    async def abort(self) -> None:
        if self._inflight is not None:
            await asyncio.gather(self._inflight, return_exceptions=True)
        self._sink.abort()


DIRECT_MIN = 1024 * 1024  # smaller bodies are not worth closing the connection for
BODY_TIMEOUT = 60.0
# Data-plane disk work has its own threads: a client's parallel parts must not wait behind (or starve)
# the event loop's default executor.
_DISK = ThreadPoolExecutor(max_workers=32, thread_name_prefix="emulator-data-plane")


def _socket_of(request: Request) -> tuple[Any, int] | None:
    """The connection's transport and socket fd, where the server exposes them (faults.py drops
    connections through the same door)."""
    transport = getattr(getattr(request.receive, "__self__", None), "transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or not hasattr(os, "readv"):
        return None
    return transport, sock.fileno()


_MODES = ModeChooser()


async def _socket_body(request: Request, sink: Sink, declared: int, transport: Any, fd: int) -> None:
    """What the server has read already through ASGI, the rest straight from the socket."""
    loop = asyncio.get_running_loop()
    message = await request.receive()
    if message["type"] != "http.request":
        raise ConnectionError("the client went away")
    more = message.get("more_body", False)
    if more:
        transport.pause_reading()  # before any await: from here on, body bytes stay in the socket
    try:
        if message.get("body"):
            await loop.run_in_executor(_DISK, sink.write, message["body"])
        left = declared - len(message.get("body", b""))
        if more and left > 0:
            mode, started = _MODES.pick(), time.perf_counter()
            await loop.run_in_executor(_DISK, sink.receive_from, fd, left, BODY_TIMEOUT, mode)
            _MODES.record(mode, left, time.perf_counter() - started)
    except BaseException:
        transport.close()
        raise


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def _store_errors(exc: Exception) -> ApiError:
    if isinstance(exc, FileNotFound):
        return not_found("file")
    return bad_request(str(exc))


@router.put("/parts/{file_id}/{part_num}")
async def put_part(request: Request, file_id: int, part_num: int):
    state = emulator(request)
    q = request.query_params
    presign.check_url(state.api_key, request.url.path, q.get("expires"), q.get("signature"))
    declared = _declared_length(request)
    try:
        sink = state.files.open_part(file_id, part_num, declared)
    except (FileStoreError, FileNotFound) as exc:
        raise _store_errors(exc) from None
    headers = {"ETag": f'"{file_id}-{part_num}"'}
    direct = _socket_of(request) if declared is not None and declared >= DIRECT_MIN else None
    try:
        if direct is not None:
            headers["Connection"] = "close"
            await _socket_body(request, sink, declared, *direct)  # type: ignore[arg-type]
            await asyncio.get_running_loop().run_in_executor(_DISK, sink.commit)
        else:
            writer = BlockWriter(sink)
            try:
                async for chunk in request.stream():
                    await writer.write(chunk)
            except BaseException:
                await writer.abort()
                raise
            await writer.close()
    except (FileStoreError, FileNotFound) as exc:
        raise _store_errors(exc) from None
    except (ConnectionError, TimeoutError) as exc:
        sink.abort()
        raise bad_request(f"the part's body did not arrive: {exc}") from None
    return Response(status_code=200, headers=headers)


@router.post("/uploads")
async def post_form(request: Request):
    """S3 POST-object semantics: the fields before ``file`` authorise it; ``file`` is streamed."""
    state = emulator(request)
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise bad_request("uploads are multipart/form-data with the fields first and the file last")
    fields: dict[str, str] = {}
    part: dict[str, Any] = {"headers": {}, "field": b"", "value": b"", "writer": None}
    pending: list[bytes] = []  # file bytes parsed from the current network chunk, written after it

    def on_part_begin() -> None:
        part.update(headers={}, value=b"", field=b"")

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part["headers"][part["field"].lower()] = part["headers"].get(part["field"].lower(), b"") + data[start:end]

    def on_header_end() -> None:
        part["field"] = b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if part.get("is_file"):
            pending.append(data[start:end])
        else:
            part["value"] += data[start:end]

    def on_headers_finished() -> None:
        _, disp = parse_options_header(part["headers"].get(b"content-disposition", b""))
        part["name"] = disp.get(b"name", b"").decode()
        part["is_file"] = part["name"] == "file"
        if part["is_file"]:
            file_id = presign.check_policy(state.api_key, fields.get("policy"), fields.get("signature"))
            part["writer"] = BlockWriter(state.files.open_upload(file_id))

    def on_part_end() -> None:
        if not part.get("is_file"):
            fields[part["name"]] = part["value"].decode()

    parser = MultipartParser(params[b"boundary"], callbacks={
        "on_part_begin": on_part_begin, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished, "on_part_data": on_part_data, "on_part_end": on_part_end,
    })
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if part["writer"] is not None:
                for piece in pending:
                    await part["writer"].write(piece)
            pending.clear()
        parser.finalize()
        if part["writer"] is None:
            raise bad_request("the form has no 'file' field")
        await part["writer"].close()
    except BaseException as exc:
        if part["writer"] is not None:
            await part["writer"].abort()
        if isinstance(exc, (FileStoreError, FileNotFound)):
            raise _store_errors(exc) from None
        raise
    return Response(status_code=204)


class _BigChunkFileResponse(FileResponse):
    chunk_size = BLOCK


@router.get("/files/{file_id}")
def download(request: Request, file_id: int):
    state = emulator(request)
    q = request.query_params
    presign.check_url(state.api_key, request.url.path, q.get("expires"), q.get("signature"))
    try:
        doc = state.files.get(file_id)
        path = state.files.path(file_id)
    except (FileStoreError, FileNotFound) as exc:
        raise _store_errors(exc) from None
    return _BigChunkFileResponse(path, filename=doc["name"], media_type="application/octet-stream")
