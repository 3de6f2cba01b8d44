"""Run a local command for a run: output lines become run logs as they arrive; cancel kills the group.

Simulation markers (no subprocess; for load tests), as a container script's whole ``dockerCommand``:

* ``civis-emulator:sleep <seconds>`` -- the run waits that long, then succeeds;
* ``civis-emulator:fail <seconds>``  -- the run waits that long, then fails ("Simulated failure").

Both can be cancelled while waiting.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import threading

from ..log_shipping import SHIPPING
from ..runs import RunContext, RunFailed

_MARKER = re.compile(r"^\s*civis-emulator:(sleep|fail)\s+(\d+(?:\.\d+)?)\s*$")
KILL_GRACE_SECONDS = 3.0


def simulated(command: str | None) -> tuple[str, float] | None:
    m = _MARKER.match(command or "")
    return (m.group(1), float(m.group(2))) if m else None


def run_simulated(ctx: RunContext, action: str, seconds: float) -> None:
    ctx.log(f"civis-emulator: simulated run, {action} after {seconds:g}s")
    if ctx.cancelled.wait(seconds):
        return
    if action == "fail":
        raise RunFailed("Simulated failure")


def _pump(stream, ctx: RunContext, level: str, last: list) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if line:
            last[0] = line
        ctx.log(line, level, lag=SHIPPING.ship_lag)  # published late, as by the platform's log shipper
    stream.close()


def _kill_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run_command(ctx: RunContext, argv: list[str], env: dict[str, str], files: dict[str, str] | None = None) -> None:
    """Run ``argv`` in a fresh temporary directory (``files`` written into it first)."""
    with tempfile.TemporaryDirectory(prefix=f"civis-run-{ctx.run_id}-") as workdir:
        for name, content in (files or {}).items():
            with open(os.path.join(workdir, name), "w", encoding="utf-8") as fh:
                fh.write(content)
        try:
            proc = subprocess.Popen(
                argv, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, start_new_session=True,
            )
        except OSError as exc:
            raise RunFailed(f"Could not start {argv[0]}: {exc}") from None
        last_err = [None]
        pumps = [
            threading.Thread(target=_pump, args=(proc.stdout, ctx, "info", [None]), daemon=True),
            threading.Thread(target=_pump, args=(proc.stderr, ctx, "error", last_err), daemon=True),
        ]
        for t in pumps:
            t.start()
        while proc.poll() is None:
            if ctx.cancelled.wait(0.05):
                _kill_group(proc, signal.SIGTERM)
                try:
                    proc.wait(KILL_GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    _kill_group(proc, signal.SIGKILL)
                    proc.wait()
                break
        _kill_group(proc, signal.SIGKILL)  # children left behind by a finished leader
        for t in pumps:
            t.join(5)
        if ctx.cancelled.is_set() or proc.returncode == 0:
            ctx.publish_logs()
            if ctx.cancelled.is_set():
                ctx.log("Run cancelled: process killed", "warn")
            return
        # The platform's own line is published at once, above the process's last lines, which (its
        # traceback, as a rule) arrive after the run has failed, newest first (see log_shipping).
        ctx.log(f"Process exited with status {proc.returncode}", "error")
        ctx.publish_logs(delay=SHIPPING.late_seconds, spacing=SHIPPING.spacing)
        msg = f"Process exited with status {proc.returncode}"
        if last_err[0]:
            msg += f": {last_err[0]}"
        raise RunFailed(msg)
