"""The presigned data plane behind ``/files`` (what S3 is on Civis), streaming in constant memory:

* ``POST /_emulator/presigned/uploads``: an S3-style form POST (``key``, ``policy``, ``signature`` ...,
  then ``file`` last), parsed as it arrives;
* ``PUT /_emulator/presigned/parts/{id}/{n}``: one part of a multipart upload;
* ``GET /_emulator/presigned/files/{id}``: the file's bytes.

Request bodies are read on the event loop and written to disk by a worker thread, 1 MiB at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from python_multipart.multipart import MultipartParser, parse_options_header

from .. import presign
from ..errors import ApiError, bad_request, not_found
from ..filestore import FileNotFound, FileStoreError
from . import emulator

router = APIRouter(prefix=presign.PRESIGNED_PREFIX.rstrip("/"))
BLOCK = 1024 * 1024
_DONE = object()


class ThreadSink:
    """Bytes from the event loop to a blocking consumer (``consume(iterator_of_bytes)``) in a thread."""

    def __init__(self, consume: Callable[[Iterator[bytes]], Any]) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=4)
        self._buffer = bytearray()
        self._task = asyncio.ensure_future(anyio.to_thread.run_sync(self._run, consume))

    def _iter(self) -> Iterator[bytes]:
        while True:
            item = asyncio.run_coroutine_threadsafe(self._queue.get(), self._loop).result()
            if item is _DONE:
                return
            yield item

    def _run(self, consume: Callable[[Iterator[bytes]], Any]) -> Any:
        chunks = self._iter()
        try:
            return consume(chunks)
        finally:
            for _ in chunks:  # drain, so the event loop side never blocks on a full queue
                pass

    async def write(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) >= BLOCK:
            await self._queue.put(bytes(self._buffer))
            self._buffer.clear()

    async def close(self) -> Any:
        if self._buffer:
            await self._queue.put(bytes(self._buffer))
            self._buffer.clear()
        await self._queue.put(_DONE)
        return await self._task


def _store_errors(exc: Exception) -> ApiError:
    if isinstance(exc, FileNotFound):
        return not_found("file")
    return bad_request(str(exc))


@router.put("/parts/{file_id}/{part_num}")
async def put_part(request: Request, file_id: int, part_num: int):
    state = emulator(request)
    q = request.query_params
    presign.check_url(state.api_key, request.url.path, q.get("expires"), q.get("signature"))
    sink = ThreadSink(lambda chunks: state.files.write_part(file_id, part_num, chunks))
    try:
        async for chunk in request.stream():
            await sink.write(chunk)
    finally:
        try:
            await sink.close()
        except (FileStoreError, FileNotFound) as exc:
            raise _store_errors(exc) from None
    return Response(status_code=200, headers={"ETag": f'"{file_id}-{part_num}"'})


@router.post("/uploads")
async def post_form(request: Request):
    """S3 POST-object semantics: the fields before ``file`` authorise it; ``file`` is streamed."""
    state = emulator(request)
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise bad_request("uploads are multipart/form-data with the fields first and the file last")
    fields: dict[str, str] = {}
    part: dict[str, Any] = {"headers": {}, "field": b"", "value": b"", "sink": None}
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
            part["sink"] = ThreadSink(lambda chunks: state.files.write_stream(file_id, chunks))

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
            if part["sink"] is not None:
                for piece in pending:
                    await part["sink"].write(piece)
            pending.clear()
        parser.finalize()
    finally:
        if part["sink"] is not None:
            try:
                await part["sink"].close()
            except (FileStoreError, FileNotFound) as exc:
                raise _store_errors(exc) from None
    if part["sink"] is None:
        raise bad_request("the form has no 'file' field")
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
