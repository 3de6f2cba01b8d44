"""Requests to Civis from N CivisJobEventTrigger watchers on one connection: shared poll vs one poll each.

The emulator runs in its own process; the watchers run in this one, as the triggerer runs them:
**shared** through Airflow 3.3's ``SharedStreamManager`` (``filter_shared_stream`` over one
``open_shared_stream``), **unshared** each through its own ``run()`` (what Airflow 3.1/3.2 do). Each
watcher watches its own job; while they watch, a driver starts a run of one of those jobs every
``--run-every`` seconds (simulated container runs of ``--run-seconds``). Counted: the GET requests the
watchers sent (the driver only POSTs), in total and after the start-up reads (one ``GET /jobs/{id}``
per watcher), and the events, which must be exactly one per run that ended, in both modes.

    .venv/bin/python benchmarks/event_watchers.py [--watchers 100] [--seconds 120] [--poll-interval 30]
        [--pessimistic]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CONTAINER, OUT, start_emulator, stop, use_connection  # noqa: E402


def get_requests(hook: Any) -> int:
    stats = hook.call("GET", "/_emulator/stats")
    return sum(r["count"] for r in stats["requests"] if r["method"] == "GET" and r["route"].startswith("/jobs"))


async def watch(mode: str, jobs: list[int], args: argparse.Namespace, hook: Any) -> dict[str, Any]:
    from airflow.triggers.shared_stream import SharedStreamManager

    from airflow_civis.triggers.events import CivisJobEventTrigger

    triggers = [CivisJobEventTrigger(job_id=job, poll_interval=args.poll_interval) for job in jobs]
    events: list[dict[str, Any]] = []
    manager = SharedStreamManager()
    key = triggers[0].shared_stream_key()

    async def consume(i: int, trigger: CivisJobEventTrigger) -> None:
        stream = (trigger.filter_shared_stream(manager.subscribe(trigger_id=i, trigger=trigger, key=key))
                  if mode == "shared" else trigger.run())
        async for event in stream:
            events.append(event.payload)

    await asyncio.to_thread(hook.call, "POST", "/_emulator/reset-stats")
    tasks = [asyncio.create_task(consume(i, t)) for i, t in enumerate(triggers)]
    deadline = time.monotonic() + 60
    while any(t.mark.value is None for t in triggers):  # every watcher has read its job once
        assert time.monotonic() < deadline, "watchers did not start"
        await asyncio.sleep(0.1)
    startup = await asyncio.to_thread(get_requests, hook)
    started_runs: list[int] = []
    began = time.monotonic()
    next_run, last_start = began, args.seconds - args.run_seconds - 2 * args.poll_interval  # all seen by the end
    while time.monotonic() - began < args.seconds:
        if time.monotonic() >= next_run and time.monotonic() - began < last_start:
            job = jobs[len(started_runs) * 7 % len(jobs)]
            run = await asyncio.to_thread(hook.call, "POST", f"/jobs/{job}/runs")
            started_runs.append(run["id"])
            next_run += args.run_every
        await asyncio.sleep(0.2)
    total = await asyncio.to_thread(get_requests, hook)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if mode == "shared":
        for i in range(len(triggers)):
            await manager.unsubscribe(i, key)
        await manager.stop_all()
    fired = sorted(e["run_id"] for e in events)
    return {"mode": mode, "watchers": len(jobs), "seconds": args.seconds, "poll_interval": args.poll_interval,
            "startup_requests": startup, "requests_after_startup": total - startup, "requests_total": total,
            "requests_per_minute_after_startup": round((total - startup) * 60 / args.seconds, 1),
            "runs": len(started_runs), "events": len(events), "exactly_once": fired == sorted(started_runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watchers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--poll-interval", type=float, default=30.0)
    parser.add_argument("--run-every", type=float, default=10.0)
    parser.add_argument("--run-seconds", type=float, default=5.0)
    parser.add_argument("--pessimistic", action="store_true",
                        help="the emulator moves lastRunUpdatedAt only when a run is created")
    args = parser.parse_args()
    from airflow_civis._compat import SHARED_STREAMS
    from airflow_civis.hooks.civis import CivisHook

    if not SHARED_STREAMS:
        sys.exit("needs Airflow 3.3+ (airflow.triggers.shared_stream)")
    emulator, base_url = start_emulator(workers=64, pessimistic=args.pessimistic)
    results = []
    try:
        use_connection(base_url)
        hook = CivisHook()
        for mode in ("shared", "unshared"):
            jobs = [hook.call("POST", "/scripts/containers", json={
                "name": f"watched-{mode}-{i}", "dockerCommand": f"civis-emulator:sleep {args.run_seconds}",
                **CONTAINER})["id"] for i in range(args.watchers)]
            results.append({**asyncio.run(watch(mode, jobs, args, hook)), "pessimistic": args.pessimistic})
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    finally:
        stop(emulator)
    shared, unshared = results
    print(f"{args.watchers} watchers, {args.seconds:g} s, poll every {args.poll_interval:g} s: GET requests "
          f"shared {shared['requests_total']} ({shared['requests_after_startup']} after start-up), unshared "
          f"{unshared['requests_total']} ({unshared['requests_after_startup']} after start-up); events exactly "
          f"once per run: shared {shared['exactly_once']}, unshared {unshared['exactly_once']}")
    OUT.mkdir(exist_ok=True)
    (OUT / f"event_watchers{'_pessimistic' if args.pessimistic else ''}.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
