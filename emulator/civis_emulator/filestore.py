"""Files for the emulator's ``/files`` endpoints: bytes on disk, metadata in SQLite, no HTTP.

Layout under ``root_dir``::

    files.sqlite3          metadata (ids, names, sizes, expiry, detected CSV properties)
    data/<id>              the uploaded bytes
    parts/<id>/            a multipart upload until ``complete_multipart`` (``file_writes.PartLayout``)

Uploads stream to a temporary file and are renamed into place, so a reader never sees half a
file and memory stays constant whatever the size; multipart parts are written in place, so
completing is a rename. CSV properties (header, delimiter, gzip) are detected from the first few
KB only (``csv_sniff.py``).
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterable
from typing import Any, BinaryIO

from .csv_sniff import SNIFF_BYTES, detect_csv, open_maybe_gzip
from .file_writes import FileNotFound, FileStoreError, PartLayout, Sink, replacing_sink

__all__ = ["CHUNK_SIZE", "DEFAULT_EXPIRY", "SNIFF_BYTES", "FileNotFound", "FileStore", "FileStoreError",
           "detect_csv", "open_maybe_gzip"]

CHUNK_SIZE = 1024 * 1024
DEFAULT_LIFETIME = dt.timedelta(days=30)


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT_EXPIRY"


#: ``expires_at`` default: 30 days after creation, as on Civis (``None`` keeps a file forever).
DEFAULT_EXPIRY: Any = _Default()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    value = value.astimezone(dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _parse_time(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise FileStoreError(f"Invalid date-time {value!r}") from None
    if not isinstance(value, dt.datetime):
        raise FileStoreError(f"Invalid date-time {value!r}")
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _write_all(sink: Sink, stream: Iterable[bytes] | BinaryIO) -> int:
    try:
        for chunk in _chunks(stream):
            sink.write(chunk)
    except BaseException:
        sink.abort()
        raise
    return sink.commit()


def _chunks(stream: Iterable[bytes] | BinaryIO) -> Iterable[bytes]:
    """Byte chunks from an iterator of bytes or a binary file-like object."""
    read = getattr(stream, "read", None)
    if read is not None:
        while True:
            chunk = read(CHUNK_SIZE)
            if not chunk:
                return
            yield chunk
    else:
        for chunk in stream:
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise FileStoreError("Upload streams must yield bytes")
            yield bytes(chunk)


class FileStore:
    """Uploaded files with integer ids, persisted under ``root_dir``; safe to use from threads."""

    def __init__(self, root_dir: str | os.PathLike[str], *,
                 file_url_template: str = "/_emulator/files/{id}/content") -> None:
        self.root = os.path.abspath(os.fspath(root_dir))
        self.file_url_template = file_url_template
        os.makedirs(os.path.join(self.root, "data"), exist_ok=True)
        os.makedirs(os.path.join(self.root, "parts"), exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(os.path.join(self.root, "files.sqlite3"), check_same_thread=False,
                                   isolation_level=None)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                """CREATE TABLE IF NOT EXISTS files (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, description TEXT,
                    created_at TEXT NOT NULL, expires_at TEXT, file_size INTEGER,
                    state TEXT NOT NULL, num_parts INTEGER, detected_info TEXT)"""
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ metadata
    def _row(self, file_id: int) -> sqlite3.Row:
        with self._lock:
            cur = self._db.execute(
                "SELECT id, name, description, created_at, expires_at, file_size, state, num_parts, "
                "detected_info FROM files WHERE id = ?", (int(file_id),))
            row = cur.fetchone()
        if row is None:
            raise FileNotFound(f"File {file_id} not found")
        return row

    def _insert(self, name: str, expires_at: Any, description: str | None, num_parts: int | None) -> int:
        if not isinstance(name, str) or not name:
            raise FileStoreError("A file needs a name")
        created = _now()
        expires: dt.datetime | None
        if expires_at is DEFAULT_EXPIRY:
            expires = created + DEFAULT_LIFETIME
        else:
            expires = None if expires_at is None else _parse_time(expires_at)
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO files (name, description, created_at, expires_at, state, num_parts) "
                "VALUES (?, ?, ?, ?, 'pending', ?)",
                (name, description, created.isoformat(), expires.isoformat() if expires else None, num_parts),
            )
            assert cur.lastrowid is not None  # set by every INSERT
            return cur.lastrowid

    def create(self, name: str, expires_at: dt.datetime | str | None = DEFAULT_EXPIRY, *,
               description: str | None = None) -> int:
        """Register a file awaiting its upload; returns its id."""
        return self._insert(name, expires_at, description, None)

    def get(self, file_id: int, *, base_url: str = "") -> dict[str, Any]:
        """Metadata in the spec's ``File`` shape (minus ``author``/``myPermissionLevel``), plus
        ``state`` (``pending`` or ``uploaded``) and ``numParts`` (multipart uploads)."""
        row = self._row(file_id)
        fid, name, description, created, expires, size, state, num_parts, detected = row
        url = base_url + self.file_url_template.format(id=fid) if state == "uploaded" else None
        return {
            "id": fid, "name": name, "description": description,
            "createdAt": _iso(dt.datetime.fromisoformat(created)),
            "expiresAt": _iso(dt.datetime.fromisoformat(expires)) if expires else None,
            "fileSize": size, "fileUrl": url, "downloadUrl": url,
            "detectedInfo": json.loads(detected) if detected else None,
            "state": state, "numParts": num_parts,
        }

    def list(self) -> list[dict[str, Any]]:
        """All files, newest first."""
        with self._lock:
            ids = [r[0] for r in self._db.execute("SELECT id FROM files ORDER BY id DESC").fetchall()]
        result = []
        for fid in ids:
            try:
                result.append(self.get(fid))
            except FileNotFound:  # deleted meanwhile
                pass
        return result

    def update(self, file_id: int, *, name: str | None = None,
               expires_at: dt.datetime | str | None = DEFAULT_EXPIRY) -> dict[str, Any]:
        """Rename a file or change its expiry (``expires_at=None``: keep forever)."""
        self._row(file_id)
        with self._lock:
            if name is not None:
                self._db.execute("UPDATE files SET name = ? WHERE id = ?", (name, int(file_id)))
            if expires_at is not DEFAULT_EXPIRY:
                value = None if expires_at is None else _parse_time(expires_at).isoformat()
                self._db.execute("UPDATE files SET expires_at = ? WHERE id = ?", (value, int(file_id)))
        return self.get(file_id)

    def set_detected_info(self, file_id: int, info: dict[str, Any] | None) -> None:
        """Record what ``/files/preprocess/csv`` detected (replacing the upload's quick guess)."""
        self._row(file_id)
        with self._lock:
            self._db.execute("UPDATE files SET detected_info = ? WHERE id = ?",
                             (json.dumps(info) if info else None, int(file_id)))

    def path(self, file_id: int) -> str:
        """Path of an uploaded file's bytes; FileStoreError while the upload is pending."""
        row = self._row(file_id)
        if row[6] != "uploaded":
            raise FileStoreError(f"File {file_id} has not been uploaded yet")
        return self._data_path(int(file_id))

    def delete(self, file_id: int) -> None:
        """Remove a file, its parts and its metadata."""
        self._row(file_id)
        with self._lock:
            self._db.execute("DELETE FROM files WHERE id = ?", (int(file_id),))
        for path in (self._data_path(int(file_id)),):
            if os.path.exists(path):
                os.remove(path)
        shutil.rmtree(self._parts_dir(int(file_id)), ignore_errors=True)

    def purge_expired(self, now: dt.datetime | None = None) -> builtins.list[int]:  # `list` is FileStore.list here
        """Delete files whose ``expiresAt`` has passed; returns their ids."""
        now = now or _now()
        with self._lock:
            rows = self._db.execute("SELECT id, expires_at FROM files WHERE expires_at IS NOT NULL").fetchall()
        expired = [fid for fid, expires in rows if dt.datetime.fromisoformat(expires) <= now]
        for fid in expired:
            self.delete(fid)
        return expired

    # ------------------------------------------------------------------ single upload
    def _data_path(self, file_id: int) -> str:
        return os.path.join(self.root, "data", str(file_id))

    def _parts_dir(self, file_id: int) -> str:
        return os.path.join(self.root, "parts", str(file_id))

    def open_upload(self, file_id: int, size: int | None = None) -> Sink:
        """A sink for a (single-part) file's bytes; its commit replaces the content atomically (like a
        second PUT to the upload URL) and records the metadata. ``size``: the declared length, if known."""
        row = self._row(file_id)
        if row[7] is not None:
            raise FileStoreError(f"File {file_id} is a multipart upload: use write_part")
        final = self._data_path(int(file_id))
        return replacing_sink(final, size, lambda got: self._finish(int(file_id), final, got))

    def write_stream(self, file_id: int, stream: Iterable[bytes] | BinaryIO) -> dict[str, Any]:
        """Store the bytes of a (single-part) file, streaming; returns its metadata."""
        _write_all(self.open_upload(file_id), stream)
        return self.get(file_id)

    def adopt(self, name: str, path: str, expires_at: dt.datetime | str | None = DEFAULT_EXPIRY) -> int:
        """Register a file the emulator produced (an export) by moving ``path`` into the store
        (same filesystem: a rename, no copy); returns its id."""
        file_id = self._insert(name, expires_at, None, None)
        final = self._data_path(file_id)
        shutil.move(path, final)
        self._finish(file_id, final, os.path.getsize(final))
        return file_id

    def scratch_dir(self) -> str:
        """A directory on the store's filesystem for files about to be adopted."""
        path = os.path.join(self.root, "scratch")
        os.makedirs(path, exist_ok=True)
        return path

    def _finish(self, file_id: int, path: str, size: int) -> None:
        info = detect_csv(path)
        with self._lock:
            self._db.execute(
                "UPDATE files SET state = 'uploaded', file_size = ?, detected_info = ? WHERE id = ?",
                (size, json.dumps(info) if info else None, file_id),
            )

    # ------------------------------------------------------------------ multipart upload
    def create_multipart(self, name: str, num_parts: int,
                         expires_at: dt.datetime | str | None = DEFAULT_EXPIRY, *,
                         description: str | None = None) -> int:
        """Register a file uploaded in ``num_parts`` parts (numbered from 1); returns its id."""
        if not isinstance(num_parts, int) or num_parts < 1:
            raise FileStoreError("num_parts must be a positive integer")
        file_id = self._insert(name, expires_at, description, num_parts)
        os.makedirs(self._parts_dir(file_id), exist_ok=True)
        return file_id

    def _layout(self, file_id: int, row: sqlite3.Row) -> PartLayout:
        if row[7] is None:
            raise FileStoreError(f"File {file_id} is not a multipart upload")
        return PartLayout(self._parts_dir(int(file_id)), int(row[7]))

    def open_part(self, file_id: int, part_num: int, size: int | None = None) -> Sink:
        """A sink for part ``part_num`` (1-based); parts may arrive in any order, or again (the last copy
        wins). ``size``: the part's declared length; with it, the part is written in place (no copy later)."""
        row = self._row(file_id)
        layout = self._layout(file_id, row)
        if row[6] != "pending":
            raise FileStoreError(f"File {file_id} is already complete")
        if not isinstance(part_num, int) or not 1 <= part_num <= layout.num_parts:
            raise FileStoreError(f"Part number {part_num!r} is out of range 1..{layout.num_parts}")
        return layout.open(part_num, size)

    def write_part(self, file_id: int, part_num: int, stream: Iterable[bytes] | BinaryIO,
                   size: int | None = None) -> int:
        """Store part ``part_num`` streaming (see :meth:`open_part`); returns the part's size."""
        return _write_all(self.open_part(file_id, part_num, size), stream)

    def complete_multipart(self, file_id: int) -> dict[str, Any]:
        """Put the parts together in part order (a rename when they were written in place), then
        return the metadata; idempotent."""
        row = self._row(file_id)
        layout = self._layout(file_id, row)
        if row[6] == "uploaded":
            return self.get(file_id)
        final = self._data_path(int(file_id))
        try:
            size = layout.assemble(final)
        except FileStoreError as exc:
            raise FileStoreError(f"File {file_id}: {exc}") from None
        shutil.rmtree(layout.dir, ignore_errors=True)
        self._finish(int(file_id), final, size)
        return self.get(file_id)
