"""Raw extract assets: one asset per raw table, loaded by one op so that a day's sixteen files
cost one step. A run loads the extract days its config names, by default every day with a file
the warehouse does not hold yet (or holds with other bytes). Each load yields its checks per table: the files
reconcile (`reconciles`), and the table's suites pass on every extract day of the run
(`gx_raw_<table>`: the Great Expectations row suite with the key across the whole table and the
references to other sources, for the ACD events the queue-leg order, and the table-level suite:
column types, volume against the norm). Outcomes
are recorded per day in audit.check_results, attributed to the raw table, where the
certification reads them."""

from datetime import date

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Config,
    MaterializeResult,
    multi_asset,
)
from pydantic import Field

from ccq.contract import tables
from ccq.ingest import LoadError, load_files
from ccq.ingest.landing import FILE_NAME, changed_days, scan_landing
from ccq.quality import record_suite_results
from orchestration.resources import WarehouseResource

RECONCILES = "reconciles"
# The loader writes these with the raw tables: every file's reconciliation, and the rows it kept out.
LOAD_FILES = AssetKey(["audit", "load_files"])
QUARANTINE = AssetKey(["audit", "quarantine"])


def gx_check_name(table_name: str) -> str:
    return f"gx_raw_{table_name}"


GX_ACD = gx_check_name("acd_queue_events")


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
            metadata={"contract_key": ", ".join(t.key)},
        )
        for t in tables().values()
    ] + [
        AssetSpec(LOAD_FILES, group_name="audit", kinds={"duckdb"},
                  description="Reconciliation of every extract file loaded (rows read = loaded + quarantined)."),
        AssetSpec(QUARANTINE, group_name="audit", kinds={"duckdb"},
                  description="Rows kept out of the raw tables, with file, line, field, rule and raw text."),
    ]


def _check_specs() -> list[AssetCheckSpec]:
    out = [
        AssetCheckSpec(RECONCILES, asset=raw_key(t.name), description="rows read = rows loaded + rows quarantined, no row quarantined")
        for t in tables().values()
    ]
    for t in tables().values():
        suites = f"raw_{t.name}" + (", raw_acd_queue_legs" if t.name == "acd_queue_events" else "")
        out.append(AssetCheckSpec(
            gx_check_name(t.name), asset=raw_key(t.name),
            description=f"Great Expectations suites {suites} (with references to other sources and key "
                        f"copies in the whole table) and raw_{t.name}_integrity (column types, volume against "
                        "the norm), per extract day"))
    return out


class LoadConfig(Config):
    days: list[str] | None = Field(
        default=None,
        description="Extract days (YYYY-MM-DD) to load again; none given: every day with a new or changed file.",
    )


@multi_asset(
    name="raw_extracts",
    specs=_specs(),
    check_specs=_check_specs(),
    can_subset=True,
)
def raw_extracts(context: AssetExecutionContext, warehouse: WarehouseResource, config: LoadConfig):
    days = sorted(set(config.days)) if config.days is not None else changed_days(warehouse.paths)
    context.log.info(f"progress: loading {len(days)} extract day(s)" + (f" ({days[0]} .. {days[-1]})" if days else ""))
    selected = {k for k in context.selected_asset_keys}
    by_table: dict[str, list] = {}
    landing, skipped = scan_landing(warehouse.paths.landing)
    for s in skipped:
        context.log.warning(f"not loaded: {s}")
    wanted = set(days)
    files = [p for p in landing if (m := FILE_NAME.match(p.name)).group("day") in wanted
             and raw_key(m.group("table")) in selected]
    with warehouse.connect() as con:
        done = 0

        def report(result) -> None:
            nonlocal done
            done += 1
            if isinstance(result, LoadError):  # gone or unreadable since the scan: the other files still load
                context.log.warning(f"not loaded: {result}")
            else:
                by_table.setdefault(result.table_name, []).append(result)
                for problem in result.problems:
                    context.log.warning(problem)
            if done % 50 == 0 or done == len(files):
                context.log.info(f"progress: loaded {done}/{len(files)} files")

        load_files(con, files, progress=report)

        # After every file of the run is loaded, so references and volumes see the whole delivery.
        gx_results: dict[str, dict[str, list]] = {}
        if days:
            from expectations.runner import validate_raw_days

            checked = [t for t in tables() if raw_key(t) in selected and by_table.get(t)]
            for n, table_name in enumerate(checked, 1):
                file_days = sorted({str(r.file_date) for r in by_table[table_name] if r.file_date is not None})
                per_day = validate_raw_days(con, table_name, file_days)
                record_suite_results(con, context.run_id, {date.fromisoformat(d): r for d, r in per_day.items()}, [table_name])
                gx_results[table_name] = per_day
                context.log.info(f"progress: validated {table_name} ({n}/{len(checked)} tables, {len(file_days)} days)")

    every = [r for loads in by_table.values() for r in loads]
    audit = {"files": len(every), "rows_read": sum(r.rows_read for r in every),
             "rows_loaded": sum(r.rows_loaded for r in every), "rows_quarantined": sum(r.rows_quarantined for r in every),
             "files_not_reconciling": sum(not r.reconciles for r in every)}
    if LOAD_FILES in selected:
        yield MaterializeResult(asset_key=LOAD_FILES, metadata=audit)
    if QUARANTINE in selected:
        yield MaterializeResult(asset_key=QUARANTINE, metadata={"quarantined_lines": audit["rows_quarantined"]})
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
        results = [r for day_results in gx_results.get(t.name, {}).values() for r in day_results]
        failed = [r.summary() for r in results if r.critical_failed]
        warned = [f"{r.suite} [{r.where}]: " + "; ".join(f"{o.name}: {o.details}" for o in r.failed if o.severity != "critical")
                  for r in results if any(o.severity != "critical" for o in r.failed)]
        yield AssetCheckResult(
            asset_key=key,
            check_name=gx_check_name(t.name),
            passed=not failed,
            severity=AssetCheckSeverity.WARN,
            metadata={"days": len(gx_results.get(t.name, {})), "failures": "\n".join(failed)[:4000] or "none",
                      "warnings": "\n".join(warned)[:4000] or "none"},
        )
