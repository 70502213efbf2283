"""The demo centre's main job on both engines (issue 18): `ccq demo --no-app` on DuckDB and on
Spark `local[2]`, each in a fresh working folder at the same clock, so both generate the same
extracts. Reports each run's wall time, every Dagster step's time, the peak memory of the
whole process tree (dbt, and Spark's JVM, are descendants), the load average, and a comparison of
every row and column of the two published `kpi_values` (FLOAT_TOLERANCE as in
tests/test_spark_engine.py; `as_of` is when each run loaded). A script, not a test.

    .venv/bin/python benchmarks/engine_benchmark.py                  # both engines, the default demo
    .venv/bin/python benchmarks/engine_benchmark.py --days 7         # a shorter demo

Writes benchmarks/results/engine_benchmark.{md,json} (--results for elsewhere).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

# benchmarks/ is not a package: the script's own folder is on sys.path, so its parts are plain modules.
from scale_benchmark import TreeSampler
from scale_config import ROOT, load_average

sys.path.insert(0, str(ROOT))

ENGINES = ("duckdb", "spark")
FLOAT_TOLERANCE = 1e-9
KEY = ("kpi", "grain", "period_start", "scope_type", "scope_id")
STEP = re.compile(r"^\s+(\w+) done \(([\d.]+)s\)$")
BENCHMARK_KEY = "engine-benchmark-key-0123456789abcdef"
MAIN_JOB = re.compile(r"^main job finished in ([\d.]+)s")


def run_demo(engine: str, home: Path, now: str, days: int | None) -> dict:
    shutil.rmtree(home, ignore_errors=True)
    # One personal-data key for both runs: a pseudonymous scope (an agent known by name only) is
    # then the same on both engines.
    env = {**os.environ, "CCQ_NOW": now, "CCQ_SPARK_MASTER": "local[2]", "CCQ_PII_KEY": BENCHMARK_KEY}
    for name in ("CCQ_HOME", "CCQ_DUCKDB_PATH", "DAGSTER_HOME", "CCQ_ENGINE"):
        env.pop(name, None)
    args = [sys.executable, "-m", "orchestration.cli", "--home", str(home), "--engine", engine, "demo", "--no-app"]
    if days:
        args += ["--days", str(days)]
    t0 = time.perf_counter()
    before = load_average()
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with TreeSampler(proc.pid, every=0.5) as sampled:
        output = proc.stdout.read()
        # No CPU figure: Spark's JVM is not a process anyone waits for, so rusage would leave it out.
        _, status, _ = os.wait4(proc.pid, 0)
    (home.parent / f"{engine}.log").write_text(output, encoding="utf-8")
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        raise SystemExit(f"engine_benchmark: the {engine} demo failed (exit {rc}); see {home.parent / f'{engine}.log'}")
    return {
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "main_job_seconds": next((float(m.group(1)) for m in map(MAIN_JOB.match, output.splitlines()) if m), None),
        "steps": {m.group(1): float(m.group(2)) for m in map(STEP.match, output.splitlines()) if m},
        **sampled.figures(before),
    }


def compare(homes: dict[str, Path]) -> dict:
    """Every kpi_values row of the two published snapshots, matched on its key, column by column."""
    import duckdb

    from ccq.publish import current_snapshot
    from ccq.settings import Paths

    tables = {}
    for engine, home in homes.items():
        with duckdb.connect(str(current_snapshot(Paths(home))), read_only=True) as con:
            rows = con.execute("select * from marts.kpi_values")
            columns = [d[0] for d in rows.description]
            tables[engine] = {tuple(r[columns.index(k)] for k in KEY): dict(zip(columns, r)) for r in rows.fetchall()}
    a, b = (tables[e] for e in ENGINES)
    differing: dict[str, int] = {}
    for key in a.keys() & b.keys():
        for column, value in a[key].items():
            other = b[key][column]
            same = (math.isclose(value, other, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)
                    if isinstance(value, float) and isinstance(other, float) else value == other)
            if column != "as_of" and not same:
                differing[column] = differing.get(column, 0) + 1
    return {"rows": {e: len(t) for e, t in tables.items()}, "only_on_one": len(a.keys() ^ b.keys()),
            "differing_values_by_column": differing}


def write_report(result: dict, results: Path) -> None:
    results.mkdir(parents=True, exist_ok=True)
    (results / "engine_benchmark.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    runs = result["runs"]
    steps = list(dict.fromkeys(step for run in runs.values() for step in run["steps"]))
    lines = [f"# The demo's main job on DuckDB and on Spark local[2] ({result['when']})", "",
             f"`{result['command']}`, {result['cores']} cores. Load average: 1-minute mean during each run.", "",
             "| | " + " | ".join(runs) + " |", "|---|" + "---|" * len(runs)]
    for label, field in (("main job, as it reports (s)", "main_job_seconds"), ("process, wall (s)", "wall_seconds"),
                         ("peak memory of the process tree (MB)", "peak_rss_mb"), ("load average, mean", "load1_mean")):
        lines.append(f"| {label} | " + " | ".join(str(run[field]) for run in runs.values()) + " |")
    for step in steps:
        lines.append(f"| step `{step}` (s) | " + " | ".join(str(run["steps"].get(step, "")) for run in runs.values()) + " |")
    c = result["comparison"]
    lines += ["", f"`kpi_values`: {c['rows']['duckdb']:,} rows on DuckDB, {c['rows']['spark']:,} on Spark, "
                  f"{c['only_on_one']} on one engine only; values that differ beyond {FLOAT_TOLERANCE} "
                  f"(every column but `as_of`): {c['differing_values_by_column'] or 'none'}.", ""]
    (results / "engine_benchmark.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, help="days of demo history (default: the demo's)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/ccq_bench/engines"))
    parser.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    options = parser.parse_args()
    now = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None).isoformat()
    homes = {engine: options.out / engine for engine in ENGINES}
    runs = {}
    for engine, home in homes.items():
        print(f"engine_benchmark: the demo on {engine} ...", flush=True)
        runs[engine] = run_demo(engine, home, now, options.days)
        print(f"engine_benchmark: {engine}: {runs[engine]['wall_seconds']} s", flush=True)
    result = {"when": now, "cores": os.cpu_count(), "command": "ccq --engine <engine> demo --no-app"
              + (f" --days {options.days}" if options.days else ""), "runs": runs, "comparison": compare(homes)}
    write_report(result, options.results)
    print((options.results / "engine_benchmark.md").read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
