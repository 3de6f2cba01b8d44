"""Uploaded bytes onto disk, each byte written once: whole files through a temporary file, multipart
parts straight into place.

A multipart upload's parts go into one ``assembly`` file at offset ``(n - 1) * P``, where ``P`` is the
size the first non-last part declared (clients send every part but the last at one size, as S3 asks),
so completing the upload is a rename, not a copy of every byte. A part whose size is unknown up front
(no Content-Length), or differs from ``P``, goes to a file of its own and is copied in on completion.
A part counts only once its marker is written, after its last byte, so a broken PUT leaves nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence

from .socket_to_file import RECEIVERS

COPY_BLOCK = 8 * 1024 * 1024
_MAX_IOV = 512  # below IOV_MAX (1024 on Linux)


class FileStoreError(Exception):
    """A file operation failed (unknown id, upload incomplete, bad part number...)."""


class FileNotFound(FileStoreError):
    """No file with that id (never created, or deleted)."""


def _pwrite_all(fd: int, buffers: Sequence[bytes | bytearray | memoryview], offset: int) -> int:
    total = sum(len(b) for b in buffers)
    written = 0
    for start in range(0, len(buffers), _MAX_IOV):
        group = buffers[start:start + _MAX_IOV]
        done = os.pwritev(fd, group, offset + written) if hasattr(os, "pwritev") else 0
        rest = memoryview(b"".join(group))[done:]  # short writes are rare on regular files
        while rest:
            n = os.pwrite(fd, rest, offset + written + done)
            done += n
            rest = rest[n:]
        written += done
    assert written == total
    return written


class Sink:
    """Bytes written at ``offset`` of an open file, in order; ``commit`` checks the size and publishes them.

    ``write`` may be called from any one thread at a time (the event loop hands blocks to a worker).
    """

    def __init__(self, fd: int, offset: int, expected: int | None,
                 publish: Callable[[int], None], discard: Callable[[], None]) -> None:
        self._fd, self._offset, self.expected = fd, offset, expected
        self._publish, self._discard = publish, discard
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writev([data])

    def writev(self, buffers: Sequence[bytes | bytearray | memoryview]) -> None:
        length = sum(len(b) for b in buffers)
        if self.expected is not None and self.size + length > self.expected:
            raise FileStoreError(f"More bytes than the declared {self.expected}")
        self.size += _pwrite_all(self._fd, buffers, self._offset + self.size)

    def receive_from(self, sock_fd: int, length: int, timeout: float, mode: str = "direct") -> None:
        """Take ``length`` bytes from a (non-blocking) socket, ``mode`` ``cache`` or ``direct``
        (``socket_to_file.py``: no per-chunk Python either way). ConnectionError if the peer stops early,
        TimeoutError if it goes quiet for ``timeout`` seconds."""
        if self.expected is not None and self.size + length > self.expected:
            raise FileStoreError(f"More bytes than the declared {self.expected}")
        RECEIVERS[mode](sock_fd, self._fd, self._offset + self.size, length, timeout)
        self.size += length

    def commit(self) -> int:
        """Publish what was written; FileStoreError (and nothing published) if it is short of ``expected``."""
        try:
            if self.expected is not None and self.size != self.expected:
                raise FileStoreError(f"Got {self.size} of the declared {self.expected} bytes")
        except FileStoreError:
            self.abort()
            raise
        os.close(self._fd)
        self._fd = -1
        self._publish(self.size)
        return self.size

    def abort(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
            self._discard()


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _tmp_name(path: str) -> str:
    return f"{path}.{uuid.uuid4().hex[:12]}.tmp"


def replacing_sink(final: str, expected: int | None, on_done: Callable[[int], None]) -> Sink:
    """A sink into a temporary file that replaces ``final`` on commit, then calls ``on_done(size)``."""
    tmp = _tmp_name(final)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)

    def publish(size: int) -> None:
        os.replace(tmp, final)
        on_done(size)

    return Sink(fd, 0, expected, publish, lambda: _remove(tmp))


def _write_small(path: str, text: str) -> None:
    tmp = _tmp_name(path)
    with open(tmp, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def copy_range(src: str, offset: int, length: int, dst_fd: int, dst_offset: int) -> None:
    """``length`` bytes of ``src`` from ``offset`` into ``dst_fd`` at ``dst_offset`` (in the kernel where it can)."""
    with open(src, "rb") as fh:
        fd = fh.fileno()
        while length > 0:
            try:
                n = os.copy_file_range(fd, dst_fd, min(length, COPY_BLOCK), offset, dst_offset)
            except (AttributeError, OSError):
                n = os.pwrite(dst_fd, os.pread(fd, min(length, COPY_BLOCK), offset), dst_offset)
            if n <= 0:
                raise FileStoreError(f"{src} is shorter than expected")
            offset, dst_offset, length = offset + n, dst_offset + n, length - n


class PartLayout:
    """Where the parts of one multipart upload of ``num_parts`` parts live, under ``directory``."""

    def __init__(self, directory: str, num_parts: int) -> None:
        self.dir, self.num_parts = directory, num_parts
        self.assembly = os.path.join(directory, "assembly")

    def _marker(self, n: int) -> str:
        return os.path.join(self.dir, f"{n}.part")

    def _own_file(self, n: int) -> str:
        return os.path.join(self.dir, f"{n}.bin")

    def part_size(self) -> int | None:
        try:
            with open(os.path.join(self.dir, "partsize")) as fh:
                return int(fh.read())
        except (FileNotFoundError, ValueError):
            return None

    def _claim_part_size(self, size: int) -> int:
        """The upload's ``P``: the first non-last part to arrive sets it (atomically), later ones read it."""
        path = os.path.join(self.dir, "partsize")
        tmp = _tmp_name(path)
        with open(tmp, "w") as fh:
            fh.write(str(size))
        try:
            os.link(tmp, path)  # fails if another part set it first
        except FileExistsError:
            pass
        finally:
            _remove(tmp)
        found = self.part_size()
        if found is None:
            raise FileStoreError("the upload's part size is unreadable")
        return found

    def _offset(self, n: int, size: int | None) -> int | None:
        """The part's offset in the assembly file, or None when it must go to a file of its own."""
        if size is None:
            return None
        if self.num_parts == 1:
            return 0
        if n < self.num_parts:
            return (n - 1) * size if self._claim_part_size(size) == size else None
        p = self.part_size()
        return None if p is None else (n - 1) * p

    def open(self, n: int, size: int | None) -> Sink:
        """A sink for part ``n`` (``size``: its declared length, if known)."""
        os.makedirs(self.dir, exist_ok=True)
        offset = self._offset(n, size)
        if offset is None:
            return replacing_sink(self._own_file(n), size,
                                  lambda got: _write_small(self._marker(n), f"file 0 {got}"))
        fd = os.open(self.assembly, os.O_WRONLY | os.O_CREAT, 0o644)
        return Sink(fd, offset, size, lambda got: _write_small(self._marker(n), f"assembly {offset} {got}"),
                    lambda: None)

    def _read_marker(self, n: int) -> tuple[str, int, int] | None:
        try:
            with open(self._marker(n)) as fh:
                kind, offset, size = fh.read().split()
        except FileNotFoundError:
            return None
        return kind, int(offset), int(size)

    def assemble(self, final: str) -> int:
        """Move the parts, in order, into ``final``; FileStoreError naming missing parts. Returns the size."""
        markers = {n: self._read_marker(n) for n in range(1, self.num_parts + 1)}
        missing = [n for n, m in markers.items() if m is None]
        if missing:
            raise FileStoreError(f"parts not uploaded: {missing}")
        parts = [(n, *markers[n]) for n in markers]  # type: ignore[misc]
        p = self.part_size() if self.num_parts > 1 else 0
        last_n, last_kind, last_offset, last_size = parts[-1]
        start = (last_n - 1) * (p or 0)
        if p is not None and (last_kind == "file" or last_offset == start) and all(
                kind == "assembly" and offset == (n - 1) * p and size == p for n, kind, offset, size in parts[:-1]):
            fd = os.open(self.assembly, os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                if last_kind == "file":
                    copy_range(self._own_file(last_n), 0, last_size, fd, start)
                os.ftruncate(fd, start + last_size)
            finally:
                os.close(fd)
            os.replace(self.assembly, final)
            return start + last_size
        tmp = _tmp_name(final)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        total = 0
        try:
            for n, kind, offset, size in parts:
                copy_range(self.assembly if kind == "assembly" else self._own_file(n), offset, size, fd, total)
                total += size
            os.close(fd)
            fd = -1
            os.replace(tmp, final)
        finally:
            if fd >= 0:
                os.close(fd)
            _remove(tmp)
        return total
