"""Polling cost and detection latency: the shared poller vs. one request per trigger per interval.

For each N (default 10, 100, 1000) and each watcher, in one run of this script:

1. N container jobs with mixed simulated durations (``civis-emulator:sleep S``, 2..40 s) are created;
2. a fresh *watching process* starts (so its CPU and memory are its own) and runs N triggers in one
   asyncio loop, each as a task iterating ``trigger.run()`` -- what the triggerer does;
   ``shared`` is ``CivisRunTrigger`` (the shared poller), ``per-trigger`` re-implements what peer
   providers do (own client, one GET per trigger per interval; ``_baseline.py``);
3. the runs are started and handed to the watcher as they start; stats are reset just before.

Figures per phase: polling requests per minute (GETs counted by the emulator's ``/_emulator/stats``),
detection latency p50/p95 (the run's ``finishedAt`` in the emulator to the event in the watcher), CPU
seconds and peak RSS of the watcher (and RSS growth over its idle baseline), event-loop lag p99 (a
probe task sleeping 50 ms). The jobs are hidden, as the provider creates them.

``--semantics default``: the emulator moves a job's ``lastRunUpdatedAt`` on every state change of its
run; ``--semantics pessimistic``: only when a run is created (``civis-emulator --pessimistic``; the spec
does not say which the API does). Writes ``benchmarks/out/polling[-pessimistic].json`` and, when
matplotlib is installed (optional, ``pip install matplotlib``), ``.png``; ends with one JSON line whose
``ratio_at_1000`` is the per-trigger nominal requests over the shared poller's at N = 1000 and
``p95_at_1000_s`` the shared poller's p95 detection latency there.

    .venv/bin/python benchmarks/polling.py [--sizes 10,100,1000] [--interval 2] [--semantics pessimistic]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CONTAINER, OUT, conn_env, percentile, start_emulator, stop, use_connection  # noqa: E402


# -- the watching process ---------------------------------------------------------------------------
def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def watch(mode: str, interval: float, expected: int) -> dict:
    from _baseline import PerTriggerPollingTrigger

    from airflow_civis.triggers.run import CivisRunTrigger

    cls = CivisRunTrigger if mode == "shared" else PerTriggerPollingTrigger
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue = asyncio.Queue()

    def read_stdin() -> None:  # a thread: no blocking read on the event loop
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read_stdin, daemon=True).start()
    events: dict[int, dict] = {}
    lags: list[float] = []
    stop_probe = asyncio.Event()

    async def probe() -> None:
        while not stop_probe.is_set():
            before = loop.time()
            await asyncio.sleep(0.05)
            lags.append(max(0.0, loop.time() - before - 0.05))

    async def one(ref: dict) -> None:
        async for event in cls(run=ref, poll_interval=interval).run():
            events[ref["run_id"]] = {"at": time.time(), "status": event.payload["status"]}
            return

    from airflow_civis.triggers import poller as poller_module

    probe_task = asyncio.create_task(probe())
    tasks, first_at, pollers = [], None, set()
    while (line := await lines.get()) is not None:
        first_at = first_at or time.time()
        tasks.append(asyncio.create_task(one(json.loads(line))))
        pollers.update(poller_module._POLLERS.values())
    await asyncio.gather(*tasks)
    stop_probe.set()
    await probe_task
    requests: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for p in pollers:
        for kind, count in p.requests.items():
            requests[kind] = requests.get(kind, 0) + count
        for kind, spent in p.timing.items():
            seconds[kind] = round(seconds.get(kind, 0.0) + spent, 2)
    return {"events": events, "first_at": first_at, "poller_requests": requests, "poller_seconds": seconds,
            "last_at": max(e["at"] for e in events.values()),
            "loop_lag_p99_ms": round(1000 * percentile(lags, 99), 1), "loop_lag_max_ms": round(1000 * max(lags), 1)}


def watcher_main(mode: str, interval: float, expected: int) -> None:
    import logging

    import _baseline  # noqa: F401

    import airflow_civis.hooks.civis_async  # noqa: F401 - imports paid before the baseline figures
    import airflow_civis.triggers.poller  # noqa: F401
    import airflow_civis.triggers.run  # noqa: F401

    logging.basicConfig(level=logging.WARNING)
    debug = os.environ.get("POLLING_DEBUG")  # per-cycle timing of the shared poller on stderr
    poller_log = logging.getLogger("airflow_civis.triggers.poller")
    poller_log.setLevel(logging.DEBUG if debug else logging.INFO)
    if debug:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(created).2f %(message)s"))
        poller_log.addHandler(handler)
        poller_log.propagate = False
    idle_rss = rss_mb()
    cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    print("ready", flush=True)
    result = asyncio.run(watch(mode, interval, expected))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result.update(cpu_seconds=round(usage.ru_utime + usage.ru_stime - cpu0, 2),
                  peak_rss_mb=round(usage.ru_maxrss / 1024, 1),
                  extra_rss_mb=round(usage.ru_maxrss / 1024 - idle_rss, 1))
    print("RESULT " + json.dumps(result), flush=True)


# -- the orchestrating process ----------------------------------------------------------------------
def durations(n: int, longest: float) -> list[float]:
    rng = random.Random(n)
    return [round(min(longest, 2 + rng.expovariate(1 / 10)), 1) for _ in range(n)]


def phase(base_url: str, n: int, mode: str, interval: float, longest: float) -> dict:
    from airflow_civis.exceptions import CivisError
    from airflow_civis.hooks.civis import CivisHook

    hook = CivisHook()
    pool = ThreadPoolExecutor(8)
    jobs = list(pool.map(lambda d: hook.call("POST", "/scripts/containers", json={
        "name": f"bench-{mode}-{n}", "dockerCommand": f"civis-emulator:sleep {d}", "hidden": True,
        **CONTAINER})["id"], durations(n, longest)))
    watcher = subprocess.Popen(
        [sys.executable, __file__, "--watch", mode, "--interval", str(interval), "--expected", str(n)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, **conn_env(base_url)},
    )
    try:
        assert watcher.stdout.readline().strip() == "ready"
        hook.call("POST", "/_emulator/reset-stats")
        lock = threading.Lock()

        def start(job_id: int) -> dict:
            try:
                run = hook.call("POST", f"/jobs/{job_id}/runs")
            except CivisError:  # e.g. a connection reset after sending: the run may exist; never start two
                run = hook.call("GET", f"/jobs/{job_id}").get("lastRun") or hook.call("POST", f"/jobs/{job_id}/runs")
            ref = {"kind": "job" if mode == "shared" else "containers", "job_id": job_id, "run_id": run["id"]}
            with lock:
                watcher.stdin.write(json.dumps(ref) + "\n")
                watcher.stdin.flush()
            return ref

        refs = list(pool.map(start, jobs))
        watcher.stdin.close()
        out = [line for line in watcher.stdout if line.startswith("RESULT ")]
        watcher.wait(60)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    result = json.loads(out[-1][7:])
    stats = hook.call("GET", "/_emulator/stats")
    gets = sum(r["count"] for r in stats["requests"] if r["method"] == "GET")
    latencies = []
    for ref in refs:
        run = hook.call("GET", f"/jobs/{ref['job_id']}/runs/{ref['run_id']}")
        finished = datetime.fromisoformat(run["finishedAt"].replace("Z", "+00:00")).timestamp()
        latencies.append(result["events"][str(ref["run_id"])]["at"] - finished)
    minutes = (result["last_at"] - result["first_at"]) / 60
    nominal = sum(int(d // interval) + 1 for d in durations(n, longest))  # one GET per interval, per run
    return {
        "n": n, "poller": mode, "interval_s": interval, "requests": gets, "per_trigger_nominal_requests": nominal,
        "requests_per_min": round(gets / minutes, 1), "window_s": round(minutes * 60, 1),
        "latency_p50_s": round(percentile(latencies, 50), 2), "latency_p95_s": round(percentile(latencies, 95), 2),
        "cpu_seconds": result["cpu_seconds"], "peak_rss_mb": result["peak_rss_mb"],
        "extra_rss_mb": result["extra_rss_mb"], "loop_lag_p99_ms": result["loop_lag_p99_ms"],
        "statuses": sorted({e["status"] for e in result["events"].values()}),
        "poller_requests": result["poller_requests"], "poller_seconds": result.get("poller_seconds", {}),
    }


def chart(rows: list[dict], path: Path) -> None:
    try:
        import matplotlib
    except ImportError:
        print(f"matplotlib is not installed: {path.name} not drawn (pip install matplotlib)", file=sys.stderr)
        return

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for mode, style in (("shared", "o-"), ("per-trigger", "s--")):
        mine = [r for r in rows if r["poller"] == mode]
        left.plot([r["n"] for r in mine], [r["requests_per_min"] for r in mine], style, label=mode)
        right.plot([r["n"] for r in mine], [r["latency_p95_s"] for r in mine], style, label=f"{mode} p95")
        right.plot([r["n"] for r in mine], [r["latency_p50_s"] for r in mine], style, alpha=0.4, label=f"{mode} p50")
    left.set(xscale="log", yscale="log", xlabel="deferred runs (N)", ylabel="requests / minute",
             title="API requests")
    right.set(xscale="log", xlabel="deferred runs (N)", ylabel="seconds", title="finish -> event latency")
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--longest", type=float, default=40.0)
    parser.add_argument("--modes", default="shared,per-trigger")
    parser.add_argument("--semantics", choices=("default", "pessimistic"), default="default",
                        help="pessimistic: lastRunUpdatedAt moves only when a run is created")
    parser.add_argument("--watch")
    parser.add_argument("--expected", type=int, default=0)
    args = parser.parse_args()
    if args.watch:
        return watcher_main(args.watch, args.interval, args.expected)
    sizes = [int(s) for s in args.sizes.split(",")]
    proc, base_url = start_emulator(workers=max(sizes) + 64, pessimistic=args.semantics == "pessimistic")
    try:
        use_connection(base_url)
        rows = []
        for n in sizes:
            for mode in args.modes.split(","):
                rows.append(phase(base_url, n, mode, args.interval, args.longest))
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    finally:
        stop(proc)
    OUT.mkdir(exist_ok=True)
    name = "polling" if args.semantics == "default" else f"polling-{args.semantics}"
    (OUT / f"{name}.json").write_text(json.dumps(rows, indent=2))
    chart(rows, OUT / f"{name}.png")
    summary: dict = {"benchmark": "polling", "semantics": args.semantics, "interval_s": args.interval, "runs": rows}
    big = {r["poller"]: r for r in rows if r["n"] == max(sizes)}
    if "shared" in big:
        shared = max(1, big["shared"]["requests"])
        ratio = round(big["shared"]["per_trigger_nominal_requests"] / shared, 1)
        summary.update(fewer_requests_x_vs_nominal_at_max_n=ratio, p95_at_max_n_s=big["shared"]["latency_p95_s"])
        if max(sizes) == 1000:
            summary.update(ratio_at_1000=ratio, p95_at_1000_s=big["shared"]["latency_p95_s"])
    if len(big) == 2:
        per_trigger, shared_requests = big["per-trigger"]["requests"], max(1, big["shared"]["requests"])
        summary["fewer_requests_x_at_max_n"] = round(per_trigger / shared_requests, 1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
