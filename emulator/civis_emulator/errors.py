"""Civis API error bodies: ``{"error": ..., "errorDescription": ..., "code": N}``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import spec


class ApiError(Exception):
    def __init__(self, status: int, error: str, description: str, headers: dict | None = None):
        super().__init__(description)
        self.status, self.error, self.description, self.headers = status, error, description, headers


def error_response(status: int, error: str, description: str, headers: dict | None = None) -> JSONResponse:
    body = {"error": error, "errorDescription": description, "code": status}
    return JSONResponse(body, status_code=status, headers=headers)


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "not_found", f"The requested {what} could not be found.")


def bad_request(description: str) -> ApiError:
    return ApiError(400, "bad_request", f"The given request was not as expected: {description}")


def not_implemented(method: str, template: str) -> ApiError:
    return ApiError(
        501, "not_implemented", f"{method.upper()} {template} is not implemented by the Civis emulator"
    )


def unmatched_route(method: str, path: str) -> JSONResponse:
    """What to answer when no emulator route matched: 501 for a real API endpoint, else 404."""
    template, supported = spec.match(method, path)
    if template is not None and supported:
        err = not_implemented(method, template)
        return error_response(err.status, err.error, err.description)
    return error_response(404, "not_found", "The requested endpoint could not be found.")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return error_response(exc.status, exc.error, exc.description, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code in (404, 405):
            return unmatched_route(request.method, request.url.path)
        return error_response(exc.status_code, "error", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        parts = []
        for e in exc.errors():
            loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
            parts.append(f"{loc}: {e.get('msg')}")
        return error_response(400, "bad_request", "The given request was not as expected: " + "; ".join(parts))
