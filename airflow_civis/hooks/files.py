"""Civis files: streaming upload (one S3 form POST, or a multipart upload with parts sent in parallel)
and streaming download, in constant memory whatever the size.

Written to the Files API contract, so it works against Civis (S3 presigned URLs) and the emulator
alike: ``POST /files`` gives ``uploadUrl`` + ``uploadFields`` for a form POST (fields first, file
last); ``POST /files/multipart`` gives one presigned URL per part, each sent with a PUT, then
``POST /files/multipart/{id}/complete``. The bytes never go with the API key: presigned URLs carry
their own authorisation, so the data plane uses its own session without the Authorization header.
"""

from __future__ import annotations

import math
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
import tenacity

from airflow_civis.exceptions import CivisAPIError
from airflow_civis.hooks._retry import tenacity_arguments
from airflow_civis.hooks.civis import CivisHook, new_session

MiB = 1024 * 1024
CHUNK = MiB
DEFAULT_MULTIPART_THRESHOLD = 50 * MiB  # the official client's switch point
DEFAULT_PART_SIZE = 32 * MiB
MIN_PART_SIZE = 5 * MiB  # S3's minimum for every part but the last
MAX_PARTS = 10000
DEFAULT_MAX_WORKERS = 8
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class _TransferError(CivisAPIError):
    """A presigned-URL request that failed (the URL's signature stripped from every message)."""


class _BrokenDownload(_TransferError):
    """The download's stream broke or came up short after it started: the whole file is read again."""


def _retryable_transfer(exc: BaseException) -> bool:
    """Data-plane rule: any transport failure or short file, or one of the storage's transient statuses."""
    return isinstance(exc, _TransferError) and (exc.status is None or exc.status in _RETRY_STATUSES)


def _public(url: str) -> str:
    """A presigned URL without its query string (which carries the signature)."""
    return re.sub(r"\?.*$", "", url)


class _FileSlice:
    """``length`` bytes of a file from ``offset``, read 1 MiB at a time (requests streams iterables)."""

    def __init__(self, path: str, offset: int, length: int, head: bytes = b"", tail: bytes = b"") -> None:
        self.path, self.offset, self.length, self.head, self.tail = path, offset, length, head, tail

    def __len__(self) -> int:
        return len(self.head) + self.length + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        if self.head:
            yield self.head
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            left = self.length
            while left > 0:
                chunk = fh.read(min(CHUNK, left))
                if not chunk:
                    raise OSError(f"{self.path} shrank while it was being uploaded")
                left -= len(chunk)
                yield chunk
        if self.tail:
            yield self.tail


def _form_body(fields: dict[str, Any], path: str, filename: str) -> tuple[_FileSlice, str]:
    """A multipart/form-data body streamed from disk, with its Content-Length known up front."""
    boundary = uuid.uuid4().hex
    parts = []
    for key, value in fields.items():  # S3 wants "key" first and "file" last; dicts keep the API's order
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n')
    safe_name = filename.replace('"', "")
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{safe_name}"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n")
    head, tail = "".join(parts).encode(), f"\r\n--{boundary}--\r\n".encode()
    return _FileSlice(path, 0, os.path.getsize(path), head, tail), f"multipart/form-data; boundary={boundary}"


class CivisFileTransfer:
    """
    Move bytes between local files and Civis files.

    :param hook: the API hook (for ``/files`` calls and the connection's TLS and retry settings).
    :param multipart_threshold: files larger than this many bytes go up in parts.
    :param part_size: bytes per part (raised when a file would need more than 10,000 parts).
    :param max_workers: parts sent at once.
    """

    def __init__(self, hook: CivisHook, *, multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
                 part_size: int = DEFAULT_PART_SIZE, max_workers: int = DEFAULT_MAX_WORKERS) -> None:
        self.hook = hook
        self.multipart_threshold = int(multipart_threshold)
        self.part_size = max(MIN_PART_SIZE, int(part_size))
        self.max_workers = max(1, int(max_workers))
        self._local = threading.local()

    # -- the data plane ----------------------------------------------------------------------------
    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            # No Authorization header (presigned URLs authorise themselves); the connection's TLS setting
            # and, in tests, the hook's transport.
            session = new_session(self.hook.settings.verify, getattr(self.hook, "transport", None))
            self._local.session = session
        return session

    def _retrying(self, what: str, retry_if: Callable[[BaseException], bool] = _retryable_transfer,
                  ) -> tenacity.Retrying:
        """The connection's policy with the data plane's rules: its own statuses, ``Retry-After`` ignored
        (a storage URL's is not the API's)."""
        return tenacity.Retrying(**tenacity_arguments(
            self.hook.settings.retry, self.hook.log, retry_if=retry_if, honour_retry_after=False, what=what))

    def _transfer(self, what: str, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One data-plane request, retried (every one is idempotent: same bytes, same target; a
        ``_FileSlice`` body re-reads the file on each attempt)."""
        return self._retrying(what)(self._transfer_once, what, method, url, **kwargs)

    def _transfer_once(self, what: str, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            settings = self.hook.settings  # verify per request: REQUESTS_CA_BUNDLE would override the session's
            response = self._session().request(method, url, timeout=settings.timeout, verify=settings.verify,
                                               **kwargs)
        except requests.RequestException as exc:
            raise _TransferError(method, f"{what} ({_public(url)})", None,
                                 _public(f"{type(exc).__name__}: {exc}")) from None
        if response.status_code >= 400:
            message = response.text[:500] or response.reason or ""
            raise _TransferError(method, f"{what} ({_public(url)})", response.status_code, _public(message))
        return response

    # -- upload ------------------------------------------------------------------------------------
    def upload(self, path: str, name: str | None = None, *, expires_at: str | None | object = ...,
               description: str | None = None) -> int:
        """Upload a local file; returns the Civis file id. ``expires_at=None`` keeps it forever,
        an ISO-8601 string sets the expiry, the default keeps Civis' default (30 days)."""
        size = os.path.getsize(path)
        body: dict[str, Any] = {"name": name or os.path.basename(path)}
        if expires_at is not ...:
            body["expiresAt"] = expires_at
        if description:
            body["description"] = description
        if size <= self.multipart_threshold:
            return self._upload_single(path, body)
        return self._upload_multipart(path, size, body)

    def _upload_single(self, path: str, body: dict[str, Any]) -> int:
        created = self.hook.create("/files", json=body)
        fields = dict(created.get("uploadFields") or {})
        ordered = {"key": fields.pop("key")} if "key" in fields else {}
        ordered.update(fields)
        data, content_type = _form_body(ordered, path, body["name"])
        self._transfer(f"upload of file {created['id']}", "POST", created["uploadUrl"],
                       headers={"Content-Type": content_type}, data=data)
        self.hook.log.info("Uploaded %s (%d bytes) as Civis file %s", path, len(data), created["id"])
        return int(created["id"])

    def plan_parts(self, size: int) -> tuple[int, int]:
        """``(part_size, num_parts)`` for a file of ``size`` bytes."""
        part_size = max(self.part_size, math.ceil(size / MAX_PARTS))
        return part_size, max(1, math.ceil(size / part_size))

    def _upload_multipart(self, path: str, size: int, body: dict[str, Any]) -> int:
        part_size, num_parts = self.plan_parts(size)
        created = self.hook.create("/files/multipart", json={**body, "numParts": num_parts})
        urls = created.get("uploadUrls") or []
        if len(urls) != num_parts:
            raise CivisAPIError("POST", "/files/multipart", None,
                                f"asked for {num_parts} part URLs, got {len(urls)}")
        file_id = int(created["id"])

        def send(index: int) -> None:
            offset = index * part_size
            length = min(part_size, size - offset)
            self._transfer(f"part {index + 1} of {num_parts} of file {file_id}", "PUT", urls[index],
                           data=_FileSlice(path, offset, length))

        with ThreadPoolExecutor(max_workers=min(self.max_workers, num_parts),
                                thread_name_prefix="civis-upload") as pool:
            for _ in pool.map(send, range(num_parts)):
                pass
        self.hook.create(f"/files/multipart/{file_id}/complete")
        self.hook.log.info("Uploaded %s (%d bytes, %d parts) as Civis file %s", path, size, num_parts, file_id)
        return file_id

    # -- download ----------------------------------------------------------------------------------
    def file_info(self, file_id: int) -> dict[str, Any]:
        info = self.hook.call("GET", f"/files/{int(file_id)}")
        if not info.get("fileUrl"):
            raise CivisAPIError("GET", f"/files/{file_id}", None,
                                f"Civis file {file_id} has no content (upload unfinished, or expired)")
        return info

    def stream(self, file_id: int, info: dict[str, Any] | None = None) -> Iterator[bytes]:
        """The file's bytes, 1 MiB at a time (the presigned GET goes through the data-plane session: the
        connection's ``verify``, never the API key)."""
        info = info or self.file_info(file_id)
        response = self._transfer(f"download of file {file_id}", "GET", info["fileUrl"], stream=True)
        with response:
            yield from response.iter_content(CHUNK)

    def _download_once(self, file_id: int, info: dict[str, Any], tmp: str) -> None:
        """Write the whole file to ``tmp``; a broken stream or a short file is a retryable transfer error."""
        expected, written = info.get("fileSize"), 0
        try:
            with open(tmp, "wb") as out:
                for chunk in self.stream(file_id, info):
                    out.write(chunk)
                    written += len(chunk)
        except requests.RequestException as exc:
            raise _BrokenDownload("GET", f"download of file {file_id}", None, _public(str(exc))) from None
        if expected is not None and written != expected:
            raise _BrokenDownload("GET", f"download of file {file_id}", None,
                                 f"got {written} bytes, expected {expected}")

    def download(self, file_id: int, path: str) -> dict[str, Any]:
        """Write the file to ``path`` (atomically: a temporary file renamed into place); returns its
        metadata. The download is repeated from the start if the connection breaks."""
        info = self.file_info(file_id)
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        tmp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex[:8]}.part")
        try:
            # Each GET is retried on its own; a stream that breaks after it began is read again whole.
            again = self._retrying(f"download of file {file_id}", lambda exc: isinstance(exc, _BrokenDownload))
            again(self._download_once, file_id, info, tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        self.hook.log.info("Downloaded Civis file %s (%s bytes) to %s", file_id, info.get("fileSize"), path)
        return info
