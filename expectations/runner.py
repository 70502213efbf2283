"""Validate DuckDB relations with the JSON suites under expectations/suites/, batch by batch.

GX 1.x cannot validate DuckDB through its SQL datasource (GX issues 10738, 11579), so the
relation is streamed out of DuckDB as Arrow record batches, each batch is validated as a pandas
DataFrame by an ephemeral GX context, and the per-batch results are added up per expectation.
Memory stays bounded by `batch_rows`.

What GX cannot see batch by batch (key uniqueness over the whole table, column types, references
to other tables, volume against the norm, sums across grains) is declared in the suite's
`meta.ccq.table_checks` and run here as DuckDB queries (TABLE_CHECKS). A suite with table checks
only does not start GX at all. The raw suites are built from the raw contract plus a small JSON
per table (expectations/raw_suites.py). Columns the suite needs that the relation does not have
(sums of other columns, durations) are declared in `meta.ccq.derived_columns` as SQL expressions.
`{"$PARAMETER": name}` values are filled at run time from `parameters`, or else from
PARAMETER_RESOLVERS (e.g. the known queues from the reference.queues seed).
"""
from __future__ import annotations

import html
import json
import math
import re
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from expectations import raw_suites

if TYPE_CHECKING:
    import duckdb
    import great_expectations as gx

SUITES_DIR = Path(__file__).resolve().parent / "suites"
SAMPLE_LIMIT = 5

# One row per queue leg touched by the partition, built from all events of that leg (also those
# outside the partition), so a leg that crosses midnight or a file boundary is judged whole.
# Events are first deduplicated on event_id the way staging does (latest delivery wins), so a
# delivered-twice event is reported once, by the event_id checks, and not again as a broken leg.
QUEUE_LEGS_SQL = """
with legs as (
    select distinct contact_id, queue_leg
    from {relation}
    where ({where}) and contact_id is not null and queue_leg is not null
),
agg as (
    select
        e.contact_id,
        e.queue_leg,
        min(e.queue_id) as queue_id,
        count(distinct e.queue_id) as queues,
        count(*) as events,
        count(*) filter (where e.event_type = 'ENTERQUEUE') as entries,
        count(*) filter (where e.event_type in ('CONNECT', 'ABANDON', 'EXITTIMEOUT')) as outcomes,
        min(e.event_at) filter (where e.event_type = 'ENTERQUEUE') as entered_at,
        min(e.event_at) filter (where e.event_type = 'CONNECT') as connected_at,
        min(e.event_at) filter (where e.event_type in ('ABANDON', 'EXITTIMEOUT')) as exited_at,
        min(e.event_at) filter (where e.event_type in ('COMPLETE', 'TRANSFER')) as ended_at,
        min(e.event_at) filter (where e.event_type = 'ACWEND') as acw_ended_at,
        -- Where the leg starts in the extracts (its ENTERQUEUE line, else its first line), for the report.
        coalesce(arg_min(e._file_id, e._line_no) filter (where e.event_type = 'ENTERQUEUE'),
                 arg_min(e._file_id, e._line_no)) as _file_id,
        coalesce(min(e._line_no) filter (where e.event_type = 'ENTERQUEUE'), min(e._line_no)) as _line_no
    from (
        select *
        from {relation}
        join legs using (contact_id, queue_leg)
        qualify row_number() over (
            partition by event_id
            order by _loaded_at desc nulls last, _source_file desc nulls last, _line_no desc nulls last
        ) = 1
    ) as e
    group by e.contact_id, e.queue_leg
)
select
    *,
    epoch(connected_at - entered_at) as entry_to_answer_seconds,
    epoch(exited_at - entered_at) as entry_to_exit_seconds,
    epoch(ended_at - connected_at) as answer_to_end_seconds,
    epoch(acw_ended_at - ended_at) as end_to_acw_end_seconds
from agg
"""


@dataclass(frozen=True)
class SuiteSpec:
    """What a suite validates: a relation, or (frame_sql) a frame built from it with {relation} and {where}."""

    relation: str
    description: str
    frame_sql: str | None = None
    frame_label: str | None = None  # shown after the relation in reports, for frames built by frame_sql
    build: Callable[[], dict] | None = None  # builds the suite document (else suites/<name>.json)

    def path(self, name: str) -> Path:
        return SUITES_DIR / f"{name}.json"


def _raw_suites() -> dict[str, SuiteSpec]:
    from functools import partial

    from ccq.contract import tables

    out: dict[str, SuiteSpec] = {}
    for t in tables().values():
        out[raw_suites.raw_suite_name(t.name)] = SuiteSpec(
            relation=f"raw.{t.name}",
            description=f"Raw {t.name}: contract columns, required values, codes, ranges, no future times, key; "
                        "plus the table's own rules (durations, order).",
            build=partial(raw_suites.build_raw_suite, t.name),
        )
        out[raw_suites.integrity_suite_name(t.name)] = SuiteSpec(
            relation=f"raw.{t.name}",
            description=f"Raw {t.name}: column types, volume against the norm, references to other sources.",
            build=partial(raw_suites.build_integrity_suite, t.name),
        )
    return out


SUITES: dict[str, SuiteSpec] = {
    **_raw_suites(),
    "raw_acd_queue_legs": SuiteSpec(
        relation="raw.acd_queue_events",
        description="Event order within each queue leg (one row per contact_id, queue_leg).",
        frame_sql=QUEUE_LEGS_SQL,
        frame_label="queue legs",
    ),
    "fct_queue_intervals": SuiteSpec(
        relation="marts.fct_queue_intervals",
        description="Interval mart: keys, non-negative counts, answered/abandoned within offered, handle time sum, unique key.",
    ),
    "int_kpi_parts": SuiteSpec(
        relation="intermediate.int_kpi_parts",
        description="KPI parts, before certification: additive parts that add up from intervals to hours and days, weeks and months.",
    ),
    "kpi_values": SuiteSpec(
        relation="marts.kpi_values",
        description="KPI values, before publishing: values that match their parts, every part published, a reason for "
                    "every uncertified value, certified values plausible.",
    ),
}


def _queue_ids(con: "duckdb.DuckDBPyConnection") -> list[str]:
    """The queues the warehouse knows: configured in the seeds (read from seeds/queues.csv: the raw
    load runs before dbt seeds them into the warehouse), or named by the ACD's own events
    (registered from the data with default parameters, int_reference__queues). A forecast for a
    queue in neither is a typo or another centre's."""
    from ccq.reference import queue_ids

    known = set(queue_ids())
    try:
        known |= {q for (q,) in con.execute(
            "select distinct queue_id from raw.acd_queue_events where queue_id is not null").fetchall()}
    except Exception:  # duckdb.CatalogException (no ACD events loaded yet); duckdb is not imported at module load
        pass
    return sorted(known)


def _now_utc(con: "duckdb.DuckDBPyConnection") -> datetime:
    # event_at is a naive UTC TIMESTAMP; pandas refuses to compare naive with aware values.
    return datetime.now(timezone.utc).replace(tzinfo=None)


PARAMETER_RESOLVERS: dict[str, Callable[["duckdb.DuckDBPyConnection"], Any]] = {
    "queue_ids": _queue_ids,
    "now_utc": _now_utc,
}


@dataclass
class CheckOutcome:
    """One expectation (or table-level check), aggregated over batches."""

    name: str
    column: str | None
    success: bool
    unexpected_count: int
    element_count: int
    details: str
    expectation: str = ""
    notes: str = ""
    severity: str = "critical"  # GX FailureSeverity: critical, warning or info


@dataclass
class SuiteResult:
    suite: str
    target: str
    success: bool
    batches: int
    rows: int
    outcomes: list[CheckOutcome]
    started_at: datetime
    seconds: float
    where: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def critical_failed(self) -> list[CheckOutcome]:
        """Failed checks of severity critical; the others (warning, info) need not block."""
        return [o for o in self.outcomes if not o.success and o.severity == "critical"]

    def summary(self) -> str:
        head = f"{self.suite} on {self.target}"
        if self.where:
            head += f" [{partition_label(self.where)}]"
        size = (
            f"{self.rows:,} row{'s' if self.rows != 1 else ''}, "
            f"{self.batches} batch{'es' if self.batches != 1 else ''}, {self.seconds:.1f}s"
        )
        failed = self.failed
        if not failed:
            return f"{head}: all {len(self.outcomes)} checks passed ({size})"
        shown = "; ".join(f"{o.name}: {_failure_brief(o)}" for o in failed[:SAMPLE_LIMIT])
        if len(failed) > SAMPLE_LIMIT:
            shown += f"; +{len(failed) - SAMPLE_LIMIT} more"
        return f"{head}: {len(failed)} of {len(self.outcomes)} checks failed ({shown}) ({size})"


def _failure_brief(o: CheckOutcome) -> str:
    brief = "error" if o.details.startswith("error") else f"{o.unexpected_count:,} unexpected"
    return brief if o.severity == "critical" else f"{brief}, {o.severity}"


def partition_label(where: str) -> str:
    """The partition's date when the filter names exactly one ISO date, else the filter itself."""
    dates = set(re.findall(r"'(\d{4}-\d{2}-\d{2})'", where))
    return dates.pop() if len(dates) == 1 else where


# ---------------------------------------------------------------- suites


def _suite_path(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".json":
        return p
    return SUITES_DIR / f"{name_or_path}.json"


def read_suite_json(name_or_path: str | Path) -> dict:
    spec = SUITES.get(name_or_path) if isinstance(name_or_path, str) else None
    if spec is not None and spec.build is not None:
        doc = spec.build()
        path = name_or_path
    else:
        path = _suite_path(name_or_path)
        doc = json.loads(path.read_text(encoding="utf-8"))
    names = [expectation_name(e) for e in doc.get("expectations", [])]
    names += [c["name"] for c in _ccq_meta(doc).get("table_checks", [])]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"{path}: check names must be unique, repeated: {', '.join(dupes)}")
    return doc


def load_suite(name_or_path: str | Path) -> "gx.ExpectationSuite":
    """Suite name (file under expectations/suites/) or path of a suite JSON -> gx.ExpectationSuite."""
    return _build_suite(read_suite_json(name_or_path))


def _build_suite(doc: dict) -> "gx.ExpectationSuite":
    import great_expectations as gx

    suite = gx.ExpectationSuite(**doc)
    # GX logs and drops an expectation whose type it does not know instead of raising.
    if len(suite.expectations) != len(doc.get("expectations", [])):
        kept = {e.expectation_type for e in suite.expectations}
        lost = [e.get("type") for e in doc["expectations"] if e.get("type") not in kept]
        raise ValueError(f"suite {doc.get('name')}: GX rejected expectations: {', '.join(map(str, lost))}")
    return suite


def expectation_name(e: dict) -> str:
    meta = e.get("meta") or {}
    if meta.get("name"):
        return str(meta["name"])
    col = _columns_of(e.get("kwargs") or {})
    return f"{e.get('type')}({col})" if col else str(e.get("type"))


def _read_columns(doc: dict) -> set[str] | None:
    """The columns the suite's expectations read (their column arguments and row conditions),
    or None when one of them reads the whole frame (a table expectation such as the column set)."""
    cols: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                if k in ("column", "column_A", "column_B") and isinstance(x, str):
                    cols.add(x)
                elif k == "column" and isinstance(x, dict) and isinstance(x.get("name"), str):
                    cols.add(x["name"])  # a row condition's column
                elif k == "column_list":
                    cols.update(map(str, x))
                else:
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for e in doc["expectations"]:
        if _columns_of(e.get("kwargs") or {}) is None:
            return None
        walk(e.get("kwargs") or {})
    return cols


def _columns_of(kwargs: dict) -> str | None:
    if kwargs.get("column"):
        return str(kwargs["column"])
    if kwargs.get("column_A"):
        return f"{kwargs['column_A']}, {kwargs['column_B']}"
    if kwargs.get("column_list"):
        return ", ".join(map(str, kwargs["column_list"]))
    return None


def _ccq_meta(doc: dict) -> dict:
    return (doc.get("meta") or {}).get("ccq") or {}


def suite_parameters(doc: dict) -> set[str]:
    """Names of the $PARAMETER references in a suite document."""
    found: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            if "$PARAMETER" in v:
                found.add(str(v["$PARAMETER"]))
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(doc.get("expectations", []))
    return found


def _resolve_parameters(doc: dict, con, given: dict | None) -> dict[str, Any]:
    given = dict(given or {})
    out = {}
    for name in sorted(suite_parameters(doc)):
        if name in given:
            out[name] = given[name]
        elif name in PARAMETER_RESOLVERS:
            out[name] = PARAMETER_RESOLVERS[name](con)
        else:
            raise ValueError(f"suite {doc.get('name')}: no value for parameter {name!r}")
    return out


def _q(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def frame_query(suite_name: str, relation: str | None = None, where: str | None = None) -> str:
    """The query whose rows the suite validates."""
    spec = SUITES[suite_name]
    doc = read_suite_json(suite_name)
    return _frame_sql(spec, doc, relation or spec.relation, where)


def _frame_sql(spec: SuiteSpec, doc: dict, relation: str, where: str | None) -> str:
    w = where or "true"
    if spec.frame_sql:
        # Not str.format: a filter may contain braces.
        sql = spec.frame_sql.replace("{relation}", relation).replace("{where}", w)
    else:
        sql = f"select * from {relation} where ({w})"
    derived = _ccq_meta(doc).get("derived_columns") or {}
    if derived:
        cols = ", ".join(f"({expr}) as {_q(name)}" for name, expr in derived.items())
        sql = f"select *, {cols} from ({sql}) as frame"
    return sql


# ---------------------------------------------------------------- aggregation over batches


@dataclass
class _Acc:
    name: str
    expectation: str
    column: str | None
    notes: str
    severity: str = "critical"
    map_metric: bool = False
    success: bool = True
    unexpected: int = 0
    elements: int = 0
    failed_batches: int = 0
    samples: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    observed: str | None = None
    observed_count: int = 0

    def add(self, r, batch_rows: int, index_columns: list[str]) -> None:
        res = r.result or {}
        errors = _exception_messages(r.exception_info)
        if errors:
            self.success = False
            for m in errors:
                if m not in self.errors:
                    self.errors.append(m)
        if not r.success:
            self.success = False
            self.failed_batches += 1
        if "unexpected_count" in res:
            self.map_metric = True
            self.unexpected += int(res.get("unexpected_count") or 0)
            self.elements += int(res.get("element_count") or 0)
            if not r.success:
                rows = res.get("partial_unexpected_index_list") or [
                    {"value": v} for v in (res.get("partial_unexpected_list") or [])
                ]
                for row in rows:
                    if len(self.samples) >= SAMPLE_LIMIT:
                        break
                    s = _format_sample(row, index_columns)
                    if s not in self.samples:
                        self.samples.append(s)
        else:
            self.elements += batch_rows
            if not r.success and not errors and self.observed is None:
                self.observed, self.observed_count = _describe_observed(res)

    def outcome(self) -> CheckOutcome:
        if self.map_metric:
            unexpected = self.unexpected
        elif self.success:
            unexpected = 0
        else:
            unexpected = self.observed_count or self.failed_batches or 1
        parts = []
        if self.errors:
            parts.append("error: " + " | ".join(self.errors[:3]))
        if self.map_metric and (self.unexpected or not self.success):
            pct = self.unexpected / self.elements if self.elements else 0.0
            s = f"{self.unexpected:,} of {self.elements:,} unexpected ({pct:.2%})"
            if self.samples:
                s += "; e.g. " + "; ".join(self.samples)
            parts.append(s)
        elif not self.map_metric and not self.success and self.observed:
            parts.append(self.observed)
        if not parts:
            parts.append(f"ok ({self.elements:,} checked)")
        return CheckOutcome(
            name=self.name,
            column=self.column,
            success=self.success,
            unexpected_count=unexpected,
            element_count=self.elements,
            details="; ".join(parts),
            expectation=self.expectation,
            notes=self.notes,
            severity=self.severity,
        )


def _exception_messages(info: Any) -> list[str]:
    # GX 1.x reports either one {raised_exception, exception_message} or one such dict per metric.
    if not info:
        return []
    if isinstance(info, dict) and "raised_exception" in info:
        info = {"": info}
    out = []
    for v in (info.values() if isinstance(info, dict) else []):
        if isinstance(v, dict) and v.get("raised_exception"):
            out.append(str(v.get("exception_message") or "exception")[:300])
    return out


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "null"
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "(" + ", ".join(_fmt(x) for x in v) + ")"
    return str(v)


def _file_line(file_id: Any, line_no: Any) -> str:
    """'<file name> line <n>', as the loader words its quarantine messages."""
    name = str(file_id).rsplit("/", 1)[-1] if file_id is not None and _fmt(file_id) != "null" else ""
    line = "" if line_no is None or _fmt(line_no) in ("null", "nan") else f"line {int(float(line_no))}"
    return " ".join(p for p in (name, line) if p)


def _format_sample(row: Any, index_columns: list[str]) -> str:
    if not isinstance(row, dict):
        return _fmt(row)
    where = _file_line(row.get("_file_id"), row.get("_line_no")) if {"_file_id", "_line_no"} & set(row) else ""
    index_columns = [c for c in index_columns if c not in ("_file_id", "_line_no")]
    values = [f"{k}={_fmt(v)}" for k, v in row.items() if k not in index_columns and k not in ("_file_id", "_line_no")]
    ids = [f"{k}={_fmt(row[k])}" for k in index_columns if k in row]
    if not values:
        text = ", ".join(ids)
    elif not ids:
        text = ", ".join(values)
    else:
        text = ", ".join(values) + " (" + ", ".join(ids) + ")"
    return f"{where}: {text}" if where else text


def _describe_observed(res: dict) -> tuple[str, int]:
    mismatched = (res.get("details") or {}).get("mismatched")
    if isinstance(mismatched, dict):
        missing = list(mismatched.get("missing") or [])
        extra = list(mismatched.get("unexpected") or [])
        parts = []
        if missing:
            parts.append("missing columns: " + ", ".join(map(str, missing)))
        if extra:
            parts.append("unexpected columns: " + ", ".join(map(str, extra)))
        return "; ".join(parts) or "mismatch", len(missing) + len(extra)
    observed = res.get("observed_value")
    return f"observed {_fmt(observed)[:300]}", 0


# ---------------------------------------------------------------- table-level checks


def _key_unique(con, relation: str, where: str | None, check: dict, rows: int, params: dict | None = None) -> CheckOutcome:
    cols = [str(c) for c in check["columns"]]
    keys = ", ".join(_q(c) for c in cols)
    not_null = " and ".join(f"{_q(c)} is not null" for c in cols)
    # Raw tables: name the file and line of every copy.
    located = ", string_agg(_file_id || coalesce(':' || _line_no, ''), ', ' order by _file_id, _line_no) as copies" \
        if check.get("locate") else ", null as copies"
    if where and check.get("scope", "table") == "table":
        dup = (
            f"select {keys}, count(*) as n{located} from {relation} "
            f"join (select distinct {keys} from {relation} where ({where}) and {not_null}) as part using ({keys}) "
            f"group by {keys} having count(*) > 1"
        )
        scope = f"the whole of {relation}"
    else:
        dup = (
            f"select {keys}, count(*) as n{located} from {relation} where ({where or 'true'}) and {not_null} "
            f"group by {keys} having count(*) > 1"
        )
        scope = "the partition" if where else relation
    sql = (
        f"select *, count(*) over () as dup_keys, sum(n) over () as dup_rows from ({dup}) as d "
        f"order by n desc, {keys} limit {SAMPLE_LIMIT}"
    )
    found = con.execute(sql).fetchall()
    dup_keys = int(found[0][-2]) if found else 0
    dup_rows = int(found[0][-1]) if found else 0
    if dup_keys:
        samples = []
        for r in found:
            key = ", ".join(f"{c}={_fmt(v)}" for c, v in zip(cols, r[: len(cols)]))
            copies = r[len(cols) + 1]
            where_from = ""
            if copies:
                where_from = " (" + ", ".join(
                    _file_line(*(c.rsplit(":", 1) if ":" in c else (c, None))) for c in copies.split(", ")) + ")"
            samples.append(f"{key} x{r[len(cols)]}{where_from}")
        details = (
            f"{dup_rows:,} rows share {dup_keys:,} key value(s) with another row in {scope}; e.g. "
            + "; ".join(samples)
        )
    else:
        details = f"ok ({rows:,} checked against {scope})"
    return _table_outcome(check, ", ".join(cols), dup_keys == 0, dup_rows, rows, details)


def _table_outcome(check: dict, column: str | None, success: bool, unexpected: int, elements: int,
                   details: str) -> CheckOutcome:
    return CheckOutcome(
        name=check["name"],
        column=column,
        success=success,
        unexpected_count=int(unexpected),
        element_count=int(elements),
        details=details,
        expectation=f"table:{check['kind']}",
        notes=str(check.get("notes", "")),
        severity=str(check.get("severity", "critical")),
    )


def _split_relation(relation: str) -> tuple[str, str]:
    schema, _, name = relation.rpartition(".")
    return schema or "main", name


def _column_types(con, relation: str, where: str | None, check: dict, rows: int, params: dict | None = None) -> CheckOutcome:
    schema, name = _split_relation(relation)
    actual = dict(con.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, name]).fetchall())
    want = {str(k): str(v).upper() for k, v in check["types"].items()}
    # Missing or extra columns are the column-set check's business; here: the type of each shared column.
    wrong = [f"{c} is {actual[c]}, expected {t}" for c, t in want.items() if c in actual and actual[c].upper() != t]
    details = "; ".join(wrong) if wrong else f"ok ({len([c for c in want if c in actual])} columns as declared)"
    return _table_outcome(check, None, not wrong, len(wrong), len(want), details)


def _references(con, relation: str, where: str | None, check: dict, rows: int, params: dict | None = None) -> CheckOutcome:
    cols = [str(c) for c in check["columns"]]
    to_cols = [str(c) for c in check.get("to_columns", cols)]
    target = str(check["to"])
    cond = " and ".join([f"({where or 'true'})", *(f"s.{_q(c)} is not null" for c in cols),
                         f"({check['condition']})" if check.get("condition") else "true"])
    match = " and ".join(f"t.{_q(tc)} = s.{_q(c)}" for c, tc in zip(cols, to_cols))
    keys = ", ".join(f"s.{_q(c)}" for c in cols)
    [(elements,)] = con.execute(f"select count(*) from {relation} as s where {cond}").fetchall()
    found = con.execute(
        f"""select {keys}, count(*) as n, min(s._line_no) as first_line, arg_min(s._file_id, s._line_no) as file_id,
                   count(*) over () as missing_values, sum(count(*)) over () as missing_rows
            from {relation} as s
            where {cond} and not exists (select 1 from {target} as t where {match})
            group by {keys} order by n desc, {keys} limit {SAMPLE_LIMIT}"""
        if check.get("locate", True) else
        f"""select {keys}, count(*) as n, null, null, count(*) over (), sum(count(*)) over ()
            from {relation} as s where {cond} and not exists (select 1 from {target} as t where {match})
            group by {keys} order by n desc, {keys} limit {SAMPLE_LIMIT}""").fetchall()
    missing_rows = int(found[0][-1]) if found else 0
    missing_values = int(found[0][-2]) if found else 0
    ref = f"{target} ({', '.join(to_cols)})"
    if found:
        samples = []
        for r in found:
            key = ", ".join(f"{c}={_fmt(v)}" for c, v in zip(cols, r[: len(cols)]))
            n, first_line, file_id = r[len(cols): len(cols) + 3]
            at = _file_line(file_id, first_line)
            samples.append(f"{key} x{n}" + (f" (first at {at})" if at else ""))
        details = (f"{missing_rows:,} of {elements:,} rows ({missing_values:,} value(s)) have no match in {ref}; e.g. "
                   + "; ".join(samples))
    else:
        details = f"ok ({elements:,} rows found in {ref})"
    return _table_outcome(check, ", ".join(cols), not found, missing_rows, elements, details)


def _query(con, relation: str, where: str | None, check: dict, rows: int, params: dict | None = None) -> CheckOutcome:
    """Rows returned by check['sql'] are violations; {relation} and {where} are filled in."""
    sql = str(check["sql"]).replace("{relation}", relation).replace("{where}", where or "true")
    cur = con.execute(f"select *, count(*) over () as _violations from ({sql}) as v limit {SAMPLE_LIMIT}")
    names = [d[0] for d in cur.description][:-1]
    found = cur.fetchall()
    n = int(found[0][-1]) if found else 0
    if found:
        samples = ["; ".join(f"{k}={_fmt(v)}" for k, v in zip(names, r[:-1])) for r in found]
        details = f"{n:,} violation(s); e.g. " + " | ".join(samples)
    else:
        details = f"ok ({rows:,} rows checked)"
    return _table_outcome(check, check.get("column"), n == 0, n, rows, details)


def _volume_norm(con, relation: str, where: str | None, check: dict, rows: int, params: dict | None = None) -> CheckOutcome:
    """Rows read on the partition's day against the median of the same weekday in the previous weeks."""
    from datetime import date, timedelta

    day = (params or {}).get("partition_date")
    if day is None:
        return _table_outcome(check, None, True, 0, 0, "not applicable (no extract day given)")
    day = date.fromisoformat(str(day)[:10])
    history_days = [day - timedelta(days=7 * w) for w in range(1, int(check.get("weeks", 4)) + 1)]
    counts = dict(con.execute(
        "select file_date, sum(rows_read) from audit.load_files where table_name = ? and file_date in "
        "(select unnest(?::DATE[])) group by file_date",
        [check["table"], [day, *history_days]]).fetchall())
    if day not in counts:
        return _table_outcome(check, None, True, 0, 0, "not applicable (no extract for the day)")
    today = int(counts[day])
    history = sorted(int(counts[d]) for d in history_days if d in counts)
    if len(history) < int(check.get("min_history", 2)):
        return _table_outcome(check, None, True, 0, today,
                              f"not enough history ({len(history)} earlier {day:%A}s); {today:,} rows read")
    mid = len(history) // 2
    norm = history[mid] if len(history) % 2 else (history[mid - 1] + history[mid]) / 2
    if norm < float(check.get("min_rows", 0)):
        return _table_outcome(check, None, True, 0, today,
                              f"no norm for so small an extract (median {norm:,.0f} rows); {today:,} rows read")
    ratio = float(check["ratio"])
    share = today / norm if norm else 0.0
    ok = share >= ratio if check.get("bound", "low") == "low" else share <= ratio
    bound = "at least" if check.get("bound", "low") == "low" else "at most"
    details = (f"{today:,} rows read on {day} = {share:.0%} of the norm {norm:,.0f} (median of {len(history)} earlier "
               f"{day:%A}s: {', '.join(f'{h:,}' for h in history)}); expected {bound} {ratio:.0%}")
    return _table_outcome(check, None, ok, 0 if ok else 1, 1, details)


TABLE_CHECKS: dict[str, Callable[..., CheckOutcome]] = {
    "key_unique": _key_unique,
    "column_types": _column_types,
    "references": _references,
    "query": _query,
    "volume_norm": _volume_norm,
}


# ---------------------------------------------------------------- validation

# GX keeps a process-wide "current project"; one validation at a time per process keeps contexts apart.
_GX_LOCK = threading.Lock()


def _ephemeral_context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    # GX draws a tqdm bar per metric calculation unless told not to.
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return ctx


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
    meta = _ccq_meta(doc)
    # Resolved before streaming: DuckDB refuses another query on a connection with an open stream,
    # and a stream on one with a result left unfinished by the caller (a statement run to the end
    # releases it).
    params = _resolve_parameters(doc, con, parameters)
    con.execute("select 1").fetchall()
    sql = _frame_sql(spec, doc, relation, where)
    read = _read_columns(doc) if doc["expectations"] else None
    if read is not None:
        # Only the columns the expectations read, the index of failure samples and the file and
        # line of raw rows go to pandas: a wide mart (kpi_values) is mostly text GX never looks at.
        keep = read | set(meta.get("index_columns") or []) | {"_file_id", "_line_no"}
        frame_columns = [d[0] for d in con.execute(f"select * from ({sql}) as frame limit 0").description]
        if any(c in keep for c in frame_columns):
            sql = f"select {', '.join(_q(c) for c in frame_columns if c in keep)} from ({sql}) as frame"
    target = f"{relation} ({spec.frame_label})" if spec.frame_label else relation

    accs: list[_Acc] = []
    if not doc["expectations"]:
        # Table checks only: no GX, no streaming.
        batches, rows = 0, int(con.execute(f"select count(*) from ({sql}) as frame").fetchall()[0][0])
    else:
        with _GX_LOCK:
            suite = _build_suite(doc)
            accs = [
                _Acc(
                    name=expectation_name(e),
                    expectation=e["type"],
                    column=_columns_of(e.get("kwargs") or {}),
                    notes=str(e.get("notes") or ""),
                    severity=str(e.get("severity") or "critical"),
                )
                for e in doc["expectations"]
            ]
            by_name = {a.name: a for a in accs}
            ctx = _ephemeral_context()
            batch_def = (
                ctx.data_sources.add_pandas("ccq_duckdb")
                .add_dataframe_asset(suite_name)
                .add_batch_definition_whole_dataframe("arrow_batch")
            )
            batches = rows = 0
            reader = con.sql(sql).to_arrow_reader(batch_rows)
            try:
                schema = reader.schema
                for table in _rebatch(reader, batch_rows):
                    _validate_frame(_to_pandas(table), batch_def, suite, params, meta, by_name)
                    batches += 1
                    rows += table.num_rows
            finally:
                reader.close()
            if batches == 0:
                # Still run the structural checks (column set) on the empty frame.
                _validate_frame(_to_pandas(schema.empty_table()), batch_def, suite, params, meta, by_name)
                batches = 1

    outcomes = [a.outcome() for a in accs]
    check_params = {**params, **(parameters or {})}
    for check in meta.get("table_checks", []):
        outcomes.append(TABLE_CHECKS[check["kind"]](con, relation, where, check, rows, check_params))
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
        parameters={k: _param_for_report(v) for k, v in params.items()},
    )


def _rebatch(reader, batch_rows: int):
    """Arrow tables of exactly batch_rows rows (the last may be shorter); DuckDB caps its chunks at a row group."""
    import pyarrow as pa

    pending: list = []
    pending_rows = 0
    for rb in reader:
        if rb.num_rows == 0:
            continue
        pending.append(rb)
        pending_rows += rb.num_rows
        while pending_rows >= batch_rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, batch_rows)
            rest = table.slice(batch_rows)
            pending, pending_rows = rest.to_batches(), rest.num_rows
    if pending_rows:
        yield pa.Table.from_batches(pending)


def _to_pandas(table):
    import pyarrow as pa
    import pyarrow.compute as pc

    # DuckDB sums are HUGEINT/DECIMAL, which Arrow hands to pandas as Python Decimal objects.
    for i, f in enumerate(table.schema):
        if pa.types.is_decimal(f.type):
            try:
                col = pc.cast(table.column(i), pa.int64() if f.type.scale == 0 else pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                col = pc.cast(table.column(i), pa.float64(), safe=False)
            table = table.set_column(i, f.name, col)
    # GX compares datetimes vectorised only for datetime64[ns] (dates too, so they compare with
    # datetime parameters) and numbers only for int64/float64;
    # Arrow gives datetime64[us] and int32, which GX checks value by value in Python (several times slower).
    try:
        df = table.to_pandas(coerce_temporal_nanoseconds=True, date_as_object=False)
    except (pa.ArrowInvalid, OverflowError, pa.ArrowNotImplementedError):
        df = table.to_pandas()  # a timestamp beyond 2262: correct, only slower
    for col, dtype in df.dtypes.items():
        if getattr(dtype, "kind", "") == "i" and dtype.itemsize < 8:
            df[col] = df[col].astype("int64")
    return df


def _validate_frame(df, batch_def, suite, params: dict, meta: dict, by_name: dict[str, _Acc]) -> None:
    index_columns = [c for c in meta.get("index_columns", []) if c in df.columns]
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_LIMIT}
    if index_columns:
        result_format["unexpected_index_column_names"] = index_columns
    batch = batch_def.get_batch(batch_parameters={"dataframe": df})
    res = batch.validate(suite, expectation_parameters=params, result_format=result_format)
    for r in res.results:
        cfg = r.expectation_config
        name = expectation_name({"type": cfg.type, "kwargs": cfg.kwargs, "meta": cfg.meta})
        by_name[name].add(r, len(df), index_columns)


def _param_for_report(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (list, tuple)) and len(v) > 20:
        return [*v[:20], f"... {len(v) - 20} more"]
    return v


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
    """Every suite of one raw table on the extract file of one day: row checks (and for the ACD
    events the queue-leg order), then the table-level checks (types, volume, references)."""
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
    fails do they run again day by day, to say which day. What is a per-day question by nature,
    the volume against the norm, is asked per day, from the load audit; the rows each day
    contributed are counted in one grouped query per suite."""
    days = sorted(set(days))
    out: dict[str, list[SuiteResult]] = {d: [] for d in days}
    suite_names = [*_raw_gx_suites(table_name), raw_suites.integrity_suite_name(table_name)]
    if len(days) == 1:
        d = days[0]
        where = raw_file_filter(table_name, d)
        params = {"partition_date": d, **(parameters or {})}
        out[d] = [validate(con, n, where=where, batch_rows=batch_rows,
                           parameters=params if n == suite_names[-1] else parameters) for n in suite_names]
        return out
    where_all = raw_files_filter(table_name, days)
    for n in suite_names:
        together = validate(con, n, where=where_all, batch_rows=batch_rows, parameters=parameters)
        if together.success:
            rows = _rows_per_day(con, n, table_name, where_all)
            for d in days:
                out[d].append(_passed_on_day(con, together, d, raw_file_filter(table_name, d), rows.get(d, 0), days,
                                             parameters))
        else:
            for d in days:
                params = {"partition_date": d, **(parameters or {})} if n == suite_names[-1] else parameters
                out[d].append(validate(con, n, where=raw_file_filter(table_name, d), batch_rows=batch_rows,
                                       parameters=params))
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


def _passed_on_day(con, together: SuiteResult, day: str, where: str, rows: int, days: list[str],
                   parameters: dict | None) -> SuiteResult:
    """One day's share of a suite that passed on several days at once; the volume checks, which
    are about the day alone, asked for the day."""
    from dataclasses import replace

    checks = {c["name"]: c for c in _ccq_meta(read_suite_json(together.suite)).get("table_checks", [])}
    outcomes = []
    for o in together.outcomes:
        check = checks.get(o.name)
        if check is not None and check["kind"] == "volume_norm":
            params = {**(parameters or {}), "partition_date": day}
            outcomes.append(_volume_norm(con, together.target, where, check, rows, params))
        else:
            outcomes.append(replace(o, element_count=rows, unexpected_count=0,
                                    details=f"ok ({rows:,} checked, with the run's {len(days)} days together)"))
    return replace(together, where=where, rows=rows, batches=1, outcomes=outcomes,
                   success=all(o.success for o in outcomes),
                   parameters={**together.parameters, **({"partition_date": day} if checks else {})})


def validate_kpi_parts(con: "duckdb.DuckDBPyConnection", batch_rows: int = 250_000) -> list[SuiteResult]:
    return [validate(con, "int_kpi_parts", batch_rows=batch_rows)]


def validate_kpi_values(con: "duckdb.DuckDBPyConnection", batch_rows: int = 250_000) -> list[SuiteResult]:
    return [validate(con, "kpi_values", batch_rows=batch_rows)]


def validate_queue_intervals(
    con: "duckdb.DuckDBPyConnection",
    where: str | None = None,
    batch_rows: int = 250_000,
    parameters: dict | None = None,
) -> list[SuiteResult]:
    return [validate(con, "fct_queue_intervals", where=where, batch_rows=batch_rows, parameters=parameters)]


# ---------------------------------------------------------------- report


def _json_default(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    return str(v)


def write_report(results: list[SuiteResult], out_dir: Path, name: str | None = None) -> Path:
    """Write one HTML page (and a JSON twin) for a validation run; returns the HTML path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    run_at = min((r.started_at for r in results), default=datetime.now(timezone.utc))
    stem = name or f"validation_{run_at.strftime('%Y%m%dT%H%M%SZ')}_{uuid.uuid4().hex[:6]}"
    html_path = out_dir / f"{stem}.html"
    json_path = out_dir / f"{stem}.json"
    payload = {
        "run_at": run_at,
        "success": all(r.success for r in results),
        "summaries": [r.summary() for r in results],
        "results": [asdict(r) for r in results],
    }
    _write_atomic(json_path, json.dumps(payload, indent=2, default=_json_default))
    _write_atomic(html_path, _render_html(results, run_at))
    return html_path


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;width:100%}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top;font-size:.9em}
th{background:#f3f3f3}
.pass{color:#1a7f37;font-weight:600}.fail{color:#c62828;font-weight:600}.warn{color:#b26a00;font-weight:600}
tr.failrow{background:#fdecea}tr.warnrow{background:#fff4e0}
code{font-size:.9em}.muted{color:#777}
"""


def _render_html(results: list[SuiteResult], run_at: datetime) -> str:
    e = html.escape

    def level(success: bool, critical: bool = True) -> str:
        return "pass" if success else "fail" if critical else "warn"

    def status(success: bool, critical: bool = True) -> str:
        lv = level(success, critical)
        return f'<span class="{lv}">{"WARN" if lv == "warn" else lv.upper()}</span>'

    def row_class(success: bool, critical: bool = True) -> str:
        lv = level(success, critical)
        return "" if lv == "pass" else f"{lv}row"

    ok = all(r.success for r in results)
    ok_critical = not any(r.critical_failed for r in results)

    out = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Validation {e(run_at.isoformat())}</title><style>{_CSS}</style></head><body>",
        f"<h1>Data validation {status(ok, not ok_critical)}</h1>",
        f"<p class='muted'>Run started {e(run_at.strftime('%Y-%m-%d %H:%M:%S %Z'))}; {len(results)} suite(s).</p>",
        "<table><tr><th>Suite</th><th>Target</th><th>Partition</th><th>Status</th><th>Failed checks</th>"
        "<th>Rows</th><th>Batches</th><th>Seconds</th></tr>",
    ]
    for i, r in enumerate(results):
        failed = ", ".join(o.name for o in r.failed) or "-"
        crit = bool(r.critical_failed)
        out.append(
            f"<tr class='{row_class(r.success, crit)}'><td><a href='#s{i}'>{e(r.suite)}</a></td>"
            f"<td><code>{e(r.target)}</code></td><td><code>{e(r.where or 'all rows')}</code></td>"
            f"<td>{status(r.success, crit)}</td><td>{e(failed)}</td><td>{r.rows:,}</td><td>{r.batches}</td>"
            f"<td>{r.seconds:.2f}</td></tr>"
        )
    out.append("</table>")
    for i, r in enumerate(results):
        out.append(f"<h2 id='s{i}'>{e(r.suite)} {status(r.success, bool(r.critical_failed))}</h2>")
        out.append(f"<p>{e(r.summary())}</p>")
        if r.parameters:
            params = ", ".join(f"{k} = {v}" for k, v in r.parameters.items())
            out.append(f"<p class='muted'>Parameters: {e(params)}</p>")
        out.append(
            "<table><tr><th>Status</th><th>Check</th><th>Column</th><th>Unexpected</th><th>Checked</th>"
            "<th>Details</th><th>Expectation</th></tr>"
        )
        for o in sorted(r.outcomes, key=lambda o: (o.success, o.severity != "critical")):
            notes = f"<br><span class='muted'>{e(o.notes)}</span>" if o.notes else ""
            crit = o.severity == "critical"
            out.append(
                f"<tr class='{row_class(o.success, crit)}'><td>{status(o.success, crit)}</td>"
                f"<td>{e(o.name)}{notes}</td><td>{e(o.column or '')}</td><td>{o.unexpected_count:,}</td>"
                f"<td>{o.element_count:,}</td><td>{e(o.details)}</td><td><code>{e(o.expectation)}</code></td></tr>"
            )
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)
