"""API-key auth and request counting, as one pure ASGI middleware (outermost, so 401s are counted).

Accepted credentials, as on the real API: ``Authorization: Bearer <key>``, and HTTP Basic with the key
as the user name and an empty password (what ``civis.APIClient`` sends: ``session.auth = (key, "")``).
Not checked here: presigned data-plane URLs (their own signature) and the read-only HTML run pages
under ``/_emulator/ui/`` (loopback only, never showing the key: ``routers/pages.py``).
"""

from __future__ import annotations

import base64
import hmac
import json

from . import spec
from .presign import PRESIGNED_PREFIX
from .routers.pages import UI_PREFIX
from .state import EmulatorState

_UNAUTHORIZED = json.dumps({
    "error": "unauthorized",
    "errorDescription": "The request requires a valid API key: send 'Authorization: Bearer <key>'.",
    "code": 401,
}).encode()


class EmulatorMiddleware:
    def __init__(self, app, state: EmulatorState):
        self.app = app
        self.state = state
        self._accepted = (
            f"Bearer {state.api_key}".encode(),
            b"Basic " + base64.b64encode(f"{state.api_key}:".encode()),
        )

    def _authorized(self, scope) -> bool:
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                value = value.strip()
                return any(hmac.compare_digest(value, ok) for ok in self._accepted)
        return False

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        counted = not path.startswith("/_emulator/")
        status_holder = [500]

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
            await send(message)

        try:
            # presigned data-plane URLs carry their own signature (checked by their routes), as S3's do;
            # the read-only HTML run pages answer loopback only and never show the key (routers/pages.py)
            public = path.startswith(PRESIGNED_PREFIX) or path.startswith(UI_PREFIX + "/")
            if not public and not self._authorized(scope):
                status_holder[0] = 401
                await send({"type": "http.response.start", "status": 401, "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"www-authenticate", b'Bearer realm="Civis API", error="invalid_token"'),
                    (b"content-length", str(len(_UNAUTHORIZED)).encode()),
                ]})
                await send({"type": "http.response.body", "body": _UNAUTHORIZED})
                return
            await self.app(scope, receive, send_wrapper)
        finally:
            if counted:
                template, supported = spec.match(method, path)
                route = template if template and supported else path
                self.state.stats.record_request(method, route, status_holder[0])
