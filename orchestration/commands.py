"""What each `ccq` command does (orchestration/cli.py parses the command line and calls these).

Every command takes the parsed options as attributes of one namespace, so the command line and
the tests call them the same way.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from ccq.settings import APP_DIR, PROJECT_ROOT, Paths, ccq_home


_TERMINAL = sys.stdout  # runs redirect stdout (dbt's echo) to a log file; progress still goes here


def _say(msg: str) -> None:
    print(msg, file=_TERMINAL, flush=True)


def _use_home(args) -> Paths:
    home = ccq_home(args.home)
    # --home is CCQ_HOME for this process: the one setting the Dagster resources, the dbt profile (the
    # warehouse, the personal-data key) and the app read.
    os.environ["CCQ_HOME"] = str(home)
    paths = Paths(home).ensure()
    os.environ.setdefault("DAGSTER_HOME", str(paths.dagster_home))
    return paths


def cmd_generate(args) -> int:
    paths = _use_home(args)
    _generate(args, paths)
    return 0


def _generate(args, paths: Paths):
    from ccq.generator import DemoConfig, generate

    today = date.today()
    if args.start:
        start = date.fromisoformat(args.start)
        days = args.days or (today - start).days
    elif args.days:
        start, days = today - timedelta(days=args.days), args.days
    else:
        # From the first day of last month to yesterday: the scorecard then has a full month.
        start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        days = (today - start).days
    config = DemoConfig(start_date=start, days=days, agents=args.agents, queues=args.queues, seed=args.seed)
    _say(f"generating the demo centre: {days} days from {start}, {args.agents} agents, {args.queues} queues (seed {args.seed})")
    summary = generate(paths.landing, config, progress=lambda m: _say(f"  {m}"))
    calls = summary.rows.get("pbx_call_legs", 0)
    _say(f"  wrote {summary.files} files, {sum(summary.rows.values()):,} rows ({calls:,} call legs) in {summary.seconds:.1f}s")
    return summary


def _terminate_gracefully() -> None:
    """SIGTERM (a stop from a service manager, `kill`) ends a run as Ctrl+C does: Dagster
    stops dbt and records the run as ended; the published snapshot stays as it was."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def _run_pipeline(paths: Paths, days: list[str] | None = None, full_refresh: bool = False) -> bool:
    """Run the `refresh` job: load the given extract days (default: days with new or changed
    files), then build, validate, certify and publish. Returns True when a new snapshot was
    published, or when there was nothing to do."""
    from ccq.ingest.landing import changed_days, loaded_files, skipped_landing
    from orchestration.runs import instance as run_instance
    from orchestration.runs import reap_interrupted_runs, run_refresh

    _terminate_gracefully()
    instance = run_instance(os.environ["DAGSTER_HOME"])
    for run_id in reap_interrupted_runs(instance):
        _say(f"run {run_id} was interrupted (its process is gone): recorded as failed")
    if days is None:
        import duckdb

        try:
            days = changed_days(paths)
        except duckdb.IOException as e:  # another process (a daemon run) holds the warehouse
            _say(f"the warehouse is in use by another run; try again when it has finished ({e})")
            return False
    for skipped in skipped_landing(paths):
        _say(f"not loaded: {skipped}")
    if not days and not loaded_files(paths.warehouse):  # nothing new and nothing ever loaded: dbt has no raw schema
        _say(f"nothing to load: no extract files in the landing folder {paths.landing}, and none loaded before.\n"
             "  Extracts go there as <table>/<table>_<YYYY-MM-DD>.csv (e.g. acd_queue_events/acd_queue_events_2026-03-04.csv;\n"
             "  `ccq contract` lists the tables), or convert a system's own files with `ccq ingest --format FORMAT PATH...`;\n"
             "  `ccq demo` makes a demo centre.")
        return True  # not a failure: there is nothing to do
    t0 = time.perf_counter()
    if days:
        _say(f"refreshing: loading {len(days)} extract day(s) ({days[0]} .. {days[-1]}) with quarantine, reconciliation "
             "and raw suites, then building the warehouse with dbt, validating, certifying and publishing"
             + (" (full refresh)" if full_refresh else ""))
    else:
        _say("no new or changed extract files in the landing folder: building the warehouse with dbt, validating, "
             "certifying and publishing" + (" (full refresh)" if full_refresh else ""))
    ok, info = run_refresh(instance, paths, days, full_refresh=full_refresh, progress=_say)
    if not ok:
        _say(f"refresh failed, nothing published: {info}")
        return False
    if days:
        _say(f"  read {info['rows_read']:,} rows: {info['rows_loaded']:,} loaded, {info['rows_quarantined']:,} quarantined")
    _say(f"  published {info['snapshot']} ({time.perf_counter() - t0:.1f}s)")
    _say(f"  {info['kpi_rows']:,} KPI values, {info['certified_rows']:,} certified; validation report: {info['report']}")
    if "digests" in info:
        if info.get("digest_error"):
            sending = info["digest_error"]
        elif info.get("smtp"):
            sending = f"{info['digests_sent']} sent through {info['smtp']}"
        else:
            sending = "none sent (no mail server: set CCQ_SMTP_HOST to send them)"
        _say(f"  owners' digests: {info['digests']} written to {info['digest_folder']}; {sending}")
    return True


def cmd_ingest(args) -> int:
    """Convert files from a real system's format into contract extracts in the landing folder
    (every source line mapped or quarantined), then load and rebuild unless --no-refresh."""
    import duckdb

    from ccq.ingest.adapters import run_adapter

    paths = _use_home(args)
    sources = [Path(p) for p in args.paths]
    t0 = time.perf_counter()
    if args.format == "contract":
        # Contract files given directly: copy them into the landing folder under their own names.
        from ccq.ingest.adapters.registry import source_files
        from ccq.ingest.landing import FILE_NAME
        from ccq.ingest.lines import transcode_to_utf8

        n = 0
        for f in source_files(sources, ("*.csv",)):
            m = FILE_NAME.match(f.name)
            if not m:
                _say(f"skipped {f}: not named <table>_<YYYY-MM-DD>.csv")
                continue
            dest = paths.landing / m.group("table") / f.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            if args.encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
                shutil.copyfile(f, dest)
            else:  # the loader's transcoder: a value with bytes not valid in the encoding is quarantined at load
                transcode_to_utf8(f, args.encoding, dest.parent, out=dest)
            n += 1
        _say(f"copied {n} contract file(s) into {paths.landing}")
    else:
        con = duckdb.connect(str(paths.warehouse))
        try:
            from ccq.ingest import ensure_warehouse

            ensure_warehouse(con)
            result = run_adapter(con, args.format, sources, paths.landing, site_time_zone=args.time_zone,
                                 encoding=args.encoding, progress=lambda m: _say(f"  {m}"))
        finally:
            con.close()
        for src in result.sources:
            _say(f"  {src.path.name}: read {src.rows_read:,}, mapped {src.rows_mapped:,}, quarantined {src.rows_quarantined:,}")
        _say(f"wrote {len(result.files)} landing file(s): " + ", ".join(f"{t} {n:,} rows" for t, n in sorted(result.written.items()))
             + f" ({time.perf_counter() - t0:.1f}s)")
    if args.no_refresh:
        return 0
    return 0 if _run_pipeline(paths) else 1


def cmd_refresh(args) -> int:
    paths = _use_home(args)
    return 0 if _run_pipeline(paths, full_refresh=args.full_refresh) else 1


def cmd_backfill(args) -> int:
    """Load the extract days of a date range (their partitions), then build. Files whose
    bytes are already loaded are skipped by the loader; --full-refresh rebuilds every
    incremental model from scratch as well."""
    from ccq.ingest.landing import FILE_NAME, landing_files

    if args.start > args.end:
        raise UsageError(f"--from {args.start} is after --to {args.end}")
    paths = _use_home(args)
    first, last = date.fromisoformat(args.start), date.fromisoformat(args.end)
    days = sorted({m.group("day") for p in landing_files(paths.landing) if (m := FILE_NAME.match(p.name))
                   and first <= date.fromisoformat(m.group("day")) <= last})
    if not days:
        _say(f"no extract files for {first} .. {last} in {paths.landing}")
        return 1
    return 0 if _run_pipeline(paths, days=days, full_refresh=args.full_refresh) else 1


def cmd_status(args) -> int:
    from dagster import DagsterInstance
    from tabulate import tabulate

    from orchestration.status import status

    paths = _use_home(args)
    st = status(paths, DagsterInstance.get(), runs=args.runs)

    def when(t):
        return t.strftime("%Y-%m-%d %H:%M:%S UTC")

    print(f"Last runs (Dagster run history in {paths.dagster_home}):")
    if st["runs"]:
        print(tabulate([[r["job"], r["status"], when(r["started"]),
                         "" if r["seconds"] is None else f"{r['seconds']:.0f}s", r["days"], r["run_id"][:8]]
                        for r in st["runs"]], headers=["job", "status", "started", "took", "days", "run"],
                       tablefmt="simple"))
    else:
        print("  none yet")
    print()
    if st["snapshot"]:
        print(f"Published: {Path(st['snapshot']).name} at {st['published_at']} (what the app shows)")
        print(tabulate([[k, c or "never", d, n] for k, c, d, n in st["certified"]],
                       headers=["kpi (whole centre, by day)", "certified through", "data through", "uncertified days"],
                       tablefmt="simple"))
    else:
        print("Published: nothing yet")
    print()
    if st["waiting"]:
        print("Waiting (in the landing folder, not in the published snapshot yet):")
        for day, files in st["waiting"]:
            print(f"  {day}: {len(files)} file(s): {', '.join(f.split('/')[-1] for f in files[:4])}"
                  + (" ..." if len(files) > 4 else ""))
    else:
        print("Waiting: nothing (every landing file is in the published snapshot)")
    if st["skipped"]:
        print("Not loaded (in the landing folder, but never read), and why:")
        for skipped in st["skipped"]:
            print(f"  {skipped}")
    print()
    if st["failures"]:
        print("Failed runs:")
        for f in st["failures"]:
            print(f"  {f['job']} {f['run_id'][:8]}:")
            for reason in f["reasons"] or ["(no reason recorded)"]:
                print(f"    {reason}")
    else:
        print("Failed runs: none among the last runs")
    if st["unconfigured"]:
        print()
        print("Not configured in seeds/ (measured with defaults, published uncertified; "
              "`ccq configure --write-missing` adds them for review):")
        for kind, name, site, zone in st["unconfigured"]:
            print(f"  {kind} {name}" + (f" at site {site}" if site else "") + f" ({zone})")
    if st["uncertified"]:
        print()
        print("Uncertified periods (whole centre) and why:")
        for grain, period, reasons in st["uncertified"][: args.periods]:
            print(f"  {grain} {period}: {reasons}")
        if len(st["uncertified"]) > args.periods:
            print(f"  ... and {len(st['uncertified']) - args.periods} earlier period(s)")
    return 0


def cmd_configure(args) -> int:
    from tabulate import tabulate

    from ccq.publish import current_snapshot
    from ccq.reference import append_seed_rows, missing_rows
    from ccq.settings import SEEDS_DIR

    paths = _use_home(args)
    snap = current_snapshot(paths)
    if snap is None:
        raise UsageError("nothing published yet: run `ccq refresh` first, then configure what it found")
    missing = missing_rows(snap)
    if not missing:
        print("Every queue and site in the published data is configured in seeds/.")
        return 0
    for name, rows in missing.items():
        print(f"seeds/{name}.csv: {len(rows)} row(s) {'appended' if args.write_missing else 'missing'}")
        print(tabulate(rows, headers="keys", tablefmt="simple"))
        print()
        if args.write_missing:
            append_seed_rows(name, rows)
    if args.write_missing:
        print(f"Review the rows in {SEEDS_DIR} (names, Chinese names, call type, priority, country; the site and "
              "the definition parameters are what the warehouse used), then run `ccq refresh`: the seeds changed, "
              "so it rebuilds everything and certifies these queues and sites when their checks pass.")
    else:
        print("Run `ccq configure --write-missing` to append these rows to the seeds for review.")
    return 0


def cmd_demo(args) -> int:
    paths = _use_home(args)
    t0 = time.perf_counter()
    # A demo starts from scratch; the published snapshot stays until the new one replaces it.
    for stale in (paths.landing, paths.warehouse.parent):
        shutil.rmtree(stale, ignore_errors=True)
    paths.ensure()
    if args.dataset == "anonymous-bank":
        _ingest_anonymous_bank(paths)
    else:
        _generate(args, paths)
    if not _run_pipeline(paths):
        return 1
    _say(f"main job finished in {time.perf_counter() - t0:.1f}s (working data in {paths.home})")
    if args.no_app:
        return 0
    return cmd_app(args)


ANONYMOUS_BANK = PROJECT_ROOT / "data" / "anonymous_bank" / "february_1999.txt"


def _ingest_anonymous_bank(paths: Paths) -> None:
    import duckdb

    from ccq.ingest import ensure_warehouse
    from ccq.ingest.adapters import run_adapter

    _say(f"mapping the Anonymous Bank records ({ANONYMOUS_BANK.name}, Technion SEE laboratory) onto the raw contract")
    con = duckdb.connect(str(paths.warehouse))
    try:
        ensure_warehouse(con)
        result = run_adapter(con, "anonymous-bank", [ANONYMOUS_BANK], paths.landing, progress=lambda m: _say(f"  {m}"))
    finally:
        con.close()
    for src in result.sources:
        _say(f"  {src.path.name}: read {src.rows_read:,}, mapped {src.rows_mapped:,}, quarantined {src.rows_quarantined:,}")


def app_command(port: int, *extra: str) -> list[str]:
    """How the app is served (`ccq app`, and the browser test the same way)."""
    return [sys.executable, "-m", "streamlit", "run", str(APP_DIR / "streamlit_app.py"),
            "--server.port", str(port), "--server.headless", "true",
            # nothing leaves the machine: no usage statistics
            "--browser.gatherUsageStats", "false",
            # A reader's app: no Deploy button or developer menu.
            "--client.toolbarMode", "viewer", *extra]


def cmd_app(args) -> int:
    paths = _use_home(args)
    cmd = app_command(args.port)
    _say(f"starting the app on http://localhost:{args.port} (reading {paths.publish_dir}); Ctrl+C stops it")
    try:
        return subprocess.call(cmd, env={**os.environ, "CCQ_HOME": str(paths.home)})
    except KeyboardInterrupt:
        return 0


def cmd_dagster(args) -> int:
    paths = _use_home(args)
    os.environ["DAGSTER_HOME"] = str(paths.dagster_home)
    dagster = Path(sys.executable).parent / "dagster"
    _say(f"starting Dagster's UI on http://localhost:{args.port} (run history in {paths.dagster_home})")
    try:
        return subprocess.call([str(dagster), "dev", "-p", str(args.port)], cwd=str(PROJECT_ROOT))
    except KeyboardInterrupt:
        return 0


SCOPE_ORDER = ("all", "site", "queue", "call_type", "direction", "team", "supervisor", "agent")


def cmd_kpis(args) -> int:
    from ccq.export import write_csv
    from ccq.publish import connect_snapshot

    if args.raw and args.format != "csv":
        raise UsageError("--raw goes with --format csv only")
    paths = _use_home(args)
    try:
        con = connect_snapshot(paths)
    except FileNotFoundError as e:
        _say(str(e))
        return 1
    scope = "*" if args.scope == "all" else args.scope
    # A table is for reading: the whole centre unless asked otherwise. A CSV is for exporting: every scope.
    scope_type = args.scope_type or (None if scope or args.format == "csv" else "all")
    where, params = ["v.grain = ?"], [args.grain]
    for column, value in (("v.kpi", args.kpi), ("v.scope_id", scope), ("v.scope_type", scope_type)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if args.period:
        where.append("cast(v.period_start as date) = cast(? as date)")
        params.append(args.period)
    daily = args.grain in ("day", "week", "month")
    try:
        df = con.execute(
            f"""SELECT v.kpi, {'cast(v.period_start as date)' if daily else 'v.period_start'} AS period_start,
                       v.scope_type, v.scope_id, v.numerator, v.denominator,
                       v.value, v.unit, v.target, v.status, v.certified, v.certification_reason,
                       c.label, v.direction, v.period_start - v.period_start_utc AS utc_offset
                FROM marts.kpi_values v LEFT JOIN marts.kpi_catalogue c USING (kpi)
                WHERE {' AND '.join(where)}
                ORDER BY v.period_start, list_position(?, v.scope_type), v.scope_id, c.display_order, v.kpi""",
            [*params, list(SCOPE_ORDER)],
        ).df()
        if df.empty:
            scopes = [r[0] for r in con.execute(
                "SELECT DISTINCT scope_type FROM marts.kpi_values WHERE grain = ? ORDER BY 1", [args.grain]).fetchall()]
    finally:
        con.close()
    if df.empty:
        asked = ", ".join(f"{k} {v}" for k, v in (("--kpi", args.kpi), ("--scope", args.scope),
                                                   ("--scope-type", scope_type), ("--period", args.period)) if v)
        _say(f"no published KPI values at grain {args.grain}" + (f" for {asked}" if asked else "")
             + (f"; scope types at this grain: {', '.join(scopes)} (the whole centre is --scope all)" if scopes else ""))
        return 1
    if args.format == "csv":  # spreadsheet-safe unless --raw (ccq.export)
        write_csv(df.drop(columns=["label", "direction", "utc_offset"]), sys.stdout, raw=args.raw)
    else:
        print(_kpi_table(df, daily))
    return 0


def _first_reason(reasons) -> str:
    from ccq.display import is_missing

    if is_missing(reasons) or not str(reasons).strip():
        return "no"
    each = [r.strip() for r in str(reasons).split(";") if r.strip()]
    return f"no: {each[0]}" + (f" (and {len(each) - 1} more: --format csv has them all)" if len(each) > 1 else "")


def _kpi_table(df, daily: bool) -> str:
    """KPI values as a manager reads them: labels, units and words, the local time with its UTC
    offset (a fall-back day has two 01:30s)."""
    from tabulate import tabulate

    from ccq.display import format_value, is_missing

    def period(r) -> str:
        if daily:
            return f"{r.period_start:%Y-%m-%d}"
        minutes = int(r.utc_offset.total_seconds() // 60)
        return f"{r.period_start:%Y-%m-%d %H:%M} {'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

    def target(r) -> str:
        if is_missing(r.target):
            return ""
        return ("≤ " if r.direction == "lower_is_better" else "≥ ") + format_value(r.target, r.unit)

    rows = [(r.label if not is_missing(r.label) else r.kpi, period(r),
             "whole centre" if r.scope_type == "all" else f"{r.scope_type.replace('_', ' ')} {r.scope_id}",
             format_value(r.value, r.unit), target(r),
             "" if is_missing(r.status) else str(r.status).replace("_", " "),
             "yes" if not is_missing(r.certified) and bool(r.certified) else _first_reason(r.certification_reason))
            for r in df.itertuples(index=False)]
    return tabulate(rows, headers=["KPI", "Period" if daily else "Period (local time, UTC offset)", "Scope", "Value",
                                   "Target", "Status", "Certified"], tablefmt="simple", disable_numparse=True)


def cmd_contract(args) -> int:
    from ccq.contract import render_markdown

    text = render_markdown()
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
        _say(f"wrote {args.write}")
    else:
        print(text)
    return 0


class UsageError(Exception):
    """A bad combination of options found by a command (e.g. --from after --to): one line, exit 2."""
