"""The presigned part upload over a real socket: large bodies go from the socket to the file in the kernel
(the response then closes the connection), small ones through ASGI; a body cut short publishes nothing."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import requests

from tests.conftest import API_KEY

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def _multipart(base_url: str, parts: int) -> dict:
    response = requests.post(f"{base_url}/files/multipart", json={"name": "p.bin", "numParts": parts},
                             headers=AUTH, timeout=30)
    response.raise_for_status()
    return response.json()


def _raw_put(url: str, body_pieces: list[bytes], declared: int, close_early: bool = False) -> bytes:
    """PUT by hand, a piece per send; returns what the server answered (b"" if it closed without one)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                     f"Content-Length: {declared}\r\n\r\n".encode())
        for piece in body_pieces:
            sock.sendall(piece)
        if close_early:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def test_large_parts_arrive_whole_in_any_order_and_small_ones_keep_the_connection(emulator):
    created = _multipart(emulator.base_url, 3)
    big = [os.urandom(3 * 1024 * 1024 + 11) for _ in range(2)]
    tail = b"the last part, small"
    answer = _raw_put(created["uploadUrls"][1], [big[1][:1000], big[1][1000:2_000_000], big[1][2_000_000:]],
                      len(big[1]))
    assert answer.startswith(b"HTTP/1.1 200") and b"connection: close" in answer.lower()
    with requests.Session() as session:  # one connection for the small part and the request after it
        small = session.put(created["uploadUrls"][2], data=tail, timeout=30)
        assert small.status_code == 200 and small.headers.get("connection", "").lower() != "close"
        assert session.put(created["uploadUrls"][0], data=big[0], timeout=30).status_code == 200
    requests.post(f"{emulator.base_url}/files/multipart/{created['id']}/complete", headers=AUTH,
                  timeout=30).raise_for_status()
    url = requests.get(f"{emulator.base_url}/files/{created['id']}", headers=AUTH, timeout=30).json()["fileUrl"]
    assert requests.get(url, timeout=30).content == big[0] + big[1] + tail


def test_a_part_cut_short_is_not_published(emulator):
    created = _multipart(emulator.base_url, 1)
    declared = 4 * 1024 * 1024
    answer = _raw_put(created["uploadUrls"][0], [os.urandom(declared // 2)], declared, close_early=True)
    assert not answer.startswith(b"HTTP/1.1 200")
    complete = requests.post(f"{emulator.base_url}/files/multipart/{created['id']}/complete", headers=AUTH,
                             timeout=30)
    assert complete.status_code == 400 and "parts not uploaded: [1]" in complete.json()["errorDescription"]
