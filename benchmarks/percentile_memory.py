"""Peak memory and time of one KPI-parts model on a fact grown to a large centre's size (a script,
not a test): the model whose percentiles (median and 90th percentile of answered waits) decided
the memory a full build needs.

    # the demo's warehouse as the seed, the model compiled as a full refresh
    .venv/bin/dbt compile --full-refresh --select int_kpi_parts__queue_legs ...
    .venv/bin/python benchmarks/percentile_memory.py --warehouse ~/.ccq/warehouse/ccq.duckdb \\
        --sql new=target/compiled/.../int_kpi_parts__queue_legs.sql [--sql old=...]

The seed's queue legs are copied `--days-copies` times along the calendar (each copy moved by
the seed's span of days) and `--agent-copies` times across agents, teams and supervisors (ids
suffixed), so that the number of rows, periods and scopes grows as in a larger centre: the
default 11 x 35 copies of the 35-day demo (33 thousand legs) give 12.8 million legs over
385 days and about 2,100 agents, the L size of the scale benchmark (12.6 million calls). Each
SQL runs in its own process under `--memory-limit` (the warehouse's default budget), and the
script prints wall time, CPU seconds and peak resident memory per SQL, with the load average.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHIFTED_TYPES = ("TIMESTAMP", "DATE", "TIMESTAMP WITH TIME ZONE")
SUFFIXED = ("agent_id", "team_id", "supervisor_id")

RUN_ONE = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])
con.execute(f"SET memory_limit = '{sys.argv[3]}'")
con.execute(f"SET threads = {sys.argv[4]}")
con.execute(f"SET temp_directory = '{sys.argv[5]}'")
con.execute("SET enable_progress_bar = false")
sql = open(sys.argv[2]).read()
con.execute("DROP TABLE IF EXISTS main.bench_out")
con.execute(f"CREATE TABLE main.bench_out AS {sql}")
print(con.execute("SELECT count(*) FROM main.bench_out").fetchall()[0][0])
"""


def grow(seed: Path, big: Path, days_copies: int, agent_copies: int) -> int:
    import duckdb

    big.unlink(missing_ok=True)
    with duckdb.connect(str(big)) as con:
        con.execute(f"ATTACH '{seed}' AS seed (READ_ONLY)")
        columns = con.execute("""SELECT column_name, data_type FROM information_schema.columns
                                 WHERE table_catalog = 'seed' AND table_schema = 'marts'
                                   AND table_name = 'fct_queue_legs' ORDER BY ordinal_position""").fetchall()
        span = con.execute("SELECT max(local_date) - min(local_date) + 1 FROM seed.marts.fct_queue_legs").fetchall()[0][0]
        replaced = []
        for name, kind in columns:
            if kind in SHIFTED_TYPES:
                replaced.append(f"{name} + to_days(cast(d.i * {span} as integer)) AS {name}")
            elif name in SUFFIXED:
                replaced.append(f"{name} || '-' || a.i AS {name}")
            elif name == "contact_id":
                replaced.append(f"{name} || '-' || d.i || '-' || a.i AS {name}")
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE SCHEMA audit")
        con.execute(f"""CREATE TABLE marts.fct_queue_legs AS
                        SELECT legs.* REPLACE ({', '.join(replaced)})
                        FROM seed.marts.fct_queue_legs AS legs
                        CROSS JOIN range({days_copies}) AS d(i) CROSS JOIN range({agent_copies}) AS a(i)""")
        con.execute(f"""CREATE TABLE audit.load_files AS
                        SELECT files.* REPLACE (file_date + to_days(cast(({days_copies} - 1) * {span} as integer)) AS file_date)
                        FROM seed.audit.load_files AS files""")
        return con.execute("SELECT count(*) FROM marts.fct_queue_legs").fetchall()[0][0]


def measure(big: Path, sql: Path, memory_limit: str, threads: int, spill: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", RUN_ONE, str(big), str(sql), memory_limit, str(threads), str(spill)],
                         capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures = {
        "wall_s": round(wall, 1),
        "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
        # ru_maxrss of children is the largest of any child so far: each SQL runs after a fresh
        # start of this script when the figures must be apart (--sql once per invocation).
        "peak_rss_gb": round(after.ru_maxrss / 1024 / 1024, 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if run.returncode != 0:
        # DuckDB's message is the first line of its error, the rest is advice.
        errors = [line for line in run.stderr.splitlines() if "Error" in line]
        figures["error"] = (errors or run.stderr.strip().splitlines() or ["?"])[-1].strip()
    else:
        figures["rows_out"] = int(run.stdout.split()[-1])
    return figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warehouse", type=Path, required=True, help="a built warehouse (the demo's) to grow from")
    ap.add_argument("--sql", action="append", required=True, metavar="LABEL=FILE",
                    help="a compiled parts model (full refresh); give it once per invocation to keep peak memory apart")
    ap.add_argument("--days-copies", type=int, default=11)
    ap.add_argument("--agent-copies", type=int, default=35)
    ap.add_argument("--memory-limit", default="4GB")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", type=Path, help="folder for the grown warehouse (kept, reused with --reuse)")
    ap.add_argument("--reuse", action="store_true", help="use the grown warehouse already in --work")
    args = ap.parse_args(argv)

    work = args.work or Path(tempfile.mkdtemp(prefix="ccq-pct-"))
    work.mkdir(parents=True, exist_ok=True)
    big = work / "ccq.duckdb"  # the compiled SQL names its database "ccq"
    if args.reuse and big.exists():
        import duckdb
        with duckdb.connect(str(big), read_only=True) as con:
            rows = con.execute("SELECT count(*) FROM marts.fct_queue_legs").fetchall()[0][0]
    else:
        start = time.perf_counter()
        rows = grow(args.warehouse, big, args.days_copies, args.agent_copies)
        print(f"grown: {rows:,} queue legs in {time.perf_counter() - start:.1f} s", flush=True)
    for spec in args.sql:
        label, _, path = spec.partition("=")
        figures = {"label": label, "legs": rows, "memory_limit": args.memory_limit, "threads": args.threads,
                   **measure(big, Path(path), args.memory_limit, args.threads, work / "spill")}
        print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
