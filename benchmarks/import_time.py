"""Import cost of the provider's public modules, as a DAG file pays it at parse time.

Each measurement is a fresh ``python -c`` process: ``import airflow.sdk`` first (every DAG file pays
that anyway), then the timed import; the figure is the median over ``--repeat`` processes. Next to it,
measured the same way, the Databricks provider's operators module (``pip install
apache-airflow-providers-databricks`` into the venv for this benchmark only; it is not a dependency).
Also reports which heavy modules each import adds to those ``airflow.sdk`` already loaded (none of
ours may load the emulator, FastAPI, DuckDB, scikit-learn or the async client). Ends with one JSON line.

    .venv/bin/python benchmarks/import_time.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

OURS = ("airflow_civis.operators", "airflow_civis.sensors", "airflow_civis.hooks.civis", "airflow_civis.links")
DATABRICKS = ("airflow.providers.databricks.operators.databricks",)
HEAVY = ("civis_emulator", "fastapi", "duckdb", "sklearn", "airflow_civis.hooks.civis_async",
         "airflow_civis.triggers.poller", "httpx", "pandas", "aiohttp")

PROBE = """
import sys, time
import airflow.sdk
before = set(sys.modules)
t = time.perf_counter()
{imports}
elapsed = time.perf_counter() - t
print(repr((elapsed, [m for m in {heavy!r} if m in sys.modules and m not in before])))
"""


def once(modules: tuple[str, ...]) -> tuple[float, list[str]]:
    code = PROBE.format(imports="\n".join(f"import {m}" for m in modules), heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    elapsed, loaded = eval(out.stdout.strip().splitlines()[-1])  # our own repr of a tuple
    return elapsed, loaded


def measure(modules: tuple[str, ...], repeat: int) -> dict:
    once(modules)  # warm the bytecode cache
    runs = [once(modules) for _ in range(repeat)]
    times = [t for t, _ in runs]
    return {"modules": list(modules), "median_ms": round(1000 * statistics.median(times), 1),
            "min_ms": round(1000 * min(times), 1), "heavy_modules_loaded": runs[-1][1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    result = {"benchmark": "import_time", "repeat": args.repeat, "baseline": "import airflow.sdk",
              "airflow_civis": measure(OURS, args.repeat)}
    try:
        result["databricks"] = measure(DATABRICKS, args.repeat)
    except subprocess.CalledProcessError:
        result["databricks"] = "not installed: pip install apache-airflow-providers-databricks"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
