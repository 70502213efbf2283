"""Raw extract assets: one asset per raw table, partitioned by extract day, loaded by one op
so that a day's sixteen files cost one step. Each load yields its checks: the file
reconciles, and for the ACD events the Great Expectations suites, run batch by batch."""

from datetime import date

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    MaterializeResult,
    multi_asset,
)

from ccq.contract import tables
from ccq.ingest import load_file
from ccq.ingest.loader import landing_files, FILE_NAME
from ccq.quality import record_suite_results
from ccq.reference import queue_ids
from orchestration.partitions import extract_days
from orchestration.resources import WarehouseResource

RECONCILES = "reconciles"
GX_ACD = "gx_raw_acd_queue_events"


def raw_key(table_name: str) -> AssetKey:
    # Same key dagster-dbt gives the dbt source (source name, table name), so dbt models hang off it.
    return AssetKey([tables()[table_name].system, table_name])


def _specs() -> list[AssetSpec]:
    return [
        AssetSpec(
            key=raw_key(t.name),
            description=f"raw.{t.name}: {t.description}",
            group_name="raw",
            kinds={"duckdb", "csv"},
            partitions_def=extract_days,
            metadata={"contract_key": ", ".join(t.key)},
        )
        for t in tables().values()
    ]


def _check_specs() -> list[AssetCheckSpec]:
    out = [
        AssetCheckSpec(RECONCILES, asset=raw_key(t.name), description="rows read = rows loaded + rows quarantined, no row quarantined")
        for t in tables().values()
    ]
    out.append(AssetCheckSpec(GX_ACD, asset=raw_key("acd_queue_events"),
                              description="Great Expectations suites raw_acd_queue_events and raw_acd_queue_legs"))
    return out


@multi_asset(
    name="raw_extracts",
    specs=_specs(),
    check_specs=_check_specs(),
    can_subset=True,
    backfill_policy=BackfillPolicy.single_run(),
)
def raw_extracts(context: AssetExecutionContext, warehouse: WarehouseResource):
    days = sorted(context.partition_keys) if context.has_partition_key_range or context.has_partition_key else []
    selected = {k for k in context.selected_asset_keys}
    by_table: dict[str, list] = {}
    files = [p for p in landing_files(warehouse.paths.landing) if FILE_NAME.match(p.name).group("day") in set(days)]
    with warehouse.connect() as con:
        for i, path in enumerate(files, 1):
            table_name = FILE_NAME.match(path.name).group("table")
            if raw_key(table_name) not in selected:
                continue
            result = load_file(con, path)
            by_table.setdefault(table_name, []).append(result)
            if i % 50 == 0 or i == len(files):
                context.log.info(f"progress: loaded {i}/{len(files)} files")
            for problem in result.problems:
                context.log.warning(problem)

        gx_results = {}
        if raw_key("acd_queue_events") in selected and days:
            from expectations.runner import validate_acd_events

            for n, day in enumerate(days, 1):
                if n % 7 == 0 or n == len(days):
                    context.log.info(f"progress: validated the ACD events of {n}/{len(days)} days")
                where = f"_file_id = 'acd_queue_events/acd_queue_events_{day}.csv'"
                results = validate_acd_events(con, where=where, parameters={"queue_ids": queue_ids()})
                record_suite_results(con, context.run_id, results, ["acd_queue_events"], date.fromisoformat(day))
                gx_results[day] = results

    for t in tables().values():
        key = raw_key(t.name)
        if key not in selected:
            continue
        loads = by_table.get(t.name, [])
        read = sum(r.rows_read for r in loads)
        loaded = sum(r.rows_loaded for r in loads)
        quarantined = sum(r.rows_quarantined for r in loads)
        missing = sorted(set(days) - {str(r.file_date) for r in loads})
        yield MaterializeResult(
            asset_key=key,
            metadata={"files": len(loads), "rows_read": read, "rows_loaded": loaded,
                      "rows_quarantined": quarantined, "days_without_extract": ", ".join(missing) or "none"},
        )
        yield AssetCheckResult(
            asset_key=key,
            check_name=RECONCILES,
            passed=all(r.reconciles for r in loads) and quarantined == 0,
            severity=AssetCheckSeverity.WARN,
            metadata={"rows_read": read, "rows_loaded": loaded, "rows_quarantined": quarantined,
                      "first_problems": "\n".join(p for r in loads for p in r.problems[:2])[:2000] or "none"},
        )
    if raw_key("acd_queue_events") in selected:
        failed = [r.summary() for results in gx_results.values() for r in results if r.critical_failed]
        yield AssetCheckResult(
            asset_key=raw_key("acd_queue_events"),
            check_name=GX_ACD,
            passed=not failed,
            severity=AssetCheckSeverity.WARN,
            metadata={"days": len(gx_results), "failures": "\n".join(failed)[:4000] or "none"},
        )
