"""``civis-emulator --port N --api-key KEY [--data-dir DIR] [--pessimistic]``: serve the Civis API emulator.

Serves on 127.0.0.1. ``--pessimistic`` sets a job's ``lastRunUpdatedAt`` only when a run is created, never
on its state changes (the spec does not say which the API does; test your polling against both).

Prints one line ``civis-emulator ready at http://127.0.0.1:PORT`` once it accepts requests, then serves
until SIGTERM/SIGINT. The key may come from ``CIVIS_API_KEY`` instead of ``--api-key``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading

import uvicorn

from .process import HOST, READY_PREFIX
from .server import bind_socket, build_app, uvicorn_config


class _Server(uvicorn.Server):
    def __init__(self, config, base_url: str):
        super().__init__(config)
        self._base_url = base_url

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            print(f"{READY_PREFIX}{self._base_url}", flush=True)

    @contextlib.contextmanager
    def capture_signals(self):
        """Shut down gracefully on SIGTERM/SIGINT and exit 0 (uvicorn would re-raise the signal)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="civis-emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--api-key", default=None, help="API key clients must send (default: $CIVIS_API_KEY)")
    parser.add_argument("--data-dir", default=None, help="keep state here across restarts (default: memory)")
    parser.add_argument("--max-run-workers", type=int, default=8, help="runs executing at once (default: 8)")
    parser.add_argument("--pessimistic", action="store_true",
                        help="set a job's lastRunUpdatedAt only when a run is created, not on state changes")
    args = parser.parse_args(argv)
    api_key = args.api_key or os.environ.get("CIVIS_API_KEY")
    if not api_key:
        parser.error("an API key is required: --api-key or CIVIS_API_KEY")
    try:
        sock = bind_socket(args.port)
    except OSError as exc:  # most often the port is taken, e.g. by an emulator left running
        parser.error(f"cannot listen on 127.0.0.1:{args.port} ({exc.strerror}): stop what holds it, "
                     "or pick another --port (0 picks a free one)")
    app = build_app(api_key, args.data_dir, args.max_run_workers, pessimistic=args.pessimistic)
    base_url = f"http://{HOST}:{sock.getsockname()[1]}"
    server = _Server(uvicorn_config(app), base_url)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        app.state.emulator.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
