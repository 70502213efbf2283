"""The one Definitions object: `dagster dev` (see [tool.dagster] in pyproject.toml) and the
`ccq` command both load it, and both run its one job, `refresh`: load the extract days of the
run's config, validate, dbt build, certify, publish, and write (and send) the owners' digests. `ccq refresh` runs it in its own process;
the daemon of `ccq dagster` runs it for the sensor and the schedules (sensors.py, schedules.py),
one run at a time (DuckDB has one writer)."""

from dagster import AssetSelection, Definitions, colored_console_logger, define_asset_job, in_process_executor

from orchestration.dbt_models import certified_kpis, warehouse_models
from orchestration.digests import owner_digests
from orchestration.progress import terminal_progress
from orchestration.publishing import published_snapshot
from orchestration.raw_extracts import raw_extracts
from orchestration.resources import default_resources
from orchestration.schedules import build_schedules
from orchestration.sensors import build_sensors
from orchestration.validation import validation_evidence

refresh = define_asset_job(
    "refresh",
    selection=AssetSelection.all(),
    description="Load the extract files of the configured days (default: the new and changed ones) with quarantine, "
                "reconciliation and raw suites; dbt build and tests; certification and the publish checks; atomic publish of the "
                "app's snapshot; the owners' digests.",
)

defs = Definitions(
    assets=[raw_extracts, warehouse_models, validation_evidence, certified_kpis, published_snapshot, owner_digests],
    jobs=[refresh],
    sensors=build_sensors(refresh),
    schedules=build_schedules(refresh),
    resources=default_resources(),
    # Dagster's console logger stays the default; `ccq` runs add the progress on its terminal.
    loggers={"console": colored_console_logger, "terminal_progress": terminal_progress},
    # DuckDB has one writer: steps run one after the other in the run's process.
    executor=in_process_executor,
)
