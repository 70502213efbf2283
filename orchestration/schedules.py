"""Schedules (UTC), both running the one `refresh` job:

- intraday_refresh, every 15 minutes, loads today's extract files (the loader skips the bytes it
  already has) and rebuilds incrementally, so today's provisional numbers and their certification
  follow the clock. No file for today yet: the tick is skipped.
- nightly_reconciliation, at 03:00, loads every file the warehouse does not hold yet (new,
  changed, or left over by a failed run) and rebuilds with --full-refresh, so whatever the
  incremental builds of the day did, the night ends on a from-scratch, re-certified build.

Backfills: launch `refresh` with the days to load again in its config (the Launchpad, or
`dagster job launch -j refresh --config-json ...`); from the shell, `ccq backfill --from D1 --to D2`.
"""

from dagster import DefaultScheduleStatus, RunRequest, ScheduleEvaluationContext, SkipReason, schedule

from ccq.ingest.landing import FILE_NAME, landing_files
from orchestration.resources import WarehouseResource
from orchestration.runs import refresh_config, refresh_tags


def build_schedules(refresh) -> list:
    """The schedules, for the job of the Definitions."""

    @schedule(
        cron_schedule="*/15 * * * *",
        job=refresh,
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
        description="Every 15 minutes: load today's (UTC) extract files and rebuild incrementally, validate, certify, publish.",
    )
    def intraday_refresh(context: ScheduleEvaluationContext, warehouse: WarehouseResource):
        tick = context.scheduled_execution_time
        today = tick.date().isoformat()
        if not any(FILE_NAME.match(p.name).group("day") == today for p in landing_files(warehouse.paths.landing)):
            return SkipReason(f"no extract file for {today} in the landing folder yet")
        return RunRequest(run_key=f"intraday-{tick:%Y%m%dT%H%M}", run_config=refresh_config(days=[today]),
                          tags=refresh_tags([today], trigger="intraday_refresh"))

    @schedule(
        cron_schedule="0 3 * * *",
        job=refresh,
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
        description="03:00 UTC: load every file not yet loaded, then a full-refresh build, validation, certification and publish.",
    )
    def nightly_reconciliation(context: ScheduleEvaluationContext):
        tick = context.scheduled_execution_time
        return RunRequest(run_key=f"nightly-{tick:%Y%m%d}", run_config=refresh_config(full_refresh=True),
                          tags=refresh_tags(None, trigger="nightly_reconciliation", full_refresh=True))

    return [intraday_refresh, nightly_reconciliation]
