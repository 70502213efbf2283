"""The query stages of the scale benchmark, run in its child process: `queries` (every query
function of app/data.py on the published snapshot, p50/p95 per function and per app page) and
`floor` (the hand-written DuckDB query the build is compared with)."""
from __future__ import annotations

import ast
import os
import statistics
import time
from datetime import timedelta
from pathlib import Path

from scale_config import ROOT


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
