"""Files for the emulator's ``/files`` endpoints: bytes on disk, metadata in SQLite, no HTTP.

Layout under ``root_dir``::

    files.sqlite3          metadata (ids, names, sizes, expiry, detected CSV properties)
    data/<id>              the uploaded bytes
    parts/<id>/<n>         multipart upload parts until ``complete_multipart``

Uploads stream to a temporary file and are renamed into place, so a reader never sees half a
file and memory stays constant whatever the size. CSV properties (header, delimiter, gzip) are
detected from the first few KB only.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import os
import shutil
import sqlite3
import threading
import zlib
from collections.abc import Iterable
from typing import Any, BinaryIO

CHUNK_SIZE = 1024 * 1024
SNIFF_BYTES = 64 * 1024
DEFAULT_LIFETIME = dt.timedelta(days=30)
_DELIMITER_NAMES = {",": "comma", "\t": "tab", "|": "pipe"}


class FileStoreError(Exception):
    """A file operation failed (unknown id, upload incomplete, bad part number...)."""


class FileNotFound(FileStoreError):
    """No file with that id (never created, or deleted)."""


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


def _write_atomically(final: str, stream: Any) -> int:
    """Stream into ``final`` through a temporary file, so a failed write leaves no partial file; bytes written."""
    tmp = f"{final}.{threading.get_ident()}.tmp"
    size = 0
    try:
        with open(tmp, "wb") as out:
            for chunk in _chunks(stream):
                out.write(chunk)
                size += len(chunk)
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return size


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
        for chunk in stream:  # type: ignore[union-attr]
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
            return int(cur.lastrowid)

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

    def purge_expired(self, now: dt.datetime | None = None) -> list[int]:
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

    def write_stream(self, file_id: int, stream: Iterable[bytes] | BinaryIO) -> dict[str, Any]:
        """Store the bytes of a (single-part) file, streaming; returns its metadata.
        Writing again replaces the content (like a second PUT to the upload URL)."""
        row = self._row(file_id)
        if row[7] is not None:
            raise FileStoreError(f"File {file_id} is a multipart upload: use write_part")
        final = self._data_path(int(file_id))
        size = _write_atomically(final, stream)
        self._finish(int(file_id), final, size)
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

    def write_part(self, file_id: int, part_num: int, stream: Iterable[bytes] | BinaryIO) -> int:
        """Store part ``part_num`` (1-based) streaming; parts may arrive in any order or again.
        Returns the part's size."""
        row = self._row(file_id)
        num_parts, state = row[7], row[6]
        if num_parts is None:
            raise FileStoreError(f"File {file_id} is not a multipart upload")
        if state != "pending":
            raise FileStoreError(f"File {file_id} is already complete")
        if not isinstance(part_num, int) or not 1 <= part_num <= num_parts:
            raise FileStoreError(f"Part number {part_num!r} is out of range 1..{num_parts}")
        directory = self._parts_dir(int(file_id))
        os.makedirs(directory, exist_ok=True)
        return _write_atomically(os.path.join(directory, str(part_num)), stream)

    def complete_multipart(self, file_id: int) -> dict[str, Any]:
        """Concatenate the parts in part order (streaming), delete them, return the metadata."""
        row = self._row(file_id)
        num_parts, state = row[7], row[6]
        if num_parts is None:
            raise FileStoreError(f"File {file_id} is not a multipart upload")
        if state == "uploaded":
            return self.get(file_id)
        directory = self._parts_dir(int(file_id))
        parts = [os.path.join(directory, str(n)) for n in range(1, num_parts + 1)]
        missing = [n for n, p in enumerate(parts, start=1) if not os.path.isfile(p)]
        if missing:
            raise FileStoreError(f"File {file_id}: parts not uploaded: {missing}")
        final = self._data_path(int(file_id))
        tmp = final + ".assemble.tmp"
        size = 0
        try:
            with open(tmp, "wb") as out:
                for part in parts:
                    with open(part, "rb") as src:
                        shutil.copyfileobj(src, out, CHUNK_SIZE)
                size = out.tell()
            os.replace(tmp, final)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        shutil.rmtree(directory, ignore_errors=True)
        self._finish(int(file_id), final, size)
        return self.get(file_id)


# ---------------------------------------------------------------------- CSV detection
def _infer_type(values: list[str]) -> str:
    present = [v.strip() for v in values if v.strip() != ""]
    if not present:
        return "VARCHAR(256)"

    def all_match(test: Any) -> bool:
        for v in present:
            try:
                if not test(v):
                    return False
            except ValueError:
                return False
        return True

    if all(v.lower() in {"true", "false", "t", "f"} for v in present):
        return "BOOLEAN"
    if all_match(lambda v: v.lstrip("+-").isdigit() and -2**31 <= int(v) < 2**31):
        return "INTEGER"
    if all_match(lambda v: v.lstrip("+-").isdigit() and -2**63 <= int(v) < 2**63):
        return "BIGINT"
    if all_match(lambda v: float(v) is not None):
        return "DOUBLE PRECISION"
    if all_match(lambda v: len(v) == 10 and dt.date.fromisoformat(v) is not None):
        return "DATE"
    if all_match(lambda v: len(v) > 10 and v[10] in " T" and dt.datetime.fromisoformat(v) is not None):
        return "TIMESTAMP"
    return f"VARCHAR({max(len(v.encode()) for v in present)})"


def detect_csv(path: str) -> dict[str, Any] | None:
    """``{includeHeader, columnDelimiter, compression, tableColumns}`` guessed from the first
    :data:`SNIFF_BYTES` of a (possibly gzipped) file, or ``None`` when it does not look like CSV."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError:
        return None
    compression = "none"
    if head[:2] == b"\x1f\x8b":
        compression = "gzip"
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, SNIFF_BYTES)
        except zlib.error:
            return None
    if not head or b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a multi-byte character cut at the end
            return None
        text = head[: exc.start].decode("utf-8")
    if len(head) >= SNIFF_BYTES or compression == "gzip":
        cut = text.rfind("\n")  # drop a partial last line
        text = text[: cut + 1] if cut > 0 else text
    lines = text.splitlines()
    if not lines:
        return None
    delimiter = _guess_delimiter(lines)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    rows = [r for r in rows if r]
    if not rows:
        return None
    width = len(rows[0])
    body = [r for r in rows[1:] if len(r) == width]
    include_header = _guess_header(rows[0], body)
    data = body if include_header else [rows[0]] + body
    names = ([n.strip() or f"column{i}" for i, n in enumerate(rows[0])] if include_header
             else [f"column{i}" for i in range(width)])
    columns = [{"name": name, "sqlType": _infer_type([r[i] for r in data])} for i, name in enumerate(names)]
    return {"includeHeader": include_header, "columnDelimiter": _DELIMITER_NAMES[delimiter],
            "compression": compression, "tableColumns": columns}


def _guess_delimiter(lines: list[str]) -> str:
    """The candidate whose count per line is the most consistent and non-zero."""
    sample = lines[:50]
    best, best_score = ",", (-1, -1)
    for candidate in (",", "\t", "|"):
        counts = [len(next(csv.reader([line], delimiter=candidate), [])) - 1 for line in sample]
        if not counts or max(counts) == 0:
            continue
        agreeing = sum(1 for c in counts if c == counts[0])
        score = (agreeing, counts[0])
        if score > best_score:
            best, best_score = candidate, score
    return best


def _looks_numeric(value: str) -> bool:
    try:
        float(value)
        return True
    except ValueError:
        return False


def _guess_header(first: list[str], body: list[list[str]]) -> bool:
    """A header has no numbers or empty names, and differs in kind from the rows below it."""
    if any(_looks_numeric(v) or not v.strip() for v in first):
        return False
    if len(set(first)) != len(first):
        return False
    if not body:
        return True
    for i, name in enumerate(first):
        column = [r[i] for r in body if r[i].strip()]
        if column and all(_looks_numeric(v) for v in column):
            return True
        if name in column:
            return False
    # every column is text: a header only if its values never repeat in the data
    return not any(name in {r[i] for r in body} for i, name in enumerate(first))


def open_maybe_gzip(path: str) -> BinaryIO:
    """Open a stored file for reading, transparently gunzipping it (for previews)."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")  # noqa: SIM115
