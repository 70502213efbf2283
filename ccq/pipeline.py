"""Running the Dagster jobs in this process (what `ccq demo` and `ccq refresh` do).

Two runs, as in the Dagster UI: `load_extracts` over a range of extract-day partitions,
then `build_and_publish`. Both record their history in DAGSTER_HOME, so `dagster dev`
shows them.
"""
from __future__ import annotations

import hashlib
import threading
import uuid
from contextlib import contextmanager, redirect_stdout
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb

from ccq.ingest.loader import FILE_NAME, landing_files
from ccq.settings import Paths

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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def changed_days(paths: Paths) -> list[str]:
    """Extract days with a landing file that is not loaded yet, or loaded with other bytes."""
    files = landing_files(paths.landing)
    loaded: dict[str, str] = {}
    if paths.warehouse.exists():
        con = duckdb.connect(str(paths.warehouse), read_only=True)
        try:
            if con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema='audit' AND table_name='load_files'").fetchone()[0]:
                loaded = dict(con.execute("SELECT file_id, sha256 FROM audit.load_files").fetchall())
        finally:
            con.close()
    days = set()
    for p in files:
        file_id = f"{FILE_NAME.match(p.name).group('table')}/{p.name}"
        if loaded.get(file_id) != _sha256(p):
            days.add(FILE_NAME.match(p.name).group("day"))
    return sorted(days)


@contextmanager
def _logged(paths: Paths, job: str):
    """dagster-dbt echoes every dbt event on stdout; keep that in a log file, not the terminal."""
    log_dir = paths.home / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{job}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}.log"
    with log.open("w", encoding="utf-8") as f, redirect_stdout(f):
        yield log


def run_load(instance, paths: Paths, days: list[str], progress: Callable[[str], None] = print) -> dict:
    from orchestration.definitions import defs
    from orchestration.partitions import extract_days

    days = sorted(days)
    known = set(instance.get_dynamic_partitions(extract_days.name))
    new = [d for d in days if d not in known]
    if new:
        instance.add_dynamic_partitions(extract_days.name, new)
    job = defs.resolve_job_def("load_extracts")
    run_id = str(uuid.uuid4())
    with _logged(paths, "load_extracts"), _progress(instance, run_id, progress):
        result = job.execute_in_process(
            instance=instance,
            run_id=run_id,
            run_config=QUIET,
            tags={"dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[-1]},
            raise_on_error=True,
        )
    # A ranged run records one materialization per partition, all with the same metadata.
    per_asset = {m.materialization.asset_key: m.materialization.metadata for m in result.get_asset_materialization_events()}
    totals = {"rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "run_id": result.run_id}
    for md in per_asset.values():
        for k in ("rows_read", "rows_loaded", "rows_quarantined"):
            if k in md:
                totals[k] += int(md[k].value)
    return totals


def run_build(instance, paths: Paths, progress: Callable[[str], None] = print) -> tuple[bool, dict | str]:
    from orchestration.definitions import defs

    job = defs.resolve_job_def("build_and_publish")
    run_id = str(uuid.uuid4())
    with _logged(paths, "build_and_publish") as log, _progress(instance, run_id, progress):
        result = job.execute_in_process(instance=instance, run_id=run_id, run_config=QUIET, raise_on_error=False)
    if not result.success:
        failures = [
            f"{e.step_key}: {e.event_specific_data.error.message.strip()[:800] if e.event_specific_data and e.event_specific_data.error else ''}"
            for e in result.all_events if e.is_step_failure
        ]
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
