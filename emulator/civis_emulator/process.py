"""The emulator in its own process, as ``make demo``, the DAG tests and the benchmarks run it.

Light on purpose: it imports neither the app nor uvicorn, so a process that only starts and stops an
emulator (a benchmark measuring its own CPU and memory) does not carry the emulator's weight.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading

HOST = "127.0.0.1"
READY_PREFIX = "civis-emulator ready at "


def start_emulator_process(api_key: str, data_dir: str | None = None, *, port: int = 0,
                           timeout: float = 60.0, pessimistic: bool = False,
                           max_run_workers: int | None = None,
                           output: list[str] | None = None) -> tuple[subprocess.Popen, str]:
    """Start ``civis-emulator`` in a subprocess and return it with its base URL once it is ready.

    The key goes through the environment (``CIVIS_API_KEY``), not the command line. ``max_run_workers``:
    runs executing at once (the CLI's default unless given; benchmarks size it for thousands of runs).
    ``output``: a list that receives every line the process prints, stdout and stderr (else stdout is
    read and dropped, and stderr is this process's).
    """
    cmd = [sys.executable, "-m", "civis_emulator.cli", "--port", str(port)]
    if data_dir:
        cmd += ["--data-dir", data_dir]
    if max_run_workers is not None:
        cmd += ["--max-run-workers", str(max_run_workers)]
    if pessimistic:
        cmd.append("--pessimistic")
    env = dict(os.environ, CIVIS_API_KEY=api_key, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT if output is not None else None, start_new_session=True)
    found: list[str] = []
    ready = threading.Event()

    stdout = proc.stdout
    assert stdout is not None  # stdout=PIPE

    def read_stdout() -> None:
        for raw in iter(stdout.readline, b""):  # keep draining so the pipe never fills
            line = raw.decode("utf-8", errors="replace")
            if output is not None:
                output.append(line)
            m = re.search(re.escape(READY_PREFIX) + r"(\S+)", line)
            if m and not ready.is_set():
                found.append(m.group(1))
                ready.set()
        ready.set()

    threading.Thread(target=read_stdout, daemon=True).start()
    if not ready.wait(timeout) or not found:
        stop_emulator_process(proc)
        said = "".join(output[-20:]) if output else ""
        raise RuntimeError(f"the civis-emulator process did not become ready (exit code {proc.poll()})"
                           + (f"; it printed:\n{said}" if said else ""))
    return proc, found[0]


def stop_emulator_process(proc: subprocess.Popen, timeout: float = 15.0) -> int | None:
    """Terminate (SIGTERM) and wait; kill if it does not stop within ``timeout``. Returns the exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
