"""The sensor: new or changed extract files start a refresh.

It compares the landing folder with what the published snapshot was built from (its
audit.load_files), never with the warehouse: a read-only connection from the daemon would lock
the pipeline out of it for as long as it is open. A file counts as waiting until a snapshot that
holds it is published, so a run that failed leaves its files waiting; the run key (the files'
digests) keeps the same files from starting a second run, and the next new file or the nightly
reconciliation takes them along again. The run itself loads what the warehouse does not hold.
"""

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor

from ccq.ingest.landing import changed_files, files_key
from orchestration.resources import WarehouseResource
from orchestration.runs import refresh_config, refresh_tags


def build_sensors(refresh) -> list:
    """The sensors, for the job of the Definitions."""

    @sensor(
        job=refresh,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description="New or changed extract files in the landing folder: load them, then build, validate, certify and publish.",
    )
    def landing_files_sensor(context: SensorEvaluationContext, warehouse: WarehouseResource):
        files = changed_files(warehouse.paths, against="snapshot")
        if not files:
            return SkipReason("no new or changed extract files")
        return SensorResult(run_requests=[RunRequest(run_key=f"files-{files_key(files)}", run_config=refresh_config(),
                                                     tags=refresh_tags(None, trigger="sensor"))])

    return [landing_files_sensor]
