"""Mart validation and the evidence the certification reads.

The models, the interval fact and the KPI parts included, are checked by their dbt tests
(recorded by ccq.quality, per day on a model that names its day) before the KPIs are certified.

gx_kpi_values runs after certification, on the values the app will show, so it cannot change
their certified flag. Its checks are structural: the data errors they could see (a value outside
its plausible range, answered > offered) are withheld by kpi_certification value by value, so a
failure here means the model itself is wrong for the whole snapshot (a value that does not match
its parts, a part not published, an uncertified value without a reason, the certification
letting an implausible value through). It is blocking with ERROR severity: publishing such a
snapshot is worse than keeping the last good one, so a failure stops the publish.
Its outcomes are recorded against kpi_values itself (not a raw table), so they never feed a
later certification, and the run's validation report is written again to include them.
"""
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    asset_check,
    multi_asset,
)
from dagster_dbt import get_asset_key_for_model

from ccq.quality import record_suite_results
from orchestration.dbt_models import certified_kpis, warehouse_models
from orchestration.resources import WarehouseResource

FCT_QUEUE_INTERVALS = get_asset_key_for_model([warehouse_models], "fct_queue_intervals")
KPI_PARTS = get_asset_key_for_model([warehouse_models], "int_kpi_parts")
KPI_VALUES = get_asset_key_for_model([certified_kpis], "kpi_values")


def _result(results, severity: AssetCheckSeverity, **metadata) -> AssetCheckResult:
    """One asset check result from suite results: passed unless a critical expectation failed."""
    failed = [r.summary() for r in results if r.critical_failed]
    return AssetCheckResult(
        passed=not failed,
        severity=severity,
        metadata={"rows": sum(r.rows for r in results), "failures": "\n".join(failed) or "none", **metadata},
    )


@asset_check(
    asset=KPI_VALUES,
    name="gx_kpi_values",
    description="Great Expectations suite kpi_values: values that match their parts, every part published, a reason "
                "for every uncertified value, certified values plausible (ratios within [0, 1], none negative, answered "
                "<= offered). A failure stops the publish.",
    blocking=True,
)
def gx_kpi_values(context, warehouse: WarehouseResource) -> AssetCheckResult:
    return check_kpi_values(warehouse, context.run.run_id)


def check_kpi_values(warehouse: WarehouseResource, run_id: str) -> AssetCheckResult:
    from ccq.report import write_validation_report
    from expectations.runner import validate_kpi_values

    with warehouse.connect() as con:
        results = validate_kpi_values(con)
        record_suite_results(con, run_id, results, ["kpi_values"], None, replace_all_partitions=True)
        report, _ = write_validation_report(con, warehouse.paths.reports, run_id)
    return _result(results, AssetCheckSeverity.ERROR, report=str(report))


# Every asset check on the marts; the Definitions take this list.
MART_CHECKS = [gx_kpi_values]

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
