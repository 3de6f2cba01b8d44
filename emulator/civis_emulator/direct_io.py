"""A request body from a socket into its place in a file, through a reused buffer and ``O_DIRECT`` writes.

Why not the page cache: storing a body there takes a fresh page of memory for every 4 KiB, and a fresh
page is the expensive kind in a VM that hands freed memory back to its host (free page reporting): the
first touch of each one costs a fault in the hypervisor, 1.3-10 s per GiB on the 2-core VM this was
measured on, swinging with the host's load. ``O_DIRECT`` writes go from a buffer that is reused from
part to part straight to the disk, so storing a body costs one copy out of the socket and the disk's
bandwidth, and no memory. Where ``O_DIRECT`` is refused (another OS, a filesystem without it) the same
loop writes through the page cache.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
import select
import threading
from collections.abc import Iterator
from contextlib import contextmanager

ALIGN = 4096  # O_DIRECT wants file offset, length and buffer address aligned to the logical block size
BUFFER_SIZE = 8 * 1024 * 1024
_KEPT = 16  # buffers kept for reuse (one per part in flight); more are made and dropped as needed
_O_DIRECT = getattr(os, "O_DIRECT", 0)

_free: list[mmap.mmap] = []
_free_lock = threading.Lock()


@contextmanager
def _buffer() -> Iterator[memoryview]:
    """A page-aligned buffer, reused across requests (its pages are touched once, not once per body)."""
    with _free_lock:
        buf = _free.pop() if _free else None
    if buf is None:
        buf = mmap.mmap(-1, BUFFER_SIZE)
    try:
        yield memoryview(buf)
    finally:
        with _free_lock:
            if len(_free) < _KEPT:
                _free.append(buf)


def _set_direct(fd: int, on: bool) -> bool:
    """Turn ``O_DIRECT`` on or off for ``fd``'s open file; False where the OS or filesystem refuses it."""
    if not _O_DIRECT:
        return False
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, (flags | _O_DIRECT) if on else (flags & ~_O_DIRECT))
    except OSError:
        return False
    return on


def _read_exactly(sock_fd: int, view: memoryview, poller: select.poll, timeout: float) -> None:
    """Fill ``view`` from a non-blocking socket; ConnectionError if the peer stops early, TimeoutError if
    it goes quiet for ``timeout`` seconds."""
    got = 0
    while got < len(view):
        try:
            n = os.readv(sock_fd, [view[got:]])
        except BlockingIOError:
            if not poller.poll(timeout * 1000):
                raise TimeoutError(f"no body bytes for {timeout}s") from None
            continue
        if n == 0:
            raise ConnectionError(f"the client closed the connection {len(view) - got} bytes short")
        got += n


def _pwrite(fd: int, view: memoryview, offset: int) -> None:
    while view:
        n = os.pwrite(fd, view, offset)
        view, offset = view[n:], offset + n


def receive_into_file(sock_fd: int, file_fd: int, offset: int, length: int, timeout: float) -> None:
    """Move ``length`` bytes from a non-blocking socket into ``file_fd`` at ``offset``.

    Aligned stretches are written with ``O_DIRECT``; an unaligned start (up to the next 4 KiB boundary)
    and end go through the page cache, so two parts never share a page written both ways.
    """
    poller = select.poll()
    poller.register(sock_fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    direct = _set_direct(file_fd, True)
    if direct and length:
        try:  # blocks allocated up front: parallel parts' direct writes then share the inode lock (ext4)
            os.posix_fallocate(file_fd, offset, length)
        except OSError:
            pass
    try:
        with _buffer() as buf:
            end = offset + length
            while offset < end:
                head = -offset % ALIGN
                take = min(head or len(buf), end - offset)
                chunk = buf[:take]
                _read_exactly(sock_fd, chunk, poller, timeout)
                aligned = take - take % ALIGN if direct and not head else 0
                if aligned:
                    try:
                        _pwrite(file_fd, chunk[:aligned], offset)
                    except OSError as exc:  # accepted by fcntl, refused at write: from here on, the page cache
                        if exc.errno != errno.EINVAL:
                            raise
                        direct = _set_direct(file_fd, False)
                        _pwrite(file_fd, chunk[:aligned], offset)
                if aligned < take:
                    if direct:
                        _set_direct(file_fd, False)
                    _pwrite(file_fd, chunk[aligned:], offset + aligned)
                    if direct:
                        direct = _set_direct(file_fd, True)
                offset += take
    finally:
        if direct:
            _set_direct(file_fd, False)
