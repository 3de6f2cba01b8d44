"""A body from a socket into its place in a file: every byte lands where it belongs, aligned stretches go
around the page cache (``O_DIRECT``), and a peer that stops early or goes quiet is an error."""

from __future__ import annotations

import fcntl
import os
import socket
import threading

import pytest

from civis_emulator import direct_io
from civis_emulator.direct_io import ALIGN, BUFFER_SIZE, receive_into_file


def _send_in_background(sock: socket.socket, data: bytes, close: bool = True) -> threading.Thread:
    def send() -> None:
        view = memoryview(data)
        for start in range(0, len(view), 100_003):  # pieces that never line up with 4 KiB
            sock.sendall(view[start:start + 100_003])
        if close:
            sock.shutdown(socket.SHUT_WR)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def pair():
    server, client = socket.socketpair()
    server.setblocking(False)  # as uvicorn's transport leaves it
    yield server, client
    server.close()
    client.close()


def _receive(server: socket.socket, path: str, offset: int, data: bytes, timeout: float = 10.0) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        receive_into_file(server.fileno(), fd, offset, len(data), timeout)
    finally:
        os.close(fd)


def test_a_body_at_an_unaligned_offset_lands_whole_and_nothing_else_moves(pair, tmp_path):
    server, client = pair
    path = str(tmp_path / "assembly")
    with open(path, "wb") as fh:
        fh.write(b"k" * 5000)  # bytes before the part, partly inside the page it starts in
    data = os.urandom(BUFFER_SIZE + 3 * ALIGN + 123)
    sender = _send_in_background(client, data)
    _receive(server, path, 1000, data)
    sender.join(10)
    with open(path, "rb") as fh:
        stored = fh.read()
    assert stored[:1000] == b"k" * 1000
    assert stored[1000:] == data


def test_aligned_stretches_go_around_the_page_cache_and_only_the_edges_through_it(pair, tmp_path, monkeypatch):
    server, client = pair
    path = str(tmp_path / "assembly")
    probe = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    supported = direct_io._set_direct(probe, True)
    os.close(probe)
    if not supported:
        pytest.skip("this filesystem refuses O_DIRECT")
    writes: list[tuple[int, int, bool]] = []
    real_pwrite = os.pwrite

    def spy(fd: int, data, offset: int) -> int:
        writes.append((offset, len(data), bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT)))
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(direct_io.os, "pwrite", spy)
    data = os.urandom(2 * BUFFER_SIZE + 777)
    sender = _send_in_background(client, data)
    _receive(server, path, 300, data)
    sender.join(10)
    direct = [(offset, size) for offset, size, is_direct in writes if is_direct]
    cached = [(offset, size) for offset, size, is_direct in writes if not is_direct]
    assert all(offset % ALIGN == 0 and size % ALIGN == 0 for offset, size in direct)
    assert sum(size for _, size in cached) < 2 * ALIGN  # the unaligned head and tail only
    assert sum(size for _, size in direct) + sum(size for _, size in cached) == len(data)
    with open(path, "rb") as fh:
        assert fh.read()[300:] == data


def test_where_o_direct_is_unavailable_the_bytes_still_land(pair, tmp_path, monkeypatch):
    server, client = pair
    monkeypatch.setattr(direct_io, "_O_DIRECT", 0)
    data = os.urandom(ALIGN * 3 + 5)
    sender = _send_in_background(client, data)
    _receive(server, str(tmp_path / "f"), 0, data)
    sender.join(10)
    assert (tmp_path / "f").read_bytes() == data


def test_a_peer_that_stops_early_is_a_connection_error(pair, tmp_path):
    server, client = pair
    sender = _send_in_background(client, os.urandom(10_000))
    with pytest.raises(ConnectionError, match="bytes short"):
        _receive(server, str(tmp_path / "f"), 0, b"\0" * 20_000)
    sender.join(10)


def test_a_peer_that_goes_quiet_is_a_timeout(pair, tmp_path):
    server, client = pair
    client.sendall(b"x" * 10)  # and then nothing, with the connection left open
    with pytest.raises(TimeoutError, match="no body bytes"):
        _receive(server, str(tmp_path / "f"), 0, b"\0" * 20, timeout=0.2)


def test_direct_writes_refused_at_write_time_fall_back_to_the_page_cache(pair, tmp_path, monkeypatch):
    server, client = pair
    real_pwrite = os.pwrite

    def refuse_direct(fd: int, data, offset: int) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & getattr(os, "O_DIRECT", 0):
            raise OSError(22, "Invalid argument")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(direct_io.os, "pwrite", refuse_direct)
    data = os.urandom(BUFFER_SIZE + ALIGN + 9)
    sender = _send_in_background(client, data)
    _receive(server, str(tmp_path / "f"), 0, data)
    sender.join(10)
    assert (tmp_path / "f").read_bytes() == data
