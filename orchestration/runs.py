"""The run protocol: how `ccq` runs the one job, `refresh`, in its own process (the daemon of
`ccq dagster` runs the same job for the sensor and the schedules), and what the run history says
about interrupted and failed runs. Runs record their history in DAGSTER_HOME, so `dagster dev`
shows them all.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager, redirect_stdout
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb

from ccq.settings import Paths
from orchestration.progress import reporting_to
from orchestration.raw_extracts import LOAD_FILES

# In-process runs carry the pid of their process, so a run whose process died (killed) can be
# told from one still going, and closed as failed (reap_interrupted_runs).
PID_TAG = "ccq/pid"
DAYS_TAG = "ccq/days"
FULL_REFRESH_TAG = "ccq/full_refresh"


# Dagster mirrors a run's stdout into its compute log and back through a `tail -F` process that it
# stops when the run ends, which can cut off the last second of output (dagster-io/dagster#23336):
# the end of a run, where a failure shows. Runs `ccq` executes in its own process write their own log
# file instead; the daemon's runs keep Dagster's capture for its UI.
NO_COMPUTE_LOG_CAPTURE = {"compute_logs": {"module": "dagster._core.storage.noop_compute_log_manager",
                                           "class": "NoOpComputeLogManager"}}


def instance(dagster_home: str | os.PathLike):
    """The Dagster instance of the runs `ccq` executes in its own process (run_refresh)."""
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    return DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home), overrides=NO_COMPUTE_LOG_CAPTURE))


def definitions():
    """The Definitions, with the dbt manifest parsed first if it is missing or stale."""
    from orchestration.resources import prepare_manifest

    prepare_manifest()
    from orchestration.definitions import defs

    return defs


def refresh_config(days: list[str] | None = None, full_refresh: bool = False) -> dict:
    """Run config of the `refresh` job: the extract days to load (None: every day with a new or
    changed file), and whether to rebuild the incremental models from scratch."""
    ops: dict = {"raw_extracts": {"config": {"days": sorted(days) if days is not None else None}}}
    if full_refresh:
        ops["warehouse_models"] = {"config": {"full_refresh": True}}
    return {"ops": ops}


def refresh_tags(days: list[str] | None, trigger: str, full_refresh: bool = False) -> dict:
    """What the run history shows of a refresh: who started it, and which days it loads."""
    what = "new and changed files" if days is None else ("none" if not days else
                                                         "..".join(dict.fromkeys((min(days), max(days)))))
    return {"ccq/trigger": trigger, DAYS_TAG: what, **({FULL_REFRESH_TAG: "true"} if full_refresh else {})}


@contextmanager
def _logged(paths: Paths, job: str):
    """dagster-dbt echoes every dbt event on stdout; keep that in a log file, not the terminal."""
    log_dir = paths.home / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{job}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S%fZ')}.log"
    with log.open("w", encoding="utf-8") as f, redirect_stdout(f):
        yield log


def run_refresh(instance, paths: Paths, days: list[str] | None = None, full_refresh: bool = False,
                progress: Callable[[str], None] = print) -> tuple[bool, dict | str]:
    """Run the `refresh` job in this process. Returns (True, what it loaded and published) or
    (False, why it failed); a failure publishes nothing."""
    job = definitions().resolve_job_def("refresh")
    run_config = refresh_config(days, full_refresh)
    # Dagster's console logger would echo every event; the steps' progress reaches the terminal
    # through the terminal_progress logger (orchestration/progress.py) instead.
    run_config["loggers"] = {"console": {"config": {"log_level": "WARNING"}}, "terminal_progress": {}}
    run_id = str(uuid.uuid4())
    with _logged(paths, "refresh") as log, reporting_to(progress):
        result = job.execute_in_process(
            instance=instance, run_id=run_id, run_config=run_config, raise_on_error=False,
            tags={PID_TAG: str(os.getpid()), **refresh_tags(days, "cli", full_refresh)})
    info: dict = {"run_id": result.run_id, "log": str(log), "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0}
    for mat in result.get_asset_materialization_events():
        md = mat.materialization.metadata
        if mat.asset_key == LOAD_FILES:  # the run's reconciliation, over every file it loaded
            for k in ("rows_read", "rows_loaded", "rows_quarantined"):
                info[k] = int(md[k].value)
        for k in ("snapshot", "report", "digests", "digests_sent", "digest_folder", "smtp", "digest_error"):
            if k in md:
                info[k] = md[k].value
    if not result.success:
        failures = step_failures(result.all_events)
        return False, ("; ".join(failures) or "see the Dagster run log") + f" (dbt log: {log})"
    con = duckdb.connect(info["snapshot"], read_only=True)
    try:
        info["kpi_rows"], info["certified_rows"] = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE certified) FROM marts.kpi_values").fetchone()
    finally:
        con.close()
    return True, info


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



# --- run history -------------------------------------------------------------------------

def pid_alive(pid: int) -> bool:
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
        if pid and pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
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


def run_once(home: Path, landing: Path, now: str) -> tuple[Paths, bool, dict | str]:
    """One whole pipeline run on a fresh working folder, with its own Dagster instance: copy the
    extracts into its landing folder, pin the clock, load, build, certify, publish (tests and
    benchmarks)."""
    import shutil

    shutil.copytree(landing, home / "landing", dirs_exist_ok=True)
    os.environ["CCQ_HOME"] = str(home)
    os.environ["CCQ_NOW"] = now
    paths = Paths(home).ensure()
    from ccq.ingest.landing import changed_days

    ok, info = run_refresh(instance(paths.dagster_home), paths, changed_days(paths))
    return paths, ok, info
