"""The suites: which exist (raw ones generated from the contract, the rest JSON under suites/), how
to read and build them, their `$PARAMETER` values, and the SQL of the frame each one validates."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from expectations import raw_suites

if TYPE_CHECKING:
    import duckdb
    import great_expectations as gx

SUITES_DIR = Path(__file__).resolve().parent / "suites"


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
            description=f"Raw {t.name}: contract columns, no future times, the key across the whole table, "
                        "references to other sources; plus the table's own rules (durations, order).",
            build=partial(raw_suites.build_raw_suite, t.name),
        )
        out[raw_suites.integrity_suite_name(t.name)] = SuiteSpec(
            relation=f"raw.{t.name}",
            description=f"Raw {t.name}: column types, and each day's volume against its norm.",
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
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"{path}: check names must be unique, repeated: {', '.join(dupes)}")
    return doc


def load_suite(name_or_path: str | Path) -> "gx.ExpectationSuite":
    """Suite name (file under expectations/suites/) or path of a suite JSON -> gx.ExpectationSuite."""
    return build_suite(read_suite_json(name_or_path))


def build_suite(doc: dict) -> "gx.ExpectationSuite":
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
    col = columns_of(e.get("kwargs") or {})
    return f"{e.get('type')}({col})" if col else str(e.get("type"))


def read_columns(expectations: list[dict]) -> set[str] | None:
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

    for e in expectations:
        if columns_of(e.get("kwargs") or {}) is None:
            return None
        walk(e.get("kwargs") or {})
    return cols


def columns_of(kwargs: dict) -> str | None:
    if kwargs.get("column"):
        return str(kwargs["column"])
    if kwargs.get("column_A"):
        return f"{kwargs['column_A']}, {kwargs['column_B']}"
    if kwargs.get("column_list"):
        return ", ".join(map(str, kwargs["column_list"]))
    return None


def ccq_meta(doc: dict) -> dict:
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


def resolve_parameters(doc: dict, con, given: dict | None) -> dict[str, Any]:
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


def quote_ident(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def frame_query(suite_name: str, relation: str | None = None, where: str | None = None) -> str:
    """The query whose rows the suite validates."""
    spec = SUITES[suite_name]
    doc = read_suite_json(suite_name)
    return frame_sql(spec, doc, relation or spec.relation, where)


def frame_sql(spec: SuiteSpec, doc: dict, relation: str, where: str | None) -> str:
    w = where or "true"
    if spec.frame_sql:
        # Not str.format: a filter may contain braces.
        sql = spec.frame_sql.replace("{relation}", relation).replace("{where}", w)
    else:
        sql = f"select * from {relation} where ({w})"
    derived = ccq_meta(doc).get("derived_columns") or {}
    if derived:
        cols = ", ".join(f"({expr}) as {quote_ident(name)}" for name, expr in derived.items())
        sql = f"select *, {cols} from ({sql}) as frame"
    return sql
