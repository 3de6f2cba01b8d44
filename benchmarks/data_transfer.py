"""Data-movement figures: file upload/download throughput and peak memory, and a CSV import end to end.

    .venv/bin/python benchmarks/data_transfer.py [--file-bytes 1073741824] [--csv-bytes 1000000000] [--repeat 3]

1. A file of ``--file-bytes`` random bytes: upload (multipart, parts in parallel) and download with
   the provider's ``CivisFileTransfer`` against an emulator process, next to a raw loopback HTTP
   transfer of the same bytes (PUT to / GET from a bare ``http.server`` in this run; the PUT also in the
   upload's parts, as many at once, and with the server writing the body to a file, since the emulator must
   store what it receives). Each transfer runs in its own child process, whose peak RSS is reported (and, for
   flatness, the same at 1/16 size). With ``--repeat N`` the full-size transfers run N times, each upload
   right after its raw PUT (the two cores are shared, so neighbours in time are compared); the figures are
   the medians and ``rounds`` lists each round's.
2. A CSV of ``--csv-bytes`` (0: skipped): upload + import + table ready, with ``CivisImportCsvOperator``, and
   the same with the official client (``civis.io.csv_to_civis``) against the same emulator.

Not a test: it prints one JSON line of figures at the end (and writes it to benchmarks/out/).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
API_KEY = "benchmark-data-key-8c2f"
DB = "Civis Emulator Warehouse"
MiB = 1024 * 1024


# -- children: one measured operation each, reporting seconds and peak RSS ---------------------------
def _use_connection(base_url: str) -> None:
    os.environ["AIRFLOW_CONN_CIVIS_DEFAULT"] = json.dumps({"conn_type": "civis", "host": base_url,
                                                          "password": API_KEY, "extra": {"emulator": True}})


def child(args: list[str]) -> dict:
    kind, base_url, path = args[0], args[1], args[2]
    import civis  # noqa: F401 - imports happen before the clock starts
    import requests  # noqa: F401

    from airflow_civis.hooks.files import CivisFileTransfer  # noqa: F401
    from airflow_civis.operators import CivisImportCsvOperator  # noqa: F401
    from tests.helpers import make_context  # noqa: F401

    started = time.perf_counter()
    out: dict = {}
    if kind in ("upload", "download"):
        _use_connection(base_url)
        from airflow_civis.hooks.civis import CivisHook
        from airflow_civis.hooks.files import CivisFileTransfer

        transfer = CivisFileTransfer(CivisHook())
        if kind == "upload":
            out["file_id"] = transfer.upload(path)
        else:
            transfer.download(int(args[3]), path)
    elif kind in ("raw_put", "raw_put_parts", "raw_get"):
        import requests

        from airflow_civis.hooks.files import _FileSlice

        if kind == "raw_put":
            requests.put(base_url, data=_FileSlice(path, 0, os.path.getsize(path)), timeout=600).raise_for_status()
        elif kind == "raw_put_parts":
            raw_put_parts(base_url, path)
        else:
            with requests.get(base_url, stream=True, timeout=600) as r, open(path, "wb") as fh:
                for chunk in r.iter_content(MiB):
                    fh.write(chunk)
    elif kind == "import_provider":
        _use_connection(base_url)
        from airflow_civis.operators import CivisImportCsvOperator

        op = CivisImportCsvOperator(task_id="bench", table=args[3], database=DB, source_path=path,
                                    if_exists="drop", deferrable=False, poll_interval=0.5)
        from tests.helpers import make_context

        out["result"] = op.execute(make_context())
    elif kind == "import_official":
        os.environ.update(CIVIS_API_KEY=API_KEY, CIVIS_API_ENDPOINT=base_url + "/")
        import civis

        client = civis.APIClient()  # fetches the API spec: part of the official client's cost
        fut = civis.io.csv_to_civis(path, DB, args[3], client=client, existing_table_rows="drop",
                                    polling_interval=0.5)
        out["state"] = fut.result().state
    out["seconds"] = time.perf_counter() - started
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def raw_put_parts(url: str, path: str) -> None:
    """The upload's plan (part size, parts at once) against the raw server: one session per thread."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from airflow_civis.hooks.files import DEFAULT_MAX_WORKERS, DEFAULT_PART_SIZE, _FileSlice

    size, local = os.path.getsize(path), threading.local()

    def send(offset: int) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        body = _FileSlice(path, offset, min(DEFAULT_PART_SIZE, size - offset))
        session.put(url, data=body, timeout=600).raise_for_status()

    with ThreadPoolExecutor(DEFAULT_MAX_WORKERS) as pool:
        list(pool.map(send, range(0, size, DEFAULT_PART_SIZE)))


def run_child(*args: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True,
                          env=dict(os.environ, AIRFLOW__CORE__LOAD_EXAMPLES="False"))
    if proc.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- the raw loopback baseline -----------------------------------------------------------------------
def raw_server(serve_path: str) -> ThreadingHTTPServer:
    """PUT ``/`` reads and drops the body; PUT ``/disk`` writes it next to ``serve_path`` (then deletes it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self):  # noqa: N802
            left = int(self.headers["Content-Length"])
            sink = open(serve_path + ".put", "wb") if self.path == "/disk" else None  # noqa: SIM115
            while left:
                chunk = self.rfile.read(min(MiB, left))
                left -= len(chunk)
                if sink is not None:
                    sink.write(chunk)
            if sink is not None:
                sink.close()
                os.remove(serve_path + ".put")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(os.path.getsize(serve_path)))
            self.end_headers()
            with open(serve_path, "rb") as fh:
                while chunk := fh.read(MiB):
                    self.wfile.write(chunk)

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def make_file(path: str, size: int) -> None:
    block = os.urandom(4 * MiB)
    with open(path, "wb") as fh:
        left = size
        while left:
            fh.write(block[: min(len(block), left)])
            left -= min(len(block), left)


def make_csv(path: str, size: int) -> int:
    rows, written = 0, 0
    with open(path, "w") as fh:
        fh.write("id,name,amount,day,note\n")
        while written < size:
            lines = [f"{i},name_{i % 9973},{(i * 31) % 100000 / 100},2024-{i % 12 + 1:02d}-{i % 28 + 1:02d},"
                     f"note number {i} for the benchmark\n" for i in range(rows, rows + 100_000)]
            chunk = "".join(lines)
            fh.write(chunk)
            written += len(chunk)
            rows += len(lines)
    return rows


def mbps(size: int, seconds: float) -> float:
    return round(size / MiB / seconds, 1)


def _timed(size: int, result: dict) -> dict:
    return {"MiB_per_s": mbps(size, result["seconds"]), "seconds": round(result["seconds"], 2),
            "peak_rss_mb": round(result["peak_rss_mb"], 1)}


def full_round(base_url: str, tmp: str, src: str, size: int) -> dict:
    """One round at full size: raw PUT, then the upload (neighbours in time), then the rest."""
    server = raw_server(src)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        put = run_child("raw_put", url, src)
        up = run_child("upload", base_url, src)
        put_parts = run_child("raw_put_parts", url, src)
        put_disk = run_child("raw_put", url + "disk", src)
        out = os.path.join(tmp, "full.out")
        down = run_child("download", base_url, out, str(up["file_id"]))
        assert os.path.getsize(out) == size
        os.remove(out)
        get = run_child("raw_get", url, os.path.join(tmp, "raw.out"))
        os.remove(os.path.join(tmp, "raw.out"))
    finally:
        server.shutdown()
        server.server_close()
    raw = {"put_MiB_per_s": mbps(size, put["seconds"]), "put_parts_MiB_per_s": mbps(size, put_parts["seconds"]),
           "put_to_disk_MiB_per_s": mbps(size, put_disk["seconds"]), "get_MiB_per_s": mbps(size, get["seconds"]),
           "put_peak_rss_mb": round(put["peak_rss_mb"], 1), "get_peak_rss_mb": round(get["peak_rss_mb"], 1)}
    upload = _timed(size, up)
    return {"upload_full": upload, "download_full": _timed(size, down), "raw_loopback": raw,
            "upload_vs_raw_put": round(upload["MiB_per_s"] / raw["put_MiB_per_s"], 3),
            "upload_vs_raw_put_parts": round(upload["MiB_per_s"] / raw["put_parts_MiB_per_s"], 3),
            "upload_vs_raw_put_to_disk": round(upload["MiB_per_s"] / raw["put_to_disk_MiB_per_s"], 3)}


def _median_of(rounds: list[dict]) -> dict:
    """Each figure's median over the rounds (same keys, nested)."""
    first = rounds[0]
    if isinstance(first, dict):
        return {key: _median_of([r[key] for r in rounds]) for key in first}
    return round(statistics.median(rounds), 3)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file-bytes", type=int, default=1024 ** 3)
    parser.add_argument("--csv-bytes", type=int, default=10 ** 9, help="0 skips the CSV import")
    parser.add_argument("--repeat", type=int, default=1, help="full-size rounds; figures are their medians")
    opts = parser.parse_args()
    from civis_emulator.process import start_emulator_process, stop_emulator_process

    figures: dict = {"file_bytes": opts.file_bytes, "csv_bytes": opts.csv_bytes, "repeat": opts.repeat}
    with tempfile.TemporaryDirectory(prefix="civis-bench-") as tmp:
        proc, base_url = start_emulator_process(API_KEY, data_dir=os.path.join(tmp, "emu"))
        try:
            size = opts.file_bytes // 16
            src = os.path.join(tmp, "small.bin")
            make_file(src, size)
            up = run_child("upload", base_url, src)
            down = run_child("download", base_url, os.path.join(tmp, "small.out"), str(up["file_id"]))
            assert os.path.getsize(os.path.join(tmp, "small.out")) == size
            figures["upload_small"], figures["download_small"] = _timed(size, up), _timed(size, down)
            for name in ("small.bin", "small.out"):
                os.remove(os.path.join(tmp, name))
            src = os.path.join(tmp, "full.bin")
            make_file(src, opts.file_bytes)
            rounds = [full_round(base_url, tmp, src, opts.file_bytes) for _ in range(max(1, opts.repeat))]
            os.remove(src)
            figures.update(_median_of(rounds))
            if len(rounds) > 1:
                figures["rounds"] = [{"upload_MiB_per_s": r["upload_full"]["MiB_per_s"],
                                      "raw_put_MiB_per_s": r["raw_loopback"]["put_MiB_per_s"],
                                      "raw_put_parts_MiB_per_s": r["raw_loopback"]["put_parts_MiB_per_s"],
                                      "raw_put_to_disk_MiB_per_s": r["raw_loopback"]["put_to_disk_MiB_per_s"],
                                      "upload_vs_raw_put": r["upload_vs_raw_put"]} for r in rounds]
            if opts.csv_bytes > 0:
                figures.update(csv_figures(base_url, tmp, opts.csv_bytes))
        finally:
            stop_emulator_process(proc)
    line = json.dumps(figures)
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / "data_transfer.json").write_text(line + "\n")
    print(line)
    return 0


def csv_figures(base_url: str, tmp: str, csv_bytes: int) -> dict:
    csv_path = os.path.join(tmp, "bench.csv")
    rows = make_csv(csv_path, csv_bytes)
    mine = run_child("import_provider", base_url, csv_path, "scratch.bench_provider")
    assert mine["result"]["rows_loaded"] == rows, mine
    theirs = run_child("import_official", base_url, csv_path, "scratch.bench_official")
    assert theirs["state"] == "succeeded", theirs
    return {"csv_rows": rows, "csv_import": {
        "provider_seconds": round(mine["seconds"], 1), "official_client_seconds": round(theirs["seconds"], 1),
        "provider_peak_rss_mb": round(mine["peak_rss_mb"], 1),
        "official_peak_rss_mb": round(theirs["peak_rss_mb"], 1),
    }}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2:]), default=str))
        sys.exit(0)
    sys.exit(main())
