"""Time the demo generator for one size and print the figures (a script, not a test).

    .venv/bin/python benchmarks/generator_benchmark.py --days 30 --agents 1000 --out /tmp/ccq-bench

Prints rows per table, calls per second and seconds, then one JSON line with the same
figures (also appended to --json when given).
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import sys
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ccq.generator import DemoConfig, generate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--queues", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
    ap.add_argument("--out", type=Path, help="landing folder to write (default: a temporary folder, removed after)")
    ap.add_argument("--json", type=Path, help="append the JSON line to this file")
    ap.add_argument("--quiet", action="store_true", help="no per-day progress")
    args = ap.parse_args(argv)

    out = args.out or Path(tempfile.mkdtemp(prefix="ccq-bench-"))
    if out.exists() and any(out.iterdir()):
        shutil.rmtree(out)
    cfg = DemoConfig(start_date=args.start, days=args.days, agents=args.agents, queues=args.queues, seed=args.seed)
    progress = None if args.quiet else (lambda msg: print("  " + msg, file=sys.stderr, flush=True))
    summary = generate(out, cfg, progress)
    size = sum(p.stat().st_size for p in out.rglob("*.csv"))

    width = max(len(t) for t in summary.rows)
    for table, n in sorted(summary.rows.items()):
        print(f"{table:<{width}}  {n:>12,}")
    total = sum(summary.rows.values())
    print(f"{'total rows':<{width}}  {total:>12,}")
    print(f"files {summary.files:,}, {size / 1e6:,.0f} MB of CSV")
    print(f"{summary.calls:,} calls ({summary.queue_legs:,} queue legs) in {summary.seconds:,.1f} s: "
          f"{summary.calls / summary.seconds:,.0f} calls/s, {total / summary.seconds:,.0f} rows/s")

    figures = {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "days": args.days, "agents": args.agents, "queues": args.queues, "seed": args.seed,
        "start": args.start.isoformat(), "seconds": round(summary.seconds, 2), "calls": summary.calls,
        "queue_legs": summary.queue_legs, "calls_per_second": round(summary.calls / summary.seconds),
        "rows": summary.rows, "rows_total": total, "rows_per_second": round(total / summary.seconds),
        "files": summary.files, "csv_bytes": size,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "python": platform.python_version(), "machine": platform.machine(),
    }
    line = json.dumps(figures, sort_keys=True)
    print(line)
    if args.json:
        with args.json.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
