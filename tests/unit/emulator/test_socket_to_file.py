"""A body from a socket into its place in a file: every byte lands where it belongs either way (spliced into
the page cache, or aligned stretches written around it with ``O_DIRECT``), a peer that stops early or goes
quiet is an error, and each part goes the way that has been faster lately."""

from __future__ import annotations

import fcntl
import os
import socket
import threading

import pytest

from civis_emulator import socket_to_file
from civis_emulator.socket_to_file import ALIGN, BUFFER_SIZE, ModeChooser, receive_direct, receive_spliced


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


def _receive(server: socket.socket, path: str, offset: int, data: bytes, timeout: float = 10.0,
             receive=receive_direct) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        receive(server.fileno(), fd, offset, len(data), timeout)
    finally:
        os.close(fd)


@pytest.mark.parametrize("receive", [receive_direct, receive_spliced], ids=["direct", "cache"])
def test_a_body_at_an_unaligned_offset_lands_whole_and_nothing_else_moves(pair, tmp_path, receive):
    server, client = pair
    path = str(tmp_path / "assembly")
    with open(path, "wb") as fh:
        fh.write(b"k" * 5000)  # bytes before the part, partly inside the page it starts in
    data = os.urandom(BUFFER_SIZE + 3 * ALIGN + 123)
    sender = _send_in_background(client, data)
    _receive(server, path, 1000, data, receive=receive)
    sender.join(10)
    with open(path, "rb") as fh:
        stored = fh.read()
    assert stored[:1000] == b"k" * 1000
    assert stored[1000:] == data


def test_aligned_stretches_go_around_the_page_cache_and_only_the_edges_through_it(pair, tmp_path, monkeypatch):
    server, client = pair
    path = str(tmp_path / "assembly")
    probe = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    supported = socket_to_file._set_direct(probe, True)
    os.close(probe)
    if not supported:
        pytest.skip("this filesystem refuses O_DIRECT")
    writes: list[tuple[int, int, bool]] = []
    real_pwrite = os.pwrite

    def spy(fd: int, data, offset: int) -> int:
        writes.append((offset, len(data), bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT)))
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(socket_to_file.os, "pwrite", spy)
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
    monkeypatch.setattr(socket_to_file, "_O_DIRECT", 0)
    data = os.urandom(ALIGN * 3 + 5)
    sender = _send_in_background(client, data)
    _receive(server, str(tmp_path / "f"), 0, data)
    sender.join(10)
    assert (tmp_path / "f").read_bytes() == data


@pytest.mark.parametrize("receive", [receive_direct, receive_spliced], ids=["direct", "cache"])
def test_a_peer_that_stops_early_is_a_connection_error(pair, tmp_path, receive):
    server, client = pair
    sender = _send_in_background(client, os.urandom(10_000))
    with pytest.raises(ConnectionError, match="bytes short"):
        _receive(server, str(tmp_path / "f"), 0, b"\0" * 20_000, receive=receive)
    sender.join(10)


@pytest.mark.parametrize("receive", [receive_direct, receive_spliced], ids=["direct", "cache"])
def test_a_peer_that_goes_quiet_is_a_timeout(pair, tmp_path, receive):
    server, client = pair
    client.sendall(b"x" * 10)  # and then nothing, with the connection left open
    with pytest.raises(TimeoutError, match="no body bytes"):
        _receive(server, str(tmp_path / "f"), 0, b"\0" * 20, timeout=0.2, receive=receive)


def test_direct_writes_refused_at_write_time_fall_back_to_the_page_cache(pair, tmp_path, monkeypatch):
    server, client = pair
    real_pwrite = os.pwrite

    def refuse_direct(fd: int, data, offset: int) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & getattr(os, "O_DIRECT", 0):
            raise OSError(22, "Invalid argument")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(socket_to_file.os, "pwrite", refuse_direct)
    data = os.urandom(BUFFER_SIZE + ALIGN + 9)
    sender = _send_in_background(client, data)
    _receive(server, str(tmp_path / "f"), 0, data)
    sender.join(10)
    assert (tmp_path / "f").read_bytes() == data


def test_each_way_is_measured_first_then_the_faster_one_wins_with_the_other_tried_every_few_parts():
    chooser = ModeChooser(explore_every=4)
    if chooser.modes != ("cache", "direct"):
        pytest.skip("no os.splice here: every part goes direct")
    first = chooser.pick()
    chooser.record(first, 100, 1.0)
    second = chooser.pick()
    assert {first, second} == {"cache", "direct"}
    chooser.record(second, 100, 1.0)
    chooser.record("direct", 10_000, 1.0)  # direct is now much faster
    picks = [chooser.pick() for _ in range(8)]  # parts 3..10: 4 and 8 try the slower way
    assert picks.count("cache") == 2 and picks.count("direct") == 6
    for _ in range(20):  # the page cache becomes the faster way: the average follows
        chooser.record("cache", 50_000, 1.0)
    assert [chooser.pick() for _ in range(3)].count("cache") >= 2
