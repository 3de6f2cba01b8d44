"""One scripted HTTP boundary for unit tests of the sync hook (given as ``CivisHook(transport=...)``)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import BaseAdapter

#: What a test answers: ``(status, body)``, ``(status, body, headers)``, or an exception to raise.
Reply = Any


def response_for(request: requests.PreparedRequest, reply: Reply, *, stream: bool = False) -> requests.Response:
    """The ``requests.Response`` a reply stands for (a JSON body, raw bytes, or none for ``None``)."""
    if isinstance(reply, BaseException):
        raise reply
    status, body, headers = reply if len(reply) == 3 else (*reply, {})
    content = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    response = requests.Response()
    response.status_code = status
    response.raw = io.BytesIO(content)  # streamed downloads read it; the others get ._content
    if not stream:
        response._content = content
    response.headers.update(headers)
    response.url, response.request = request.url, request
    return response


class Transport(BaseAdapter):
    """Answers every request with ``answer(request)``; records each one with the keywords it was sent with."""

    def __init__(self, answer: Callable[[requests.PreparedRequest], Reply]) -> None:
        super().__init__()
        self.answer = answer
        self.calls: list[tuple[requests.PreparedRequest, dict[str, Any]]] = []

    def send(self, request, **kwargs):
        self.calls.append((request, kwargs))
        return response_for(request, self.answer(request), stream=bool(kwargs.get("stream")))

    def close(self):
        pass

    @property
    def requests(self) -> list[requests.PreparedRequest]:
        return [request for request, _ in self.calls]

    @property
    def sent(self) -> list[tuple[str, str]]:
        """``(method, path?query)`` of every request, in order."""
        return [(request.method, request.path_url) for request, _ in self.calls]


def scripted(replies: list[Reply]) -> Transport:
    """A transport that answers each request with the next of ``replies``."""
    queue = list(replies)
    return Transport(lambda request: queue.pop(0))
