"""Running the Dagster jobs in this process (what `ccq demo` and `ccq refresh` do), and what
the sensors, schedules and `ccq status` need to know about the landing folder and the runs.

Two runs, as in the Dagster UI: `load_extracts` over a range of extract-day partitions,
then `build_and_publish`. Both record their history in DAGSTER_HOME, so `dagster dev`
shows them.
"""
from __future__ import annotations

import os
import threading
import uuid
from contextlib import contextmanager, redirect_stdout
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import duckdb

from ccq.ingest.landing import changed_days, changed_files, skipped_landing
from ccq.settings import Paths

def definitions():
    """The Definitions, with the dbt manifest parsed first if it is missing or stale."""
    from orchestration.resources import prepare_manifest

    prepare_manifest()
    from orchestration.definitions import defs

    return defs


QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
PROGRESS_PREFIX = "progress: "


@contextmanager
def _progress(instance, run_id: str, progress: Callable[[str], None], every: float = 1.0):
    """Report step starts and ends, and the steps' own progress messages, while a run executes
    in this thread (Dagster wants the main thread for its signal handling)."""
    stop = threading.Event()
    started: dict[str, float] = {}

    def watch():
        seen = 0
        while True:
            finished = stop.wait(every)
            try:
                records = instance.all_logs(run_id)
            except Exception:  # the run is not stored yet
                records = []
            for rec in records[seen:]:
                ev = rec.dagster_event
                if ev is not None and ev.event_type_value == "STEP_START":
                    started[ev.step_key] = rec.timestamp
                    progress(f"  {ev.step_key} ...")
                elif ev is not None and ev.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
                    took = rec.timestamp - started.get(ev.step_key, rec.timestamp)
                    word = "done" if ev.event_type_value == "STEP_SUCCESS" else "FAILED"
                    progress(f"  {ev.step_key} {word} ({took:.1f}s)")
                elif ev is None and rec.user_message.startswith(PROGRESS_PREFIX):
                    progress("    " + rec.user_message[len(PROGRESS_PREFIX):])
            seen = len(records)
            if finished:
                return

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join(timeout=10)


def load_blocks(order: list[str], days: Iterable[str]) -> list[list[str]]:
    """The days to load as runs over consecutive partitions. Dynamic partitions keep the order
    they were added in, so a late day sits after later ones and a range from the first day to
    the last would cover other days (or, reversed, none): one run per unbroken stretch."""
    wanted = set(days)
    order = list(order) + sorted(wanted - set(order))  # new days are added in date order
    blocks: list[list[str]] = []
    previous = None
    for i, day in enumerate(order):
        if day not in wanted:
            continue
        if blocks and previous == i - 1:
            blocks[-1].append(day)
        else:
            blocks.append([day])
        previous = i
    return blocks


def range_tags(block: list[str]) -> dict[str, str]:
    return {"dagster/asset_partition_range_start": block[0], "dagster/asset_partition_range_end": block[-1]}


@contextmanager
def _logged(paths: Paths, job: str):
    """dagster-dbt echoes every dbt event on stdout; keep that in a log file, not the terminal."""
    log_dir = paths.home / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{job}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S%fZ')}.log"
    with log.open("w", encoding="utf-8") as f, redirect_stdout(f):
        yield log


# In-process runs carry the pid of their process, so a run whose process died (killed) can be
# told from one still going, and closed as failed (reap_interrupted_runs).
PID_TAG = "ccq/pid"
# Runs started by a sensor or schedule carry this tag; the chain sensor builds after them.
THEN_BUILD_TAG = "ccq/then_build"
FULL_REFRESH_TAG = "ccq/full_refresh"


def _run_tags(extra: dict | None = None) -> dict:
    return {PID_TAG: str(os.getpid()), "ccq/trigger": "cli", **(extra or {})}


def run_load(instance, paths: Paths, days: list[str], progress: Callable[[str], None] = print) -> dict:
    defs = definitions()
    from orchestration.partitions import extract_days

    days = sorted(days)
    known = instance.get_dynamic_partitions(extract_days.name)
    new = [d for d in days if d not in set(known)]
    if new:
        instance.add_dynamic_partitions(extract_days.name, new)
    job = defs.resolve_job_def("load_extracts")
    totals = {"rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "run_ids": []}
    for block in load_blocks(known, days):
        run_id = str(uuid.uuid4())
        with _logged(paths, "load_extracts"), _progress(instance, run_id, progress):
            result = job.execute_in_process(
                instance=instance,
                run_id=run_id,
                run_config=QUIET,
                tags=_run_tags(range_tags(block)),
                raise_on_error=True,
            )
        # A ranged run records one materialization per partition, all with the same metadata.
        per_asset = {m.materialization.asset_key: m.materialization.metadata for m in result.get_asset_materialization_events()}
        for md in per_asset.values():
            for k in ("rows_read", "rows_loaded", "rows_quarantined"):
                if k in md:
                    totals[k] += int(md[k].value)
        totals["run_ids"].append(result.run_id)
    totals["run_id"] = totals["run_ids"][-1] if totals["run_ids"] else None
    return totals


def build_run_config(full_refresh: bool = False) -> dict:
    config = dict(QUIET)
    if full_refresh:
        config["ops"] = {"warehouse_models": {"config": {"full_refresh": True}}}
    return config


def step_failures(events) -> list[str]:
    """'step: why' for every failed step among Dagster events; for a failed dbt build, the
    models that failed and their error (the Failure's metadata)."""
    out = []
    for e in events:
        if not e.is_step_failure:
            continue
        data = e.step_failure_data
        why = ""
        if data.user_failure_data is not None:
            md = data.user_failure_data.metadata or {}
            why = (data.user_failure_data.description or "").strip()
            if "failed" in md:
                why += ": " + str(md["failed"].value).strip()
        elif data.error is not None:
            why = data.error.message.strip()
        out.append(f"{e.step_key}: {why[:1500]}")
    return out


def run_build(instance, paths: Paths, progress: Callable[[str], None] = print,
              full_refresh: bool = False) -> tuple[bool, dict | str]:
    defs = definitions()

    job = defs.resolve_job_def("build_and_publish")
    run_id = str(uuid.uuid4())
    with _logged(paths, "build_and_publish") as log, _progress(instance, run_id, progress):
        result = job.execute_in_process(instance=instance, run_id=run_id, run_config=build_run_config(full_refresh),
                                        tags=_run_tags(), raise_on_error=False)
    if not result.success:
        failures = step_failures(result.all_events)
        return False, ("; ".join(failures) or "see the Dagster run log") + f" (dbt log: {log})"
    info: dict = {"run_id": result.run_id, "log": str(log)}
    for mat in result.get_asset_materialization_events():
        md = mat.materialization.metadata
        if "snapshot" in md:
            info["snapshot"] = md["snapshot"].value
        if "report" in md:
            info["report"] = md["report"].value
    con = duckdb.connect(info["snapshot"], read_only=True)
    try:
        info["kpi_rows"], info["certified_rows"] = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE certified) FROM marts.kpi_values"
        ).fetchone()
    finally:
        con.close()
    return True, info


# --- incremental models: when to rebuild from scratch -------------------------------------

# --- run history -------------------------------------------------------------------------

def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_interrupted_runs(instance) -> list[str]:
    """Close, as failed, the in-process runs whose process is gone (killed mid-run): Dagster
    cannot record their end itself. Runs launched by the daemon have no pid tag; Dagster's own
    run monitoring looks after those."""
    from dagster import DagsterRunStatus, RunsFilter

    reaped = []
    for run in instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING,
                                                             DagsterRunStatus.CANCELING])):
        pid = run.tags.get(PID_TAG)
        if pid and pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            instance.report_run_failed(run, f"interrupted: the process running it (pid {pid}) ended before the run did")
            reaped.append(run.run_id)
    return reaped


def run_failure_reasons(instance, run_id: str) -> list[str]:
    from dagster import DagsterEventType

    records = instance.all_logs(run_id, of_type={DagsterEventType.STEP_FAILURE, DagsterEventType.RUN_FAILURE})
    steps = step_failures([r.dagster_event for r in records if r.dagster_event.is_step_failure])
    if steps:
        return steps
    return [r.dagster_event.message or r.user_message for r in records if r.dagster_event.event_type == DagsterEventType.RUN_FAILURE]


def status(paths: Paths, instance, runs: int = 10) -> dict:
    """What `ccq status` shows: the last runs, what is certified up to when, what is waiting,
    and what failed with its reason. Reads the Dagster instance, the landing folder and the
    published snapshot, never the warehouse (a refresh may be writing it)."""
    from dagster import DagsterRunStatus

    from ccq.publish import current_snapshot, published_at

    out: dict = {"runs": [], "failures": [], "certified": [], "uncertified": [], "waiting": [], "unconfigured": []}
    for rec in instance.get_run_records(limit=runs):
        run = rec.dagster_run
        start = rec.start_time or rec.create_timestamp.timestamp()
        end = rec.end_time
        still = run.status in (DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.QUEUED)
        pid = run.tags.get(PID_TAG)
        if still and pid and pid.isdigit() and not _pid_alive(int(pid)):
            state = "INTERRUPTED"
        else:
            state = run.status.value
        out["runs"].append({
            "run_id": run.run_id, "job": run.job_name, "status": state,
            "started": datetime.fromtimestamp(start, timezone.utc),
            "seconds": (end - start) if end else None,
            "partitions": "..".join(dict.fromkeys(filter(None, (run.tags.get("dagster/asset_partition_range_start"),
                                                              run.tags.get("dagster/asset_partition_range_end"))))),
        })
        if run.status == DagsterRunStatus.FAILURE or state == "INTERRUPTED":
            reasons = run_failure_reasons(instance, run.run_id) if run.status == DagsterRunStatus.FAILURE else \
                [f"interrupted: process {pid} is gone; the next run closes it"]
            out["failures"].append({"run_id": run.run_id, "job": run.job_name, "reasons": reasons})

    snap = current_snapshot(paths)
    out["snapshot"] = str(snap) if snap else None
    out["published_at"] = published_at(paths)
    if snap is not None:
        con = duckdb.connect(str(snap), read_only=True)
        try:
            out["certified"] = con.execute(
                """SELECT kpi,
                          cast(max(period_start) FILTER (WHERE certified) AS date) AS certified_through,
                          cast(max(period_start) AS date) AS data_through,
                          count(*) FILTER (WHERE NOT certified) AS uncertified_days
                   FROM marts.kpi_values WHERE grain = 'day' AND scope_type = 'all'
                   GROUP BY kpi ORDER BY kpi""").fetchall()
            out["uncertified"] = con.execute(
                """SELECT grain, cast(period_start AS date) AS period, string_agg(DISTINCT certification_reason, '; ') AS reasons
                   FROM marts.kpi_values
                   WHERE grain IN ('day', 'week', 'month') AND scope_type = 'all' AND NOT certified
                   GROUP BY 1, 2 ORDER BY 2 DESC, 1""").fetchall()
            out["unconfigured"] = con.execute(
                """SELECT 'queue', queue_id, site_id, time_zone FROM marts.dim_queues WHERE NOT is_configured
                   UNION ALL
                   SELECT 'site', site_id, NULL, time_zone FROM marts.dim_sites WHERE NOT is_configured
                   ORDER BY 1, 2""").fetchall()
        finally:
            con.close()
    by_day: dict[str, list[str]] = {}
    for f in changed_files(paths, against="snapshot"):
        by_day.setdefault(f.day, []).append(f.file_id)
    out["waiting"] = sorted(by_day.items())
    out["skipped"] = skipped_landing(paths)
    return out


def run_once(home: Path, landing: Path, now: str) -> tuple[Paths, dict, bool, dict | str]:
    """One whole pipeline run on a fresh working folder, with its own Dagster instance: copy the
    extracts into its landing folder, pin the clock, load, build, certify, publish (tests and
    benchmarks)."""
    import shutil

    from dagster import DagsterInstance

    shutil.copytree(landing, home / "landing", dirs_exist_ok=True)
    os.environ["CCQ_HOME"] = str(home)
    os.environ["CCQ_NOW"] = now
    paths = Paths(home).ensure()
    instance = DagsterInstance.local_temp(str(home / "dagster"))
    load = run_load(instance, paths, changed_days(paths))
    ok, info = run_build(instance, paths)
    return paths, load, ok, info
