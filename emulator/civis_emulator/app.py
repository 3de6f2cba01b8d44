"""The Civis API emulator as a FastAPI app: ``create_app(api_key, data_dir=None)``.

Routes live in ``routers/`` (one module per API resource). Paths the real API has but the emulator
does not implement answer 501 naming the endpoint; paths the API does not have answer 404. Every route
needs ``Authorization: Bearer <api_key>``. The app's state is ``app.state.emulator``
(:class:`~civis_emulator.state.EmulatorState`); call ``app.state.emulator.close()`` (or run the
app's lifespan) to stop runs and close the store.
"""

from __future__ import annotations

import contextlib

from fastapi import FastAPI

from . import runners  # noqa: F401 - registers the built-in script runners
from .errors import install_error_handlers
from .middleware import EmulatorMiddleware
from .request_log import RequestLog, RequestLogMiddleware
from .routers.mounted import ALL_ROUTERS
from .state import EmulatorState


def create_app(api_key: str, data_dir: str | None = None, max_run_workers: int = 8) -> FastAPI:
    """``max_run_workers``: runs that execute at once; more wait queued (load tests raise it)."""
    if not api_key:
        raise ValueError("the emulator needs an API key")
    state = EmulatorState(api_key, data_dir, max_workers=max_run_workers)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        try:
            yield
        finally:
            state.close()

    app = FastAPI(
        title="Civis API emulator", lifespan=lifespan, docs_url=None, redoc_url=None,
        openapi_url=None, redirect_slashes=False,
    )
    app.state.emulator = state
    app.state.api_key = api_key
    install_error_handlers(app)
    for router in ALL_ROUTERS:
        app.include_router(router)

    from .contract import install_contract

    install_contract(app)
    from . import faults  # /_emulator/faults: inside auth (401 first), outside the contract check

    app.include_router(faults.router)
    app.add_middleware(faults.FaultMiddleware, state=state)
    app.add_middleware(EmulatorMiddleware, state=state)
    app.state.request_log = RequestLog()  # GET /_emulator/requests: what each client asked, in order
    app.add_middleware(RequestLogMiddleware, log=app.state.request_log)
    return app
