"""Performance at scale (issue 8): generate S, M and L centres, run the pipeline on each and
write a report (Markdown and JSON). A script, not a test.

    nice .venv/bin/python benchmarks/scale_benchmark.py                    # S, M and L, every stage
    .venv/bin/python benchmarks/scale_benchmark.py --sizes S,M             # some sizes
    .venv/bin/python benchmarks/scale_benchmark.py --sizes L --stages build,queries   # rerun stages

Sizes: S one month, 50 agents; M one year, 200 agents; L one year, 1,000 agents. Each size has
its own folder under --out (default /tmp/ccq_bench/<size>): `source/` holds the generated
extracts of every day plus one more, `home/` is a CCQ_HOME whose landing folder gets all days
but the last. Stages, in order:

  generate     the demo generator writes the extracts (skipped when source/ is complete)
  load         a fresh warehouse; every file of the first N days through the loader
               (quarantine, reconciliation), as the load_extracts job does
  validate     the raw suites (GX row suites + table-level checks) per table over the N days,
               outcomes recorded, as the load_extracts job does after loading
  build        the build_and_publish job (dbt build with --full-refresh, mart checks,
               certification, publish), with the duration of every Dagster step and of the
               slowest dbt nodes
  incremental  the next day's extracts land; load_extracts + build_and_publish for that day
  queries      every query function of app/data.py on the published snapshot, uncached,
               p50/p95 per function and per app page (the pages are found by the functions
               their source calls)
  floor        one hand-written DuckDB query: daily queue KPIs (offered, answered, abandoned,
               service level, ASA, AHT) from the raw ACD events, the floor the build is
               compared with

Every stage runs in its own niced child process; the parent samples the resident memory of the
child's whole process tree (dbt runs as a grandchild) from /proc. A stage already done is
skipped unless named in --stages, so an interrupted run resumes where it stopped. Each stage's
figures are kept in <out>/<size>/stages/<stage>.json; the report gathers all of them and goes to
--results (default benchmarks/results/scale_benchmark.{md,json}).
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

# benchmarks/ is not a package: the script's own folder is on sys.path, so its parts are plain modules.
from scale_config import END, ROOT, SIZES, STAGES, clock, extract_day, load_average, size_dirs, start_date
from scale_queries import stage_floor, stage_queries
from scale_report import write_report

sys.path.insert(0, str(ROOT))

NICE = 10


# ---------------------------------------------------------------- memory of a process tree


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(root: int) -> int:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss_kb(pid)
        todo += children.get(pid, [])
    return total




def run_child(args: list[str], log: Path) -> dict:
    """Run a stage in a niced child process; wall time, peak RSS of its tree, load averages."""
    t0 = time.perf_counter()
    before = load_average()
    with log.open("a", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, __file__, *args], stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=lambda: os.nice(NICE), cwd=ROOT)
        with TreeSampler(proc.pid) as sampled:
            # wait4: the CPU time of the child and of every descendant it waited for (dbt), which,
            # unlike wall time, does not depend on what else the shared machine is doing.
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = rc = os.waitstatus_to_exitcode(status)
    return {"returncode": rc, "wall_seconds": round(time.perf_counter() - t0, 2),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2), **sampled.figures(before)}


class TreeSampler:
    """While a process runs: the peak resident memory of its whole tree and the 1-minute load
    average, sampled every `every` seconds from /proc."""

    def __init__(self, pid: int, every: float = 0.2):
        self.pid, self.every = pid, every
        self.peak_kb = 0
        self.loads: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.pid))
            self.loads.append(os.getloadavg()[0])
            self._stop.wait(self.every)

    def __enter__(self) -> "TreeSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def figures(self, load_before: list[float]) -> dict:
        return {"peak_rss_mb": round(self.peak_kb / 1024), "load_before": load_before, "load_after": load_average(),
                "load1_mean": round(statistics.fmean(self.loads), 2) if self.loads else None}


# ---------------------------------------------------------------- stages (run in the child)


def _env(home: Path, now: str) -> None:
    os.environ["CCQ_HOME"] = str(home)
    os.environ["CCQ_NOW"] = now
    os.environ["DAGSTER_HOME"] = str(home / "dagster")


def _source_complete(d: dict[str, Path]) -> bool:
    return (d["source"] / "GENERATED.json").exists()


def stage_generate(size: str, d: dict[str, Path]) -> dict:
    from ccq.generator import DemoConfig, generate

    if _source_complete(d):
        return json.loads((d["source"] / "GENERATED.json").read_text())
    shutil.rmtree(d["source"], ignore_errors=True)
    cfg = SIZES[size]
    summary = generate(d["source"], DemoConfig(start_date=start_date(size), days=cfg["days"] + 1,
                                               agents=cfg["agents"], queues=cfg["queues"], seed=7))
    figures = {"seconds": round(summary.seconds, 2), "calls": summary.calls, "queue_legs": summary.queue_legs,
               "rows": summary.rows, "rows_total": sum(summary.rows.values()), "files": summary.files,
               "csv_bytes": sum(p.stat().st_size for p in d["source"].rglob("*.csv"))}
    (d["source"] / "GENERATED.json").write_text(json.dumps(figures, indent=1))
    return figures


def _landing_sources(d: dict[str, Path], day: str | None = None, before: str | None = None) -> list[Path]:
    out = []
    for p in sorted(d["source"].rglob("*.csv")):
        dd = extract_day(p)
        if (day is None or dd == day) and (before is None or dd < before):
            out.append(p)
    return out


def _copy_to_landing(files: list[Path], d: dict[str, Path]) -> None:
    for p in files:
        target = d["home"] / "landing" / p.relative_to(d["source"])
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            try:
                os.link(p, target)  # same bytes, no copy: the loader only reads
            except OSError:
                shutil.copy2(p, target)


def stage_load(size: str, d: dict[str, Path]) -> dict:
    """A fresh home with the first N days, loaded in batches of one table as raw_extracts does."""
    import duckdb

    from ccq.ingest.landing import landing_files
    from ccq.ingest.loader import LoadError, ensure_warehouse, load_files
    from ccq.settings import Paths

    shutil.rmtree(d["home"], ignore_errors=True)
    _env(d["home"], clock(END))
    paths = Paths(d["home"]).ensure()
    _copy_to_landing(_landing_sources(d, before=END.isoformat()), d)
    files = landing_files(paths.landing)
    per_table: dict[str, float] = {}
    t0 = time.perf_counter()
    con = duckdb.connect(str(paths.warehouse))
    try:
        ensure_warehouse(con)
        rows = quarantined = 0
        last = time.perf_counter()

        def report(r) -> None:  # a batch reports its files together: its time goes to its table
            nonlocal rows, quarantined, last
            if isinstance(r, LoadError):
                raise r
            rows += r.rows_loaded
            quarantined += r.rows_quarantined
            now = time.perf_counter()
            per_table[r.table_name] = per_table.get(r.table_name, 0.0) + now - last
            last = now

        load_files(con, files, progress=report)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    seconds = time.perf_counter() - t0
    return {"seconds": round(seconds, 2), "files": len(files), "rows_loaded": rows, "rows_quarantined": quarantined,
            "rows_per_second": round(rows / seconds), "seconds_per_table": {k: round(v, 2) for k, v in
                                                                           sorted(per_table.items(), key=lambda kv: -kv[1])},
            "warehouse_bytes": paths.warehouse.stat().st_size}


def stage_validate(size: str, d: dict[str, Path]) -> dict:
    """The raw suites over the loaded days, per table, as raw_extracts does after loading."""
    import duckdb

    from ccq.contract import tables
    from ccq.ingest.loader import ensure_warehouse
    from ccq.quality import record_suite_results
    from ccq.reference import queue_ids
    from ccq.settings import Paths
    from expectations.runner import validate_raw_days

    _env(d["home"], clock(END))
    paths = Paths(d["home"]).ensure()
    run_id = f"scale-benchmark-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}"
    per_table: dict[str, float] = {}
    failed: list[str] = []
    recording = 0.0
    t0 = time.perf_counter()
    con = duckdb.connect(str(paths.warehouse))
    try:
        ensure_warehouse(con)
        for table_name in tables():
            days = [str(x) for (x,) in con.execute(
                "SELECT DISTINCT file_date FROM audit.load_files WHERE table_name = ? AND file_date IS NOT NULL "
                "ORDER BY 1", [table_name]).fetchall()]
            if not days:
                continue
            t1 = time.perf_counter()
            per_day = validate_raw_days(con, table_name, days, parameters={"queue_ids": queue_ids()})
            t2 = time.perf_counter()
            record_suite_results(con, run_id, {date.fromisoformat(day): rs for day, rs in per_day.items()}, [table_name])
            failed += [r.summary() for rs in per_day.values() for r in rs if r.critical_failed]
            recording += time.perf_counter() - t2
            per_table[table_name] = round(time.perf_counter() - t1, 2)
    finally:
        con.close()
    return {"seconds": round(time.perf_counter() - t0, 2), "recording_seconds": round(recording, 2),
            "seconds_per_table": dict(sorted(per_table.items(), key=lambda kv: -kv[1])),
            "critical_failures": failed[:20]}


def _instance(d: dict[str, Path]):
    from orchestration.runs import instance

    return instance(d["home"] / "dagster")


def _step_seconds(instance, run_id: str) -> dict[str, float]:
    from dagster import DagsterEventType

    started: dict[str, float] = {}
    out: dict[str, float] = {}
    for rec in instance.all_logs(run_id, of_type={DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS,
                                                  DagsterEventType.STEP_FAILURE}):
        ev = rec.dagster_event
        if ev.event_type == DagsterEventType.STEP_START:
            started[ev.step_key] = rec.timestamp
        else:
            out[ev.step_key] = round(rec.timestamp - started.get(ev.step_key, rec.timestamp), 2)
    return out


def _dbt_nodes(target_dir: Path, run_id: str, top: int = 15) -> dict:
    """The slowest dbt nodes of a run (orchestration.dbt_models writes each invocation's artefacts
    under <CCQ_HOME>/dbt_target/<op>-<run id prefix>)."""
    nodes = []
    for rr in glob.glob(str(target_dir / f"*-{run_id[:8]}" / "run_results.json")):
        data = json.loads(Path(rr).read_text(encoding="utf-8"))
        nodes += [(r["unique_id"], r.get("execution_time") or 0.0, r.get("status")) for r in data.get("results", [])]
    nodes.sort(key=lambda n: -n[1])
    by_kind: dict[str, float] = {}
    for uid, secs, _ in nodes:
        kind = uid.split(".")[0]
        by_kind[kind] = round(by_kind.get(kind, 0.0) + secs, 2)
    return {"slowest": [{"node": u, "seconds": round(s, 2), "status": st} for u, s, st in nodes[:top]],
            "seconds_by_kind": by_kind, "nodes": len(nodes)}


def _build(d: dict[str, Path], full_refresh: bool, days: list[str] | None = None) -> dict:
    from orchestration.runs import run_refresh
    from ccq.settings import Paths

    paths = Paths(d["home"]).ensure()
    instance = _instance(d)
    t0 = time.perf_counter()
    # The refresh job; with no day to load (the default), the build alone.
    ok, info = run_refresh(instance, paths, days=days or [], progress=lambda m: print(m, flush=True),
                           full_refresh=full_refresh)
    seconds = time.perf_counter() - t0
    if not ok:
        raise RuntimeError(f"build failed: {info}")
    steps = _step_seconds(instance, info["run_id"])
    dbt_seconds = sum(v for k, v in steps.items() if k in ("warehouse_models", "certified_kpis"))
    snap = Path(info["snapshot"])
    return {"seconds": round(seconds, 2), "dbt_seconds": round(dbt_seconds, 2), "steps": steps,
            "dbt": _dbt_nodes(paths.dbt_target_dir, info["run_id"]), "kpi_rows": info["kpi_rows"], "certified_rows": info["certified_rows"],
            "warehouse_bytes": paths.warehouse.stat().st_size, "snapshot_bytes": snap.stat().st_size,
            "rows_loaded": info["rows_loaded"]}


def stage_build(size: str, d: dict[str, Path]) -> dict:
    _env(d["home"], clock(END))
    return _build(d, full_refresh=True)


def _unload_day(d: dict[str, Path], day: str) -> bool:
    """Take an incremental day out again (to rerun the stage): rows, audit and landing files."""
    import duckdb

    from ccq.contract import tables

    landed = [p for p in (d["home"] / "landing").rglob(f"*_{day}.csv")]
    con = duckdb.connect(str(d["home"] / "warehouse" / "ccq.duckdb"))
    try:
        ids = [f for (f,) in con.execute("SELECT file_id FROM audit.load_files WHERE file_date = ?", [day]).fetchall()]
        for t in tables():
            con.execute(f"DELETE FROM raw.{t} WHERE _file_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
        for t in ("quarantine", "load_files"):
            con.execute(f"DELETE FROM audit.{t} WHERE file_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
    finally:
        con.close()
    for p in landed:
        p.unlink()
    return bool(ids or landed)


def stage_incremental(size: str, d: dict[str, Path]) -> dict:
    from ccq.ingest.landing import changed_days
    from ccq.settings import Paths

    day = END.isoformat()
    out: dict = {"day": day}
    _env(d["home"], clock(END))
    if _unload_day(d, day):
        # A rerun: back to N days with a full build first (not timed).
        t0 = time.perf_counter()
        _build(d, full_refresh=True)
        out["reset_seconds"] = round(time.perf_counter() - t0, 2)
    _env(d["home"], clock(END + timedelta(days=1)))
    paths = Paths(d["home"]).ensure()
    _copy_to_landing(_landing_sources(d, day=day), d)
    days = changed_days(paths)
    build = _build(d, full_refresh=False, days=days)
    load_seconds = build["steps"].get("raw_extracts", 0.0)
    out.update({"seconds": build["seconds"], "load_seconds": round(load_seconds, 2),
                "load_steps": {"raw_extracts": load_seconds}, "days": days, "rows_loaded": build["rows_loaded"],
                "build_seconds": round(build["seconds"] - load_seconds, 2), "build": build})
    return out


STAGE_FUNCS = {"generate": stage_generate, "load": stage_load, "validate": stage_validate, "build": stage_build,
               "incremental": stage_incremental, "queries": stage_queries, "floor": stage_floor}


def child_main(size: str, stage: str, out: Path) -> int:
    d = size_dirs(out, size)
    t0 = time.perf_counter()
    figures = STAGE_FUNCS[stage](size, d)
    figures.setdefault("seconds", round(time.perf_counter() - t0, 2))
    (d["stages"] / f"{stage}.child.json").write_text(json.dumps(figures, indent=1, default=str))
    return 0


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("/tmp/ccq_bench"))
    ap.add_argument("--sizes", default="S,M,L", help="comma-separated, of S, M, L")
    ap.add_argument("--stages", default="", help="comma-separated stages to (re)run even if done; default: all not done yet")
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--only", default="", help="comma-separated stages: run no others (e.g. --only generate)")
    ap.add_argument("--report-only", action="store_true", help="only rewrite the report from the stages done")
    ap.add_argument("--child", nargs=2, metavar=("SIZE", "STAGE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child_main(args.child[0], args.child[1], args.out)

    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    forced = [s.strip() for s in args.stages.split(",") if s.strip()]
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    bad = [s for s in sizes if s not in SIZES] + [s for s in forced + only if s not in STAGES]
    if bad:
        ap.error(f"unknown size or stage: {', '.join(bad)}")
    failures = 0
    if not args.report_only:
        for size in sizes:
            d = size_dirs(args.out, size)
            d["stages"].mkdir(parents=True, exist_ok=True)
            for i, stage in enumerate(STAGES):
                if only and stage not in only:
                    continue
                done = d["stages"] / f"{stage}.json"
                if done.exists() and stage not in forced and not (stage == "generate" and not _source_complete(d)):
                    continue
                if stage == "load":
                    # A fresh warehouse: what was measured on the old one no longer holds.
                    for later in STAGES[i + 1:]:
                        (d["stages"] / f"{later}.json").unlink(missing_ok=True)
                print(f"[{datetime.now():%H:%M:%S}] {size} {stage} ... (load {load_average()})", flush=True)
                meta = run_child(["--out", str(args.out), "--child", size, stage], d["base"] / "benchmark.log")
                child = d["stages"] / f"{stage}.child.json"
                if meta["returncode"] != 0 or not child.exists():
                    # The later stages of this size need this one; the next size does not.
                    print(f"  FAILED (exit {meta['returncode']}); see {d['base'] / 'benchmark.log'}", flush=True)
                    failures += 1
                    break
                figures = {**json.loads(child.read_text()), **meta}
                child.unlink()
                done.write_text(json.dumps(figures, indent=1, default=str))
                print(f"  {stage}: {figures.get('seconds')} s, wall {meta['wall_seconds']} s, "
                      f"peak {meta['peak_rss_mb']} MB", flush=True)
                write_report(args.out, args.results)
    write_report(args.out, args.results)
    print(f"report: {args.results / 'scale_benchmark.md'}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
