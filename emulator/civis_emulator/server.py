"""Run the emulator on 127.0.0.1 in a background thread of this process (:class:`EmulatorServer`); in a
subprocess, see :mod:`civis_emulator.process`.

    with EmulatorServer(api_key="test-key") as server:
        requests.get(server.base_url + "/users/me", headers={"Authorization": "Bearer test-key"})
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from .app import create_app
from .process import HOST


def bind_socket(port: int = 0, host: str = HOST) -> socket.socket:
    """A listening socket: with port 0 the OS picks a free port, known at once (no polling)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def uvicorn_config(app, **kwargs) -> uvicorn.Config:
    return uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                          timeout_graceful_shutdown=5, **kwargs)


def build_app(api_key: str, data_dir: str | None = None, max_run_workers: int = 8, *, pessimistic: bool = False):
    """The emulator app; ``pessimistic``: a job's ``lastRunUpdatedAt`` is set only when a run is created."""
    app = create_app(api_key, data_dir, max_run_workers)
    app.state.emulator.registry.pessimistic = bool(pessimistic)
    return app


class EmulatorServer:
    def __init__(self, api_key: str = "test-key", data_dir: str | None = None, port: int = 0,
                 max_run_workers: int = 8, pessimistic: bool = False):
        self.api_key = api_key
        self.data_dir = data_dir
        self.requested_port = port
        self.pessimistic = pessimistic
        self.app = build_app(api_key, data_dir, max_run_workers, pessimistic=pessimistic)
        self.port: int | None = None
        self.base_url: str | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    def start(self, timeout: float = 30.0) -> EmulatorServer:
        if self._thread is not None:
            return self
        self._sock = bind_socket(self.requested_port)
        self.port = self._sock.getsockname()[1]
        self.base_url = f"http://{HOST}:{self.port}"
        self._server = uvicorn.Server(uvicorn_config(self.app))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name=f"civis-emulator-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:  # the socket already accepts; this surfaces startup errors
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the Civis emulator did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._sock is not None:
            self._sock.close()
        self.app.state.emulator.close()  # idempotent; also covers a server that never started
        self._thread = self._server = self._sock = None

    def client_env(self) -> dict[str, str]:
        """The environment civis-python (and civis-r) read to talk to this emulator instead of Civis."""
        if self.base_url is None:
            raise RuntimeError("the emulator is not started: call start() (or use it as a context manager)")
        return {"CIVIS_API_KEY": self.api_key, "CIVIS_API_ENDPOINT": self.base_url + "/"}

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
