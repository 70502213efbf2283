"""The evidence the certification reads: the outcome of every check of the run, and its report.

The raw tables are checked by their GX suites (asset checks of the raw assets) and the models,
the interval fact and the KPI parts included, by their dbt tests (recorded by ccq.quality, per
day on a model that names its day) before the KPIs are certified. The certified scorecard's own
checks run with it (orchestration.dbt_models.certified_kpis) and stop the publish on failure.
"""
from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, multi_asset
from dagster_dbt import get_asset_key_for_model

from orchestration.dbt_models import warehouse_models
from orchestration.resources import WarehouseResource

FCT_QUEUE_INTERVALS = get_asset_key_for_model([warehouse_models], "fct_queue_intervals")
KPI_PARTS = get_asset_key_for_model([warehouse_models], "int_kpi_parts")

CHECK_RESULTS = AssetKey(["audit", "check_results"])


@multi_asset(
    name="validation_evidence",
    specs=[AssetSpec(CHECK_RESULTS, group_name="audit", kinds={"duckdb", "html"},
                     description="Outcome of every validation (GX suites, dbt tests), plus this run's validation report.",
                     deps=[FCT_QUEUE_INTERVALS, KPI_PARTS])],
)
def validation_evidence(context: AssetExecutionContext, warehouse: WarehouseResource):
    from ccq.report import write_validation_report

    with warehouse.connect() as con:
        report, summary = write_validation_report(con, warehouse.paths.reports, context.run_id)
    context.log.info(f"validation report: {report}")
    yield MaterializeResult(asset_key=CHECK_RESULTS, metadata={
        "checks": summary["checks"], "failed_checks": summary["failed_checks"], "report": str(report),
        "files": summary["files"], "files_not_reconciling": summary["files_not_reconciling"]})
