"""What `ccq status` shows: the last runs, what is certified up to when, what is waiting, and
what failed with its reason. It reads the Dagster instance, the landing folder and the published
snapshot, never the warehouse (a refresh may be writing it)."""
from __future__ import annotations

from datetime import datetime, timezone

import duckdb

from ccq.ingest.landing import changed_files, skipped_landing
from ccq.settings import Paths
from orchestration.runs import DAYS_TAG, PID_TAG, pid_alive, run_failure_reasons


def status(paths: Paths, instance, runs: int = 10) -> dict:
    from dagster import DagsterRunStatus

    from ccq.publish import current_snapshot, published_at

    out: dict = {"runs": [], "failures": [], "certified": [], "uncertified": [], "waiting": [], "unconfigured": []}
    for rec in instance.get_run_records(limit=runs):
        run = rec.dagster_run
        start = rec.start_time or rec.create_timestamp.timestamp()
        end = rec.end_time
        still = run.status in (DagsterRunStatus.STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.QUEUED)
        pid = run.tags.get(PID_TAG)
        if still and pid and pid.isdigit() and not pid_alive(int(pid)):
            state = "INTERRUPTED"
        else:
            state = run.status.value
        out["runs"].append({
            "run_id": run.run_id, "job": run.job_name, "status": state,
            "started": datetime.fromtimestamp(start, timezone.utc),
            "seconds": (end - start) if end else None,
            "days": run.tags.get(DAYS_TAG, ""),
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
