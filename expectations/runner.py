"""Validate DuckDB relations with the JSON suites under expectations/suites/, batch by batch.

GX 1.x cannot validate DuckDB through its SQL datasource (GX issues 10738, 11579), so the
relation is streamed out of DuckDB as Arrow record batches, each batch is validated as a pandas
DataFrame by an ephemeral GX context, and the per-batch results are added up per expectation.
Memory stays bounded by `batch_rows`.

Every check is a GX expectation. What the partition's rows alone do not show (the copies of a
key elsewhere in the table, column types, the volume against the norm) GX judges on frames
DuckDB prepares: an expectation names its frame in `meta.frame`, the suite declares it in
`meta.ccq.frames` (expectations.frames). A reference to another source is judged on the
partition: each value beside the one the other table holds (a derived column DuckDB looks up).
The raw suites are built from the raw contract plus a small JSON per table
(expectations/raw_suites.py). Columns the suite needs that the relation does not have (sums of
other columns, durations, looked-up references) are declared in `meta.ccq.derived_columns` as
SQL expressions.
`{"$PARAMETER": name}` values are filled at run time from `parameters`, or else from
catalog.PARAMETER_RESOLVERS (e.g. the known queues: the seeds' and the ACD's).
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from expectations import raw_suites
from expectations.catalog import (QUEUE_LEGS_SQL, SUITES, build_suite, ccq_meta, columns_of, frame_sql,
                                  quote_ident, read_columns, resolve_parameters, expectation_name,
                                  read_suite_json)
from expectations.gx_batches import (Accumulator, GX_LOCK, batch_definition, param_for_report, rebatch,
                                     to_pandas, validate_frame)
from expectations.results import SuiteResult
from expectations.frames import frame

if TYPE_CHECKING:
    import duckdb

def validate(
    con: "duckdb.DuckDBPyConnection",
    suite_name: str,
    relation: str | None = None,
    where: str | None = None,
    batch_rows: int = 250_000,
    parameters: dict | None = None,
) -> SuiteResult:
    """Validate `relation` (default: the suite's), restricted by the SQL filter `where`, with a suite.

    `where` is a DuckDB boolean expression over the relation's columns. For the queue-legs suite it
    selects the legs (any event of the leg matches); each selected leg is then judged on all its
    events. `parameters` override the run-time values of the suite's $PARAMETERs.
    """
    if suite_name not in SUITES:
        raise KeyError(f"unknown suite {suite_name!r}; known: {', '.join(sorted(SUITES))}")
    if batch_rows < 1:
        raise ValueError("batch_rows must be >= 1")
    started_at = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    spec = SUITES[suite_name]
    relation = relation or spec.relation
    doc = read_suite_json(suite_name)
    meta = ccq_meta(doc)
    # Resolved before streaming: DuckDB refuses another query on a connection with an open stream,
    # and a stream on one with a result left unfinished by the caller (a statement run to the end
    # releases it).
    params = resolve_parameters(doc, con, parameters)
    con.execute("select 1").fetchall()
    by_frame: dict[str | None, list[dict]] = {}
    for e in doc["expectations"]:
        by_frame.setdefault((e.get("meta") or {}).get("frame"), []).append(e)
    partition = by_frame.pop(None, [])
    sql = frame_sql(spec, doc, relation, where)
    read = read_columns(partition) if partition else None
    if read is not None:
        # Only the columns the expectations read, the index of failure samples and the file and
        # line of raw rows go to pandas: a wide table is mostly text GX never looks at.
        keep = read | set(meta.get("index_columns") or []) | {"_file_id", "_line_no"}
        frame_columns = [d[0] for d in con.execute(f"select * from ({sql}) as frame limit 0").description]
        if any(c in keep for c in frame_columns):
            sql = f"select {', '.join(quote_ident(c) for c in frame_columns if c in keep)} from ({sql}) as frame"
    target = f"{relation} ({spec.frame_label})" if spec.frame_label else relation

    accs = [
        Accumulator(
            name=expectation_name(e),
            expectation=e["type"],
            # A frame's or a looked-up column is not the raw column the outcome is recorded against.
            column=(e["meta"]["column"] if "column" in (e.get("meta") or {}) else columns_of(e.get("kwargs") or {})),
            notes=str(e.get("notes") or ""),
            severity=str(e.get("severity") or "critical"),
            missing_label=(e.get("meta") or {}).get("missing_label"),
        )
        for e in doc["expectations"]
    ]
    by_name = {a.name: a for a in accs}
    if not partition:
        batches, rows = 0, int(con.execute(f"select count(*) from ({sql}) as frame").fetchall()[0][0])
    with GX_LOCK:
        if partition:
            batches, rows = _stream(con, sql, batch_rows, None, build_suite({**doc, "expectations": partition}),
                                    params, list(meta.get("index_columns") or []), by_name)
        for name, expectations in by_frame.items():
            f = frame(meta["frames"][name], relation, where)
            _stream(con, f.sql, batch_rows, f.keep_together, build_suite({**doc, "expectations": expectations}),
                    params, f.index_columns, by_name)

    outcomes = [a.outcome() for a in accs]
    return SuiteResult(
        suite=suite_name,
        target=target,
        success=all(o.success for o in outcomes),
        batches=batches,
        rows=rows,
        outcomes=outcomes,
        started_at=started_at,
        seconds=time.perf_counter() - t0,
        where=where,
        parameters={k: param_for_report(v) for k, v in params.items()},
    )


def _stream(con, sql: str, batch_rows: int, keep_together: list[str] | None, suite, params: dict,
            index_columns: list[str], by_name: dict) -> tuple[int, int]:
    """Validate the rows of `sql` batch by batch; (batches, rows)."""
    batch_def = batch_definition()
    batches = rows = 0
    reader = con.sql(sql).to_arrow_reader(batch_rows)
    try:
        schema = reader.schema
        for table in rebatch(reader, batch_rows, keep_together):
            validate_frame(to_pandas(table), batch_def, suite, params, index_columns, by_name)
            batches += 1
            rows += table.num_rows
    finally:
        reader.close()
    if batches == 0:
        # Still run the structural checks (column set) on the empty frame.
        validate_frame(to_pandas(schema.empty_table()), batch_def, suite, params, index_columns, by_name)
        batches = 1
    return batches, rows


def validate_acd_events(
    con: "duckdb.DuckDBPyConnection",
    where: str | None = None,
    batch_rows: int = 250_000,
    parameters: dict | None = None,
) -> list[SuiteResult]:
    """raw.acd_queue_events row checks (with table-wide event_id uniqueness) and queue-leg event order."""
    return [
        validate(con, "raw_acd_queue_events", where=where, batch_rows=batch_rows, parameters=parameters),
        validate(con, "raw_acd_queue_legs", where=where, batch_rows=batch_rows, parameters=parameters),
    ]


def raw_files_filter(table_name: str, days: list[str]) -> str:
    """The partition of a raw table that the extract files of these days delivered (a day can
    have several: a copy, what `ccq ingest` wrote beside a system's own extract)."""
    # <table>/<table>_<YYYY-MM-DD><anything not starting with a digit>.csv (ccq.ingest.loader.FILE_NAME)
    listed = ", ".join(f"'{d}'" for d in days)
    return (f"(starts_with(_file_id, '{table_name}/{table_name}_') "
            f"and substr(_file_id, {len(table_name) * 2 + 3}, 10) in ({listed}))")


def raw_file_filter(table_name: str, day: str) -> str:
    return raw_files_filter(table_name, [day])


def _raw_gx_suites(table_name: str) -> list[str]:
    names = [raw_suites.raw_suite_name(table_name)]
    if table_name == "acd_queue_events":
        names.append("raw_acd_queue_legs")
    return names


def validate_raw(
    con: "duckdb.DuckDBPyConnection",
    table_name: str,
    day: str,
    batch_rows: int = 250_000,
    parameters: dict | None = None,
) -> list[SuiteResult]:
    """Every suite of one raw table on the extract file of one day: the row suite (with the key
    across the whole table and the references to other sources; for the ACD events also the
    queue-leg order), then the table-level suite (column types, volume against the norm)."""
    return validate_raw_days(con, table_name, [day], batch_rows, parameters)[day]


def validate_raw_days(
    con: "duckdb.DuckDBPyConnection",
    table_name: str,
    days: list[str],
    batch_rows: int = 250_000,
    parameters: dict | None = None,
) -> dict[str, list[SuiteResult]]:
    """validate_raw for several days, with the outcomes per day.

    Every query of a suite reads the whole raw table (a day is a filter on _file_id, which no
    statistics can skip by), and the references read the whole table referred to: run once per
    day, a year of days read the tables hundreds of times. So the suites run once over all the
    days' files (GX also costs about the same per batch whatever its size); only when a check
    fails do they run again day by day, to say which day. The volume frame has a row per day, so
    each day is judged against its own norm either way; the rows each day contributed are
    counted in one grouped query per suite."""
    days = sorted(set(days))
    out: dict[str, list[SuiteResult]] = {d: [] for d in days}
    suite_names = [*_raw_gx_suites(table_name), raw_suites.integrity_suite_name(table_name)]
    if len(days) == 1:
        where = raw_file_filter(table_name, days[0])
        out[days[0]] = [validate(con, n, where=where, batch_rows=batch_rows, parameters=parameters)
                        for n in suite_names]
        return out
    where_all = raw_files_filter(table_name, days)
    for n in suite_names:
        together = validate(con, n, where=where_all, batch_rows=batch_rows, parameters=parameters)
        if together.success:
            rows = _rows_per_day(con, n, table_name, where_all)
            for d in days:
                out[d].append(_passed_on_day(together, raw_file_filter(table_name, d), rows.get(d, 0), days))
        else:
            for d in days:
                out[d].append(validate(con, n, where=raw_file_filter(table_name, d), batch_rows=batch_rows,
                                       parameters=parameters))
    return out


def _rows_per_day(con, suite_name: str, table_name: str, where_all: str) -> dict[str, int]:
    """Rows of each day's frame (what validate with that day's filter would count), in one query."""
    spec = SUITES[suite_name]
    day = f"substr(_file_id, {len(table_name) * 2 + 3}, 10)"  # <table>/<table>_<YYYY-MM-DD>...
    if spec.frame_sql is QUEUE_LEGS_SQL:
        # A leg belongs to the frame of every day with one of its events.
        sql = (f"select {day}, count(*) from (select distinct _file_id, contact_id, queue_leg from {spec.relation} "
               f"where ({where_all}) and contact_id is not null and queue_leg is not null) group by 1")
    elif spec.frame_sql is None:
        sql = f"select {day}, count(*) from {spec.relation} where ({where_all}) group by 1"
    else:
        return {}
    return {d: int(n) for d, n in con.execute(sql).fetchall()}


def _passed_on_day(together: SuiteResult, where: str, rows: int, days: list[str]) -> SuiteResult:
    """One day's share of a suite that passed on several days at once."""
    from dataclasses import replace

    outcomes = [replace(o, element_count=rows, unexpected_count=0,
                        details=f"ok ({rows:,} checked, with the run's {len(days)} days together)")
                for o in together.outcomes]
    return replace(together, where=where, rows=rows, batches=1, outcomes=outcomes, success=True)
