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
import ast
import glob
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The year ends the day before the clock of the base demo, so no date is in the future.
END = date(2026, 11, 25)  # the incremental day; the full load covers the days before it
SIZES = {
    "S": {"days": 31, "agents": 50, "queues": 5},
    "M": {"days": 365, "agents": 200, "queues": 5},
    "L": {"days": 365, "agents": 1000, "queues": 5},
}
STAGES = ["generate", "load", "validate", "build", "incremental", "queries", "floor"]
TARGETS = {  # issue 8, on L
    "full_build_seconds": 300,
    "incremental_seconds": 20,
    "peak_rss_mb": 8192,
    "page_p95_ms": 300,
    "build_floor_ratio": 5,
}
NICE = 10


# ---------------------------------------------------------------- layout


def size_dirs(out: Path, size: str) -> dict[str, Path]:
    base = out / size
    return {"base": base, "source": base / "source", "home": base / "home", "stages": base / "stages"}


def start_date(size: str) -> date:
    return END - timedelta(days=SIZES[size]["days"])


def clock(day_after: date) -> str:
    """CCQ_NOW for a warehouse whose last extract day is the day before `day_after`."""
    return f"{day_after.isoformat()}T06:00:00"


def extract_day(p: Path) -> str:
    return p.stem.rsplit("_", 1)[1]


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


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_child(args: list[str], log: Path) -> dict:
    """Run a stage in a niced child process; wall time, peak RSS of its tree, load averages."""
    t0 = time.perf_counter()
    before = load_average()
    peak = 0
    samples: list[float] = []
    with log.open("a", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, __file__, *args], stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=lambda: os.nice(NICE), cwd=ROOT)
        stop = threading.Event()

        def sample():
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, tree_rss_kb(proc.pid))
                samples.append(os.getloadavg()[0])
                stop.wait(0.2)

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        # wait4: the CPU time of the child and of every descendant it waited for (dbt), which,
        # unlike wall time, does not depend on what else the shared machine is doing.
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = rc = os.waitstatus_to_exitcode(status)
        stop.set()
        t.join()
    return {"returncode": rc, "wall_seconds": round(time.perf_counter() - t0, 2),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2), "peak_rss_mb": round(peak / 1024),
            "load_before": before, "load_after": load_average(),
            "load1_mean": round(statistics.fmean(samples), 2) if samples else None}


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
    """A fresh home with the first N days, loaded file by file as raw_extracts does."""
    import duckdb

    from ccq.ingest.landing import FILE_NAME, landing_files
    from ccq.ingest.loader import ensure_warehouse, load_file
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
        for p in files:
            r = load_file(con, p)
            rows += r.rows_loaded
            quarantined += r.rows_quarantined
            table = FILE_NAME.match(p.name).group("table")
            per_table[table] = per_table.get(table, 0.0) + r.seconds
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
            for day, results in per_day.items():
                record_suite_results(con, run_id, results, [table_name], date.fromisoformat(day))
                failed += [r.summary() for r in results if r.critical_failed]
            recording += time.perf_counter() - t2
            per_table[table_name] = round(time.perf_counter() - t1, 2)
    finally:
        con.close()
    return {"seconds": round(time.perf_counter() - t0, 2), "recording_seconds": round(recording, 2),
            "seconds_per_table": dict(sorted(per_table.items(), key=lambda kv: -kv[1])),
            "critical_failures": failed[:20]}


def _instance(d: dict[str, Path]):
    from dagster import DagsterInstance

    return DagsterInstance.local_temp(str(d["home"] / "dagster"))


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


def _dbt_nodes(run_id: str, top: int = 15) -> dict:
    """The slowest dbt nodes of a run (dagster-dbt writes each invocation's artefacts under
    dbt_project/target/<op>-<run id prefix>-*)."""
    from ccq.settings import DBT_PROJECT_DIR

    nodes = []
    for rr in glob.glob(str(DBT_PROJECT_DIR / "target" / f"*-{run_id[:7]}-*" / "run_results.json")):
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
            "dbt": _dbt_nodes(info["run_id"]), "kpi_rows": info["kpi_rows"], "certified_rows": info["certified_rows"],
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


# ---------------------------------------------------------------- app queries


def app_pages() -> dict[str, list[str]]:
    """Page -> the app.data functions its source calls (directly, or through app/filters.py
    for the sidebar). The shell (streamlit_app.py) runs on every page."""
    app = ROOT / "app"

    def calls(path: Path) -> set[str]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        return {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                and isinstance(n.value, ast.Name) and n.value.id == "data"}

    shell = calls(app / "streamlit_app.py")
    shared = calls(app / "filters.py") if (app / "filters.py").exists() else set()
    pages = {}
    for view in sorted((app / "views").glob("*.py")):
        if view.name.startswith("_"):
            continue
        src = view.read_text(encoding="utf-8")
        used = calls(view) | shell | (shared if "filters." in src else set())
        pages[view.stem] = sorted(used)
    return pages


def stage_queries(size: str, d: dict[str, Path], repeat: int = 30, budget: float = 20.0) -> dict:
    import inspect
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    os.environ["CCQ_HOME"] = str(d["home"])
    import duckdb

    from app import data
    from ccq.publish import current_snapshot
    from ccq.settings import Paths

    snap = current_snapshot(Paths(d["home"]))
    if snap is None:
        raise RuntimeError("nothing published")
    path = str(snap)
    cached = {n: f for n, f in vars(data).items() if hasattr(f, "clear") and hasattr(f, "__wrapped__")}
    plain = {n: f for n, f in vars(data).items() if inspect.isfunction(f) and f.__module__ == data.__name__}
    functions = {**plain, **cached}

    def clear_all():
        # The data caches, not the database handle (a st.cache_resource, `_database`): the app
        # opens a snapshot once and keeps it, so a page after a publish pays that once, not per query.
        for name, f in cached.items():
            if not name.startswith("_"):
                f.clear()

    # Argument values by parameter name, taken from the snapshot.
    with duckdb.connect(path, read_only=True) as con:
        def one(sql, default=None):
            try:
                r = con.execute(sql).fetchone()
                return r[0] if r else default
            except duckdb.Error:
                return default
        queue = one("SELECT queue_id FROM reference.queues ORDER BY queue_id")
        kpi = one("SELECT kpi FROM reference.kpi_definitions")
        agent = one("SELECT agent_id FROM marts.kpi_values WHERE scope_type = 'agent' LIMIT 1")
        latest = {g: one(f"SELECT max(period_start) FROM marts.kpi_values WHERE grain = '{g}'") for g in ("day", "week", "month")}
    from app.fmt import period_key

    kpis = []
    with duckdb.connect(path, read_only=True) as con:
        try:
            kpis = [k for (k,) in con.execute(
                "SELECT kpi FROM marts.kpi_values WHERE grain = 'day' AND scope_type = 'all' GROUP BY kpi ORDER BY kpi").fetchall()]
            pareto = one("SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' "
                         "AND table_name LIKE '%pareto%' ORDER BY 1")
        except duckdb.Error:
            pareto = None
    interval_kpis = []
    if "interval_kpis" in functions:
        try:
            interval_kpis = list(functions["interval_kpis"](path))
        except Exception:
            interval_kpis = []
    last_day = latest["day"].date() if hasattr(latest["day"], "date") else latest["day"]
    # A value for every parameter name the app's query functions use; None is a value (e.g. all
    # months). A function with a parameter not named here is reported as skipped.
    pool = {"path": path, "grain": "day", "period": period_key(latest["day"]) if latest["day"] else None,
            "scope_type": "all", "scope_id": "*", "queue_id": queue, "queue": None, "site": None,
            "kpi": (interval_kpis or kpis or [kpi])[0], "kpis": tuple(kpis[:5]), "lang": "en", "language": "en",
            "agent_id": agent, "snapshot": path, "n": 8, "table": pareto, "month": None,
            "kpi_x": kpis[0] if kpis else kpi, "kpi_y": kpis[1] if len(kpis) > 1 else kpi,
            "start": last_day - timedelta(days=6) if last_day else None, "end": last_day, "until": last_day}
    skip = {"parse_month", "period_bounds"}  # pure helpers, no query

    results: dict[str, dict] = {}
    used_args: dict[str, list] = {}
    for name, f in sorted(functions.items()):
        if name.startswith("_") or name in skip:
            continue
        target = f.__wrapped__ if name in cached else f
        try:
            sig = inspect.signature(target)
        except (TypeError, ValueError):
            continue
        if name in ("snapshot", "publish_dir"):
            args: list | None = []
        else:
            args = []
            for p in sig.parameters.values():
                if p.name in pool:
                    args.append(pool[p.name])
                elif p.default is not inspect.Parameter.empty:
                    break
                else:
                    args = None
                    results[name] = {"skipped": f"no value for parameter {p.name!r}"}
                    break
        if args is None:
            continue
        used_args[name] = args
        times: list[float] = []
        err = None
        t_end = time.perf_counter() + budget
        for _ in range(repeat):
            clear_all()
            t0 = time.perf_counter()
            try:
                f(*args)
            except Exception as exc:  # report it, measure the rest
                err = f"{type(exc).__name__}: {exc}"[:300]
                break
            times.append((time.perf_counter() - t0) * 1000)
            if time.perf_counter() > t_end:
                break
        results[name] = _pcts(times) | ({"error": err} if err else {}) | {"args": [str(a) for a in args[1:]]}

    pages = {}
    for page, used in app_pages().items():
        per_iter: list[float] = []
        measured = [u for u in used if u in results and "p50_ms" in results[u]]
        for _ in range(min(repeat, 20)):
            clear_all()
            t0 = time.perf_counter()
            for u in measured:
                functions[u](*used_args[u])
            per_iter.append((time.perf_counter() - t0) * 1000)
        pages[page] = {"functions": used, "measured": measured, **_pcts(per_iter)}
    return {"snapshot": path, "snapshot_bytes": snap.stat().st_size, "functions": results, "pages": pages}


def _pcts(times: list[float]) -> dict:
    if not times:
        return {"n": 0}
    s = sorted(times)
    p95 = s[min(len(s) - 1, max(0, round(0.95 * len(s)) - 1))]
    return {"n": len(s), "p50_ms": round(statistics.median(s), 1), "p95_ms": round(p95, 1), "max_ms": round(s[-1], 1)}


# ---------------------------------------------------------------- floor


# Daily queue KPIs straight from the raw events, written by hand for speed: one pass to keep the
# latest delivery of each event, one aggregation per queue leg, one per local day and queue.
FLOOR_SQL = """
with ev as (
    select contact_id, queue_leg, queue_id, upper(trim(event_type)) as t, event_at
    from raw.acd_queue_events
    qualify row_number() over (partition by event_id order by _loaded_at desc, _line_no desc) = 1
),
legs as (
    select contact_id, queue_leg,
           coalesce(max(queue_id) filter (where t = 'ENTERQUEUE'), max(queue_id)) as queue_id,
           min(event_at) filter (where t = 'ENTERQUEUE') as entered_at,
           min(event_at) filter (where t = 'CONNECT') as connected_at,
           min(event_at) filter (where t = 'ABANDON') as abandoned_at,
           min(event_at) filter (where t = 'EXITTIMEOUT') as exited_at,
           min(event_at) filter (where t in ('COMPLETE', 'TRANSFER')) as ended_at,
           min(event_at) filter (where t = 'ACWEND') as acw_ended_at,
           sum(case t when 'UNHOLD' then epoch(event_at) when 'HOLD' then -epoch(event_at) else 0 end) as hold_balance,
           count(*) filter (where t = 'HOLD') - count(*) filter (where t = 'UNHOLD') as open_holds
    from ev group by all
),
m as (
    select l.*, p.sl_threshold_seconds as sl_t, p.short_abandon_seconds as short_t,
           cast(timezone(s.time_zone, l.entered_at at time zone 'UTC') as date) as day_local,
           epoch(coalesce(connected_at, abandoned_at, exited_at) - entered_at) as wait,
           connected_at is not null as answered,
           connected_at is null and abandoned_at is not null as abandoned,
           connected_at is not null and ended_at is not null as handled
    from legs l
    join main_reference.queues q using (queue_id)
    join main_reference.sites s on s.site_id = q.site_id
    join main_reference.queue_parameters p on p.queue_id = l.queue_id
         and cast(timezone(s.time_zone, l.entered_at at time zone 'UTC') as date) between p.effective_from and p.effective_to
    where l.entered_at is not null
)
select day_local, queue_id,
       count(*) as offered,
       count(*) filter (where answered) as answered,
       count(*) filter (where abandoned) as abandoned,
       count(*) filter (where answered and wait <= sl_t)
         / nullif(count(*) filter (where answered or abandoned) - count(*) filter (where abandoned and wait < short_t), 0)
         as service_level,
       avg(wait) filter (where answered) as asa_seconds,
       avg(epoch(coalesce(acw_ended_at, ended_at) - connected_at)) filter (where handled) as aht_seconds
from m group by all order by all
"""


def stage_floor(size: str, d: dict[str, Path], repeat: int = 3) -> dict:
    import duckdb

    wh = d["home"] / "warehouse" / "ccq.duckdb"
    con = duckdb.connect(str(wh), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        schemas = {s for (s,) in con.execute("SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database()").fetchall()}
        ref = "main_reference" if "main_reference" in schemas else "reference"
        sql = FLOOR_SQL.replace("main_reference.", f"{ref}.")
        times, rows = [], 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            rows = len(con.execute(sql).fetchall())
            times.append(time.perf_counter() - t0)
        events = con.execute("SELECT count(*) FROM raw.acd_queue_events").fetchone()[0]
    finally:
        con.close()
    return {"seconds": round(min(times), 2), "seconds_all": [round(t, 2) for t in times], "result_rows": rows,
            "events": events, "sql": FLOOR_SQL.strip()}


STAGE_FUNCS = {"generate": stage_generate, "load": stage_load, "validate": stage_validate, "build": stage_build,
               "incremental": stage_incremental, "queries": stage_queries, "floor": stage_floor}


def child_main(size: str, stage: str, out: Path) -> int:
    d = size_dirs(out, size)
    t0 = time.perf_counter()
    figures = STAGE_FUNCS[stage](size, d)
    figures.setdefault("seconds", round(time.perf_counter() - t0, 2))
    (d["stages"] / f"{stage}.child.json").write_text(json.dumps(figures, indent=1, default=str))
    return 0


# ---------------------------------------------------------------- report


def gather(out: Path, sizes: list[str]) -> dict:
    report: dict = {"measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
                                "load_now": load_average()},
                    "targets_on_L": TARGETS, "sizes": {}}
    for size in sizes:
        d = size_dirs(out, size)
        stages = {}
        for stage in STAGES:
            f = d["stages"] / f"{stage}.json"
            if f.exists():
                stages[stage] = json.loads(f.read_text())
        if stages:
            report["sizes"][size] = {"config": {**SIZES[size], "start": start_date(size).isoformat(),
                                                "end": (END - timedelta(days=1)).isoformat(), "incremental_day": END.isoformat()},
                                     "stages": stages, "verdict": verdict(stages)}
    return report


def verdict(st: dict) -> dict:
    v: dict = {}
    b = st.get("build", {})
    if "seconds" in b:
        v["full_build_seconds"] = b["seconds"]
        v["full_build_dbt_seconds"] = b.get("dbt_seconds")
    if "seconds" in st.get("incremental", {}):
        v["incremental_seconds"] = st["incremental"]["seconds"]
    peaks = [s.get("peak_rss_mb", 0) for k, s in st.items() if k != "generate"]
    if peaks:
        v["peak_rss_mb"] = max(peaks)
    pages = st.get("queries", {}).get("pages", {})
    if pages:
        v["page_p95_ms"] = max(p.get("p95_ms", 0) for p in pages.values())
    if "seconds" in b and "seconds" in st.get("floor", {}) and st["floor"]["seconds"] > 0:
        v["build_floor_ratio"] = round(b["seconds"] / st["floor"]["seconds"], 1)
        if b.get("dbt_seconds"):
            v["dbt_floor_ratio"] = round(b["dbt_seconds"] / st["floor"]["seconds"], 1)
    v["met"] = {k: v[k] <= TARGETS[k] for k in TARGETS if k in v}
    return v


def _cpu(stage: dict) -> str:
    return f"{stage['cpu_seconds']:,.0f} s" if stage.get("cpu_seconds") is not None else "-"


def _mb(n) -> str:
    return f"{n / 1e6:,.0f} MB" if n else "-"


def markdown(rep: dict) -> str:
    m = rep["machine"]
    lines = ["# Scale benchmark (issue 8)", "",
             f"Measured {rep['measured_at']} on {m['cpus']} CPUs, {m['memory_gb']} GB, Python {m['python']}; "
             "every stage in a child process at nice 10, while other work shared the machine "
             "(load averages below). Written by `benchmarks/scale_benchmark.py`; figures also in "
             "`scale_benchmark.json`.", "",
             "Targets (on L): full build < 5 min, one-day incremental < 20 s, peak memory < 8 GB, "
             "app page p95 < 300 ms, full build <= 5x the hand-written floor query.", ""]
    sizes = rep["sizes"]
    if not sizes:
        return "\n".join(lines + ["No figures yet."])
    names = list(sizes)
    lines += ["## Summary", "", "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]

    def row(label, fn):
        vals = []
        for s in names:
            try:
                vals.append(fn(sizes[s]))
            except (KeyError, TypeError, ZeroDivisionError):
                vals.append("-")
        lines.append(f"| {label} | " + " | ".join(vals) + " |")

    st = lambda s, k: s["stages"][k]  # noqa: E731
    row("days x agents", lambda s: f"{s['config']['days']} x {s['config']['agents']}")
    row("calls", lambda s: f"{st(s, 'generate')['calls']:,}")
    row("raw rows / ACD events", lambda s: f"{st(s, 'generate')['rows_total']:,} / {st(s, 'generate')['rows']['acd_queue_events']:,}")
    row("CSV", lambda s: _mb(st(s, "generate")["csv_bytes"]))
    row("generation", lambda s: f"{st(s, 'generate')['wall_seconds']:,.0f} s")
    row("load", lambda s: f"{st(s, 'load')['seconds']:,.0f} s, CPU {_cpu(st(s, 'load'))} "
        f"({st(s, 'load')['rows_per_second']:,} rows/s)")
    row("validation (raw suites)", lambda s: f"{st(s, 'validate')['seconds']:,.0f} s, CPU {_cpu(st(s, 'validate'))}")
    row("full build (build_and_publish)", lambda s: f"{st(s, 'build')['seconds']:,.0f} s, CPU {_cpu(st(s, 'build'))}")
    row("  of which dbt", lambda s: f"{st(s, 'build')['dbt_seconds']:,.0f} s")
    row("one-day incremental (load + build)", lambda s: f"{st(s, 'incremental')['seconds']:,.1f} s "
        f"({st(s, 'incremental')['load_seconds']:,.1f} + {st(s, 'incremental')['build_seconds']:,.1f})")
    row("mean load average (1 min) during the stages", lambda s: ", ".join(
        f"{k} {v['load1_mean']}" for k, v in s["stages"].items() if v.get("load1_mean") is not None and k != "generate"))
    row("floor query", lambda s: f"{st(s, 'floor')['seconds']:,.2f} s")
    row("full build / floor", lambda s: f"{s['verdict']['build_floor_ratio']:,.0f}x (dbt only {s['verdict']['dbt_floor_ratio']:,.0f}x)")
    row("worst page p95", lambda s: f"{s['verdict']['page_p95_ms']:,.0f} ms")
    row("peak RSS (process tree)", lambda s: f"{s['verdict']['peak_rss_mb']:,} MB")
    row("warehouse", lambda s: _mb(st(s, "incremental")["build"]["warehouse_bytes"] if "incremental" in s["stages"]
                                   else st(s, "build")["warehouse_bytes"]))
    row("snapshot", lambda s: _mb(st(s, "build")["snapshot_bytes"]))
    row("targets (L's, applied to each size)", lambda s: ", ".join(f"{k} {'yes' if ok else '**NO**'}" for k, ok in s["verdict"]["met"].items()))
    lines.append("")

    for s in names:
        sz = sizes[s]
        lines += [f"## {s}: {sz['config']['days']} days x {sz['config']['agents']} agents "
                  f"({sz['config']['start']} .. {sz['config']['end']}, incremental {sz['config']['incremental_day']})", "",
                  "| stage | seconds (wall) | CPU seconds | peak RSS | load avg before -> after (mean) |", "|---|---|---|---|---|"]
        for k, v in sz["stages"].items():
            lines.append(f"| {k} | {v.get('wall_seconds', '-')} | {v.get('cpu_seconds', '-')} | {v.get('peak_rss_mb', '-')} MB | "
                         f"{v.get('load_before', ['-'])[0]} -> {v.get('load_after', ['-'])[0]} ({v.get('load1_mean', '-')}) |")
        lines.append("")
        if "load" in sz["stages"]:
            top = list(sz["stages"]["load"]["seconds_per_table"].items())[:5]
            lines += ["Load, slowest tables: " + ", ".join(f"{t} {x:,.1f} s" for t, x in top), ""]
        if "validate" in sz["stages"]:
            top = list(sz["stages"]["validate"]["seconds_per_table"].items())[:5]
            lines += ["Validation, slowest tables: " + ", ".join(f"{t} {x:,.1f} s" for t, x in top), ""]
        for key in ("build", "incremental"):
            b = sz["stages"].get(key)
            if not b:
                continue
            bb = b.get("build", b)
            lines += [f"{key.capitalize()}, Dagster steps: " + ", ".join(f"{k} {x:,.1f} s" for k, x in
                                                                  sorted(bb["steps"].items(), key=lambda kv: -kv[1])), ""]
            if key == "incremental":
                lines += ["Incremental load steps: " + ", ".join(f"{k} {x:,.1f} s" for k, x in b.get("load_steps", {}).items()), ""]
            slow = bb["dbt"]["slowest"][:8]
            lines += [f"{key.capitalize()}, slowest dbt nodes: " + ", ".join(
                f"{n['node'].split('.')[-1] if not n['node'].startswith('test.') else n['node'].split('.')[2][:50]} "
                f"{n['seconds']:,.1f} s" for n in slow), ""]
        q = sz["stages"].get("queries")
        if q:
            lines += ["| app query | p50 ms | p95 ms | n |", "|---|---|---|---|"]
            for fn, r in q["functions"].items():
                if "p50_ms" in r:
                    lines.append(f"| data.{fn}({', '.join(r.get('args', []))}) | {r['p50_ms']} | {r['p95_ms']} | {r['n']} |")
                else:
                    lines.append(f"| data.{fn} | - | - | {r.get('skipped') or r.get('error', '')} |")
            for page, r in q["pages"].items():
                lines.append(f"| page {page} ({', '.join(r['measured'])}) | {r.get('p50_ms', '-')} | {r.get('p95_ms', '-')} | {r['n']} |")
            lines.append("")
    return "\n".join(lines) + "\n"


def write_report(out: Path, results: Path) -> dict:
    rep = gather(out, list(SIZES))
    results.mkdir(parents=True, exist_ok=True)
    (results / "scale_benchmark.json").write_text(json.dumps(rep, indent=1, default=str) + "\n", encoding="utf-8")
    (results / "scale_benchmark.md").write_text(markdown(rep), encoding="utf-8")
    return rep


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
