"""``GET /endpoints`` (the API spec) and ``GET /_emulator/contract`` (the spec-contract report).

``civis.APIClient()`` downloads ``{CIVIS_API_ENDPOINT}endpoints`` with its Bearer key and builds its
resources from it (``civis.resources._resources.get_api_spec``); on 401/403 it raises, so the key
is checked here as the real API does. Both routes are mounted by
:func:`civis_emulator.contract.install_contract`; nothing else needs to include this router.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from civis_emulator.spec_index import spec_bytes

router = APIRouter()


def _unauthorized() -> Response:
    return JSONResponse(
        {"error": "invalid_token", "errorDescription": "The access token is invalid.", "code": 401},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'},
    )


def _authorized(request: Request) -> bool:
    from civis_emulator.contract import _api_key_of, credentials_ok

    return credentials_ok(_api_key_of(request.app), request.headers.get("authorization", ""))


@router.get("/endpoints", include_in_schema=False)
def get_endpoints(request: Request) -> Response:
    """The official Civis API spec (Swagger 2.0), byte for byte as the civis package ships it."""
    if not _authorized(request):
        return _unauthorized()
    return Response(spec_bytes(), media_type="application/json; charset=utf-8")


@router.get("/_emulator/contract", include_in_schema=False)
def get_contract_report(request: Request) -> Response:
    """Responses checked, distinct operations and violations since start (or the last reset)."""
    if not _authorized(request):
        return _unauthorized()
    report = getattr(request.app.state, "contract_report", None)
    if report is None:
        return JSONResponse({"error": "not_found", "errorDescription": "no contract installed", "code": 404}, 404)
    return JSONResponse(report.as_dict())

