"""Mart validation and the evidence the certification reads.

gx_fct_queue_intervals is a blocking asset check: everything downstream of the interval
fact waits for it, so its outcome is recorded before the KPIs are certified. A failure has
WARN severity: the run goes on and the affected KPIs are published uncertified, with the
reason, rather than not at all.
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
from orchestration.dbt_models import warehouse_models
from orchestration.raw_extracts import raw_key
from ccq.contract import tables
from orchestration.resources import WarehouseResource

FCT_QUEUE_INTERVALS = get_asset_key_for_model([warehouse_models], "fct_queue_intervals")


@asset_check(
    asset=FCT_QUEUE_INTERVALS,
    name="gx_fct_queue_intervals",
    description="Great Expectations suite fct_queue_intervals: parts non-negative and consistent, keys unique.",
    blocking=True,
)
def gx_fct_queue_intervals(context, warehouse: WarehouseResource) -> AssetCheckResult:
    from expectations.runner import validate_queue_intervals

    run_id = context.run.run_id
    with warehouse.connect() as con:
        results = validate_queue_intervals(con)
        if not any(r.critical_failed for r in results):
            record_suite_results(con, run_id, results, ["acd_queue_events"], None, replace_all_partitions=True)
        else:
            # Localise the failure to the UTC days it is in, so only the periods touching them
            # lose their certification: one pass more, and only when something failed.
            con.execute("DELETE FROM audit.check_results WHERE suite = 'fct_queue_intervals'")
            days = [d for (d,) in con.execute(
                "SELECT DISTINCT cast(interval_start_utc AS date) FROM marts.fct_queue_intervals ORDER BY 1").fetchall()]
            results = []
            for day in days:
                day_results = validate_queue_intervals(con, where=f"cast(interval_start_utc AS date) = DATE '{day}'")
                record_suite_results(con, run_id, day_results, ["acd_queue_events"], day)
                results += day_results
    failed = [r.summary() for r in results if r.critical_failed]
    return AssetCheckResult(
        passed=not failed,
        severity=AssetCheckSeverity.WARN,
        metadata={"suites": len(results), "rows": sum(r.rows for r in results), "failures": "\n".join(failed) or "none"},
    )


# Every asset check on the marts; the Definitions take this list.
MART_CHECKS = [gx_fct_queue_intervals]

AUDIT_KEYS = [AssetKey(["audit", "load_files"]), AssetKey(["audit", "quarantine"]), AssetKey(["audit", "check_results"])]


@multi_asset(
    name="validation_evidence",
    specs=[
        AssetSpec(AUDIT_KEYS[0], group_name="audit", kinds={"duckdb"},
                  description="Reconciliation of every extract file loaded (rows read = loaded + quarantined).",
                  deps=[raw_key(t) for t in tables()]),
        AssetSpec(AUDIT_KEYS[1], group_name="audit", kinds={"duckdb"},
                  description="Rows kept out of the raw tables, with file, line, field, rule and raw text.",
                  deps=[raw_key(t) for t in tables()]),
        AssetSpec(AUDIT_KEYS[2], group_name="audit", kinds={"duckdb", "html"},
                  description="Outcome of every validation (GX suites, dbt tests), plus this run's validation report.",
                  deps=[FCT_QUEUE_INTERVALS]),
    ],
)
def validation_evidence(context: AssetExecutionContext, warehouse: WarehouseResource):
    from ccq.report import write_validation_report

    with warehouse.connect() as con:
        report, summary = write_validation_report(con, warehouse.paths.reports, context.run_id)
    context.log.info(f"validation report: {report}")
    yield MaterializeResult(asset_key=AUDIT_KEYS[0], metadata={
        "files": summary["files"], "rows_read": summary["rows_read"], "rows_loaded": summary["rows_loaded"],
        "rows_quarantined": summary["rows_quarantined"], "files_not_reconciling": summary["files_not_reconciling"]})
    yield MaterializeResult(asset_key=AUDIT_KEYS[1], metadata={"quarantined_lines": summary["rows_quarantined"]})
    yield MaterializeResult(asset_key=AUDIT_KEYS[2], metadata={
        "checks": summary["checks"], "failed_checks": summary["failed_checks"], "report": str(report)})
