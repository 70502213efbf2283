"""Schedules (UTC): the intraday refresh of today, every 15 minutes, and the nightly
reconciliation at 03:00. Both start a load run; build_after_load (sensors.py) builds after it.

- intraday_refresh loads today's extract files (the loader skips the bytes it already has)
  and rebuilds incrementally, so today's provisional numbers and their certification follow
  the clock. No file for today yet: the tick is skipped.
- nightly_reconciliation loads every file the published snapshot does not hold yet (new,
  changed, or left over by a failed run) and rebuilds with --full-refresh, so whatever the
  incremental builds of the day did, the night ends on a from-scratch, re-certified build.
  With nothing waiting it reloads the latest extract day (a no-op load) to have a run to
  build after.

Backfills: select a range of `extract_day` partitions of the raw assets in the UI (Materialize
> partitions) or `dagster job backfill -j load_extracts --partitions D1,D2,...`; one run loads
the range (BackfillPolicy.single_run) and build_after_load builds after it. From the shell,
`ccq backfill --from D1 --to D2` does the same in process.
"""

from dagster import DefaultScheduleStatus, ScheduleEvaluationContext, SkipReason, schedule

from ccq.ingest.landing import FILE_NAME, changed_files, files_key, landing_files
from orchestration.partitions import extract_days
from orchestration.resources import WarehouseResource
from orchestration.sensors import load_requests


def _requests(context, days: list[str], batch: str, full_refresh: bool = False):
    partitions, requests = load_requests(context.instance, days, batch, full_refresh=full_refresh)
    # Schedules cannot hand Dagster partition requests as sensors do: register the days here.
    for request in partitions:
        context.instance.add_dynamic_partitions(extract_days.name, list(request.partition_keys))
    return requests


def build_schedules(load_extracts) -> list:
    """The schedules, for the jobs of the Definitions."""

    @schedule(
        cron_schedule="*/15 * * * *",
        job=load_extracts,
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
        description="Every 15 minutes: load today's (UTC) extract files and rebuild incrementally, validate, certify, publish.",
    )
    def intraday_refresh(context: ScheduleEvaluationContext, warehouse: WarehouseResource):
        tick = context.scheduled_execution_time
        today = tick.date().isoformat()
        if not any(FILE_NAME.match(p.name).group("day") == today for p in landing_files(warehouse.paths.landing)):
            return SkipReason(f"no extract file for {today} in the landing folder yet")
        return _requests(context, [today], batch=f"intraday-{tick:%Y%m%dT%H%M}")

    @schedule(
        cron_schedule="0 3 * * *",
        job=load_extracts,
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
        description="03:00 UTC: load every file not yet published, then a full-refresh build, validation, certification and publish.",
    )
    def nightly_reconciliation(context: ScheduleEvaluationContext, warehouse: WarehouseResource):
        tick = context.scheduled_execution_time
        files = changed_files(warehouse.paths, against="snapshot")
        days = sorted({f.day for f in files})
        if not days:
            known = sorted(context.instance.get_dynamic_partitions(extract_days.name))
            if not known:
                return SkipReason("nothing loaded yet and no extract files waiting")
            days = known[-1:]
        return _requests(context, days, batch=f"nightly-{tick:%Y%m%d}-{files_key(files)[:8]}", full_refresh=True)

    return [intraday_refresh, nightly_reconciliation]
