"""The one Definitions object: `dagster dev` (see [tool.dagster] in pyproject.toml) and the
`ccq` command both load it. Sensors (sensors.py) and schedules (schedules.py) run under
`ccq dagster`, whose daemon runs one run at a time (DuckDB has one writer)."""

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor

from orchestration.dbt_models import certified_kpis, warehouse_models
from orchestration.publishing import published_snapshot
from orchestration.raw_extracts import raw_extracts
from orchestration.resources import default_resources
from orchestration.schedules import build_schedules
from orchestration.sensors import build_sensors
from orchestration.validation import MART_CHECKS, validation_evidence


RAW = AssetSelection.assets(raw_extracts)

load_extracts = define_asset_job(
    "load_extracts",
    selection=RAW,
    description="Load the extract files of the selected days into raw tables, with quarantine, reconciliation and raw suites.",
)
build_and_publish = define_asset_job(
    "build_and_publish",
    selection=AssetSelection.all() - RAW,
    description="dbt build, mart validation, certification and atomic publish of the app snapshot.",
)

defs = Definitions(
    assets=[raw_extracts, warehouse_models, validation_evidence, certified_kpis, published_snapshot],
    asset_checks=MART_CHECKS,
    jobs=[load_extracts, build_and_publish],
    sensors=build_sensors(load_extracts, build_and_publish),
    schedules=build_schedules(load_extracts),
    resources=default_resources(),
    # DuckDB has one writer: steps run one after the other in the run's process.
    executor=in_process_executor,
)
