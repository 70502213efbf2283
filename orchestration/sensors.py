"""Sensors: new or changed extract files start a load; a load started by a sensor, a schedule
or a backfill is followed by the build.

Both compare with what the published snapshot was built from (its audit.load_files), never
with the warehouse: a read-only connection from the daemon would lock the pipeline out of it
for as long as it is open. A file counts as waiting until a snapshot that holds it is
published, so a run that failed leaves its files waiting; the run key (the files' digests)
keeps the same files from starting a second load, and the next new file or the nightly
reconciliation takes them along again.
"""

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunStatusSensorContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_status_sensor,
    sensor,
)

from ccq.ingest.landing import changed_files, files_key
from orchestration.runs import FULL_REFRESH_TAG, THEN_BUILD_TAG, build_run_config, load_blocks, range_tags
from orchestration.partitions import extract_days
from orchestration.resources import WarehouseResource


def load_requests(instance, days: list[str], batch: str, full_refresh: bool = False) -> tuple[list, list[RunRequest]]:
    """Partitions to register and the load runs for `days` (one per unbroken stretch of
    partitions); the last run carries the tag that makes build_after_load build after it."""
    known = instance.get_dynamic_partitions(extract_days.name)
    new = sorted(set(days) - set(known))
    blocks = load_blocks(known, days)
    requests = []
    for i, block in enumerate(blocks):
        tags = {**range_tags(block), "ccq/batch": batch}
        if i == len(blocks) - 1:
            tags[THEN_BUILD_TAG] = batch
            if full_refresh:
                tags[FULL_REFRESH_TAG] = "true"
        requests.append(RunRequest(run_key=f"{batch}-{i}", tags=tags))
    partitions = [extract_days.build_add_request(new)] if new else []
    return partitions, requests


def build_sensors(load_extracts, build_and_publish) -> list:
    """The sensors, for the jobs of the Definitions."""

    @sensor(
        job=load_extracts,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description="New or changed extract files in the landing folder: register their days as partitions, load them, then build and publish.",
    )
    def landing_files_sensor(context: SensorEvaluationContext, warehouse: WarehouseResource):
        files = changed_files(warehouse.paths, against="snapshot")
        if not files:
            return SkipReason("no new or changed extract files")
        days = sorted({f.day for f in files})
        partitions, requests = load_requests(context.instance, days, batch=f"files-{files_key(files)}")
        return SensorResult(run_requests=requests, dynamic_partitions_requests=partitions)

    @run_status_sensor(
        run_status=DagsterRunStatus.SUCCESS,
        monitored_jobs=[load_extracts],
        request_job=build_and_publish,
        default_status=DefaultSensorStatus.RUNNING,
        description="After a load started by a sensor, a schedule or a backfill: dbt build, validate, certify, publish.",
    )
    def build_after_load(context: RunStatusSensorContext):
        run = context.dagster_run
        batch = run.tags.get(THEN_BUILD_TAG) or run.tags.get("dagster/backfill")
        if not batch:
            # `ccq refresh` and hand-launched loads build (or not) themselves.
            return SkipReason(f"load run {run.run_id} is not part of a sensor, schedule or backfill batch")
        full_refresh = run.tags.get(FULL_REFRESH_TAG) == "true"
        return RunRequest(
            run_key=f"build-{batch}",
            run_config=build_run_config(full_refresh),
            tags={"ccq/batch": batch, "ccq/after_load": run.run_id, **({FULL_REFRESH_TAG: "true"} if full_refresh else {})},
        )

    return [landing_files_sensor, build_after_load]
