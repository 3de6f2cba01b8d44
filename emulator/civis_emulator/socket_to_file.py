"""A request body from a socket into its place in a file, in one of two ways, whichever is faster lately.

* ``cache``: ``os.splice`` through a pipe into the page cache (no copy through Python). Fast while fresh
  pages are cheap, but in a VM that hands freed memory back to its host (free page reporting) the first
  touch of each fresh page is a fault in the hypervisor: on the 2-core VM this was measured on, page-cache
  writes ran at 0.1-2 GB/s, swinging with the host's load.
* ``direct``: read into a buffer reused from part to part, written with ``O_DIRECT``: no fresh memory,
  one copy out of the socket, as fast as the disk takes it (0.5-1.3 GB/s there, within 2x).

:class:`ModeChooser` sends each part the way that has been faster lately, and every few parts the other
way to keep both measured. Where ``O_DIRECT`` is refused (another OS, a filesystem without it) the direct
loop writes through the page cache, and where ``os.splice`` is missing every part goes the direct way.
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

PIPE_SIZE = 1024 * 1024
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


def receive_direct(sock_fd: int, file_fd: int, offset: int, length: int, timeout: float) -> None:
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


def receive_spliced(sock_fd: int, file_fd: int, offset: int, length: int, timeout: float) -> None:
    """Move ``length`` bytes from a non-blocking socket into ``file_fd`` at ``offset`` inside the kernel
    (``os.splice`` through a pipe, into the page cache); same errors as :func:`receive_direct`."""
    r, w = os.pipe()
    try:
        try:
            fcntl.fcntl(w, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_SIZE)
        except OSError:
            pass  # the default pipe size (64 KiB) only means more calls
        poller = select.poll()
        poller.register(sock_fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        left = length
        while left:
            try:
                moved = os.splice(sock_fd, w, min(left, PIPE_SIZE), flags=os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK)
            except BlockingIOError:
                if not poller.poll(timeout * 1000):
                    raise TimeoutError(f"no body bytes for {timeout}s") from None
                continue
            if moved == 0:
                raise ConnectionError(f"the client closed the connection {left} bytes short")
            while moved:
                n = os.splice(r, file_fd, moved, offset_dst=offset)
                offset, moved, left = offset + n, moved - n, left - n
    finally:
        os.close(r)
        os.close(w)


class ModeChooser:
    """Which way the next part goes: the one with the higher recent throughput (bytes per second of the
    part's transfer, a moving average), and every ``explore_every``-th part the other one. Used from the
    event loop only (one thread)."""

    def __init__(self, explore_every: int = 4, weight: float = 0.3) -> None:
        self.modes = ("cache", "direct") if hasattr(os, "splice") else ("direct",)
        self.explore_every, self.weight = explore_every, weight
        self.rate: dict[str, float] = {}
        self._count = 0

    def pick(self) -> str:
        self._count += 1
        unmeasured = [m for m in self.modes if m not in self.rate]
        if unmeasured:
            return unmeasured[0]
        ranked = sorted(self.modes, key=lambda m: self.rate[m], reverse=True)
        return ranked[-1] if self._count % self.explore_every == 0 else ranked[0]

    def record(self, mode: str, nbytes: int, seconds: float) -> None:
        rate = nbytes / max(seconds, 1e-6)
        old = self.rate.get(mode)
        self.rate[mode] = rate if old is None else old + self.weight * (rate - old)


RECEIVERS = {"cache": receive_spliced, "direct": receive_direct}
