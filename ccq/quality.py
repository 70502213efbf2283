"""Recording validation outcomes where the certification reads them (audit.check_results).

Every outcome is attributed to the raw tables in the lineage of what was checked, so that a
failure uncertifies exactly the KPIs computed from those tables; a check whose lineage
reaches no raw table (reference data) is attributed to '*' and concerns every KPI.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Iterable, Mapping

import duckdb

from ccq.ingest.audit import ensure_audit

ALL_TABLES = "*"


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _insert_check_results(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    """One INSERT from an Arrow table: executemany runs one statement per row, which made
    recording a year of daily raw-suite outcomes take far longer than validating them."""
    import pyarrow as pa

    names = [f"c{i}" for i in range(len(rows[0]))]
    con.register("_ccq_check_rows", pa.table(dict(zip(names, map(list, zip(*rows))))))
    try:
        con.execute("INSERT INTO audit.check_results SELECT * FROM _ccq_check_rows")
    finally:
        con.unregister("_ccq_check_rows")


def record_suite_results(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    per_partition: Mapping[date | None, Iterable],  # extract day (None: the table) -> expectations.results.SuiteResult
    table_names: Iterable[str],
) -> int:
    """Replace the outcomes of these suites for these partitions with the new ones, in one delete
    and one insert: a statement per suite and day was 3.7 s of the demo's 35 days of raw suites,
    more than validating them."""
    import pyarrow as pa

    ensure_audit(con)
    rows, keys = [], []
    tables = list(table_names) or [ALL_TABLES]
    for partition_date, results in per_partition.items():
        for res in results:
            keys.append((res.suite, res.target, partition_date))
            for o in res.outcomes:
                for t in tables:
                    rows.append((run_id, "gx_suite", res.suite, o.name if not o.column else f"{o.name}({o.column})",
                                 res.target, t, partition_date, bool(o.success),
                                 "critical" if getattr(o, "severity", "critical") == "critical" else "warning",
                                 o.unexpected_count, o.element_count, o.details, _now()))
    if keys:
        suites, targets, days = map(list, zip(*keys))
        con.register("_ccq_check_keys", pa.table({"suite": pa.array(suites, pa.string()), "target": pa.array(targets, pa.string()),
                                                   "partition_date": pa.array(days, pa.date32())}))
        try:
            con.execute("""DELETE FROM audit.check_results c USING _ccq_check_keys k
                           WHERE c.suite = k.suite AND c.target = k.target
                             AND c.partition_date IS NOT DISTINCT FROM k.partition_date""")
        finally:
            con.unregister("_ccq_check_keys")
    if rows:
        _insert_check_results(con, rows)
    return len(rows)


def raw_lineage(manifest: dict, unique_id: str) -> set[str]:
    """Raw (schema raw) source tables upstream of a manifest node."""
    parents = manifest.get("parent_map", {})
    sources = manifest.get("sources", {})
    seen, stack, out = set(), [unique_id], set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node.startswith("source.") and sources.get(node, {}).get("schema") == "raw":
            out.add(sources[node]["name"])
        stack.extend(parents.get(node, []))
    return out


def _test_severity(node: dict) -> str:
    """A failing data test uncertifies its lineage, whatever severity dbt ran it with (every test
    runs as warn so the build goes on), unless the test says `meta: {ccq: {severity: warning}}`:
    a reference into another source system, which delivers at another hour."""
    return "warning" if str(_ccq_meta(node).get("severity") or "").lower() == "warning" else "critical"


def _ccq_meta(node: dict) -> dict:
    for meta in ((node.get("config") or {}).get("meta") or {}, node.get("meta") or {}):
        if meta.get("ccq"):
            return meta["ccq"]
    return {}


def failing_days(con: duckdb.DuckDBPyConnection, test: dict, model: dict) -> dict[date | None, int] | None:
    """The failing rows of a test per day, when its model says how to read a row's day
    (`meta: {ccq: {day: <SQL expression>}}`) and the failing rows carry the columns it reads:
    the test's own SQL again, grouped by that day. None when the failure concerns the whole model."""
    day, sql = _ccq_meta(model).get("day"), test.get("compiled_code")
    if not day or not sql:
        return None
    try:
        return dict(con.execute(f"SELECT {day} AS day, count(*) FROM ({sql}) AS failing GROUP BY ALL").fetchall())
    except duckdb.Error:  # the failing rows lack the day's columns (a key test over other columns)
        return None


def record_dbt_tests(con: duckdb.DuckDBPyConnection, run_id: str, run_results: dict, manifest: dict,
                     by_lineage: bool = True) -> int:
    """Store the outcome of every dbt data test of an invocation (pass, warn, fail, error). A
    failure on a model that names its day (failing_days) is stored per day, so it uncertifies
    only the periods of those days, as a failed raw suite does. Without `by_lineage` (the checks
    of the certified scorecard, which no later certification may read) an outcome is stored
    against the tested model itself instead of the raw tables of its lineage."""
    ensure_audit(con)
    nodes = manifest.get("nodes", {})
    rows = []
    for r in run_results.get("results", []):
        uid = r.get("unique_id", "")
        if not uid.startswith("test."):
            continue
        node = nodes.get(uid, {})
        attached = node.get("attached_node") or next(iter(node.get("depends_on", {}).get("nodes", [])), "")
        target = attached.split(".")[-1] if attached else ""
        lineage = (raw_lineage(manifest, uid) or {ALL_TABLES}) if by_lineage else {target}
        ok = r.get("status") == "pass"
        failures = r.get("failures")
        con.execute("DELETE FROM audit.check_results WHERE check_kind = 'dbt_test' AND check_name = ?", [node.get("name", uid)])
        severity = _test_severity(node)
        days = None if ok else failing_days(con, node, nodes.get(attached, {}))
        for day, unexpected in (days or {None: failures}).items():
            for t in sorted(lineage):
                rows.append((run_id, "dbt_test", "dbt", node.get("name", uid), target, t, day, ok, severity, unexpected,
                             None, (r.get("message") or "")[:1000], _now()))
    if rows:
        _insert_check_results(con, rows)
    return len(rows)
