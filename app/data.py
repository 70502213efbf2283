"""The app's only door to data, and the only place with SQL.

Reads the snapshot that the pipeline published (ccq.publish), always read-only, never the
warehouse. A snapshot file is never written again once published, so one read-only database
handle per snapshot is kept (opening one costs tens of milliseconds, a page asks a dozen
queries) and each query runs on its own cursor (a cursor per thread is DuckDB's rule for
concurrent sessions). A refresh writes a new file and never waits for the app; only the two most
recent snapshots keep a handle, so the publisher can still prune old files (on POSIX an open
file can be unlinked; elsewhere the publisher retries on its next run). The next rerun after a
publish reads the new snapshot. Results are cached per snapshot path + params, so a new
snapshot is a cache miss and an old one simply stops being asked for.

No KPI is computed here: values, targets, statuses, changes and certification come from
marts.kpi_values, definitions from marts.kpi_catalogue. The only arithmetic is adding up the
forecast and offered contacts of the staffing fact across queues (the forecast is not a KPI), and
counting rows of the audit evidence.

About 500 lines on purpose: every query the app runs is here, so that no page holds SQL
or a formula; splitting it by page would put the same snapshot handling in several places.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from app.fmt import parse_period_key, period_key
from ccq.publish import current_snapshot, published_at
from ccq.report import LATEST
from ccq.settings import paths

GRAINS = ("day", "week", "month")
ALL_SCOPE = ("all", "*")
SPARK_PERIODS = 12

_CACHE = dict(show_spinner=False, max_entries=256)

# What the scorecard needs from kpi_values; older snapshots may lack the later columns, which
# then come back empty rather than failing the page.
VALUE_COLUMNS = (
    "kpi", "value", "unit", "target", "warning", "direction", "status", "owner_role", "first_action",
    "owner_role_zh", "first_action_zh", "provisional_until",
    "certified", "certification_reason", "numerator", "denominator", "as_of", "data_through",
    "previous_value", "change_vs_previous", "year_ago_value", "change_vs_year_ago",
    "previous_to_date_value", "change_vs_previous_to_date", "previous_to_date_through", "status_withheld",
)
CATALOGUE_COLUMNS = (
    "kpi", "label", "label_zh", "description", "formula", "unit", "area", "booked_by", "parameters",
    "variants", "lineage", "scopes", "grains", "is_headline", "drivers", "display_order", "metric_type", "semantic_model",
    "model", "description_zh", "formula_zh", "booked_by_zh", "variants_zh", "zero_note", "zero_note_zh",
)


class SnapshotError(RuntimeError):
    """The published snapshot exists but could not be read as expected."""


@dataclass(frozen=True)
class Snapshot:
    path: str
    published_at: str | None


def publish_dir() -> str:
    return str(paths().publish_dir)


def snapshot() -> Snapshot | None:
    """Resolved once per script run so every query in a run reads the same file."""
    p = paths()
    snap = current_snapshot(p)
    if snap is None:
        return None
    return Snapshot(path=str(snap), published_at=published_at(p))


def validation_report() -> Path | None:
    """The latest validation report of the pipeline (not part of the snapshot: it holds no data)."""
    report = paths().reports / LATEST
    return report if report.exists() else None


@st.cache_resource(max_entries=2, show_spinner=False)
def _database(path: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(path, read_only=True)


def _query(path: str, sql: str, params: list[object] | None = None) -> pd.DataFrame:
    try:
        with _database(path).cursor() as cur:
            return cur.execute(sql, params or []).df()
    except duckdb.Error as exc:
        raise SnapshotError(str(exc)) from exc


def parse_month(key: str) -> date:
    return parse_period_key(key).date()


def period_bounds(key: str, grain: str) -> tuple[date, date]:
    """First day of the period and first day after it (calendar arithmetic, no KPI)."""
    start = parse_period_key(key).date()
    if grain == "week":
        return start, start + timedelta(days=7)
    if grain == "month":
        nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        return start, nxt
    return start, start + timedelta(days=1)


# --- what the snapshot holds ------------------------------------------------------------------


@st.cache_data(**_CACHE)
def tables(path: str) -> frozenset[str]:
    df = _query(path, "SELECT schema_name || '.' || table_name AS name FROM duckdb_tables()")
    return frozenset(df["name"])


def has(path: str, table: str) -> bool:
    return table in tables(path)


@st.cache_data(**_CACHE)
def columns(path: str, table: str) -> tuple[str, ...]:
    schema, name = table.split(".")
    df = _query(
        path,
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
        [schema, name],
    )
    return tuple(df["column_name"])


def _select(path: str, table: str, wanted: tuple[str, ...]) -> str:
    """A select list of the wanted columns, NULL for those this snapshot's table lacks."""
    have = set(columns(path, table))
    return ", ".join(f'"{c}"' if c in have else f'NULL AS "{c}"' for c in wanted)


# --- definitions and reference ------------------------------------------------------------------


@st.cache_data(**_CACHE)
def catalogue(path: str) -> pd.DataFrame:
    """Every KPI's definition, generated from the dbt project's metrics, in scorecard order."""
    if has(path, "marts.kpi_catalogue"):
        return _query(
            path,
            f"SELECT {_select(path, 'marts.kpi_catalogue', CATALOGUE_COLUMNS)} FROM marts.kpi_catalogue "
            "ORDER BY display_order NULLS LAST, kpi",
        )
    return pd.DataFrame(columns=list(CATALOGUE_COLUMNS))


@st.cache_data(**_CACHE)
def targets(path: str) -> pd.DataFrame:
    """Targets and owners as declared (all scopes and effective dates), for the catalogue."""
    wanted = ("kpi", "scope_type", "scope_id", "direction", "target", "warning", "effective_from", "effective_to",
              "owner_role", "first_action", "owner_role_zh", "first_action_zh")
    if not has(path, "reference.kpi_targets"):
        return pd.DataFrame(columns=list(wanted))
    return _query(
        path,
        f"SELECT {_select(path, 'reference.kpi_targets', wanted)} FROM reference.kpi_targets "
        "ORDER BY kpi, scope_type <> 'all', scope_type, scope_id, effective_from DESC",
    )


@st.cache_data(**_CACHE)
def currency(path: str) -> str | None:
    """The ISO code money is reported in: the cost rates' one currency (fct_site_cost_days assumes one)."""
    if not has(path, "reference.cost_rates"):
        return None
    df = _query(path, "SELECT DISTINCT currency FROM reference.cost_rates WHERE currency IS NOT NULL")
    return str(df["currency"].iloc[0]) if len(df) == 1 else None


@st.cache_data(**_CACHE)
def queues(path: str) -> pd.DataFrame:
    """Every queue measured: configured, or registered from the data (is_configured false)."""
    return _query(
        path,
        "SELECT queue_id, queue_name, queue_name_zh, site_id, time_zone, is_configured, configuration_note "
        "FROM marts.dim_queues ORDER BY queue_name",
    )


@st.cache_data(**_CACHE)
def sites(path: str) -> pd.DataFrame:
    return _query(
        path, "SELECT site_id, site_name, time_zone, is_configured, configuration_note FROM marts.dim_sites ORDER BY site_id"
    )


@st.cache_data(**_CACHE)
def scope_ids(path: str, scope_type: str) -> list[str]:
    """Ids that have published values at this scope (teams, supervisors, agents: ids only)."""
    df = _query(
        path,
        "SELECT DISTINCT scope_id FROM marts.kpi_values WHERE scope_type = ? ORDER BY scope_id",
        [scope_type],
    )
    return list(df["scope_id"])


@st.cache_data(**_CACHE)
def roster(path: str, start: date, end: date) -> pd.DataFrame:
    """agent_id -> team_id, supervisor_id in force during [start, end) (ids only), from dim_agents."""
    if not has(path, "marts.dim_agents"):
        return pd.DataFrame(columns=["agent_id", "team_id", "supervisor_id"])
    return _query(
        path,
        "SELECT DISTINCT agent_id, team_id, supervisor_id FROM marts.dim_agents "
        "WHERE valid_from < ? AND valid_until > ? ORDER BY agent_id",
        [end, start],
    )


# --- KPI values ---------------------------------------------------------------------------------


@st.cache_data(**_CACHE)
def periods(path: str, grain: str) -> list[str]:
    """Period keys (YYYY-MM-DD of period_start) present at this grain, newest first."""
    df = _query(
        path,
        "SELECT DISTINCT period_start FROM marts.kpi_values WHERE grain = ? ORDER BY period_start DESC",
        [grain],
    )
    return [period_key(ts) for ts in df["period_start"]]


@st.cache_data(**_CACHE)
def data_through(path: str) -> date | None:
    """The last day any loaded extract covers: a period ending after it is still partial."""
    df = _query(path, "SELECT max(data_through) AS d FROM marts.kpi_values")
    value = df["d"].iloc[0] if not df.empty else None
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def is_partial(key: str, grain: str, through: date | None) -> bool:
    """A period whose last day is after the data's last day (calendar arithmetic, no KPI)."""
    if through is None:
        return False
    return period_bounds(key, grain)[1] - timedelta(days=1) > through


@st.cache_data(**_CACHE)
def spc_signals(path: str, start: date, end: date, scope_type: str, scope_id: str) -> pd.DataFrame:
    """Control-chart points flagged as signals in [start, end) for one scope, at every chart grain."""
    if not has(path, "marts.spc_points"):
        return pd.DataFrame(columns=["kpi", "grain", "period_start", "value", "unit", "signal_rules"])
    wanted = ("kpi", "grain", "period_start", "value", "unit", "signal_rules")
    return _query(
        path,
        f"""
        SELECT {_select(path, 'marts.spc_points', wanted)}
        FROM marts.spc_points
        WHERE is_signal AND scope_type = ? AND scope_id = ? AND period_start >= ? AND period_start < ?
        ORDER BY period_start, kpi
        """,
        [scope_type, scope_id, start, end],
    )


@st.cache_data(**_CACHE)
def scorecard(path: str, grain: str, period: str, scope_type: str, scope_id: str) -> pd.DataFrame:
    """One row per KPI for the selection, in catalogue order. KPIs defined but without a
    published value come back with a null value so the page can say so instead of hiding them."""
    values = _query(
        path,
        f"""
        SELECT {_select(path, 'marts.kpi_values', VALUE_COLUMNS)}
        FROM marts.kpi_values
        WHERE grain = ? AND period_start = ? AND scope_type = ? AND scope_id = ?
        """,
        [grain, parse_period_key(period), scope_type, scope_id],
    )
    defs = catalogue(path).rename(columns={"unit": "defined_unit"})
    rows = defs.merge(values, on="kpi", how="left")
    # Values for KPIs nobody defined yet still show (by code) rather than disappear.
    extra = values[~values["kpi"].isin(defs["kpi"])]
    if not extra.empty:
        rows = pd.concat([rows, extra], ignore_index=True)
    rows["unit"] = rows["unit"].fillna(rows["defined_unit"])
    rows = rows.drop(columns=["defined_unit"])
    rows["grain"] = grain
    rows["period_start"] = period
    rows["scope_type"] = scope_type
    rows["scope_id"] = scope_id
    return rows


@st.cache_data(**_CACHE)
def history(
    path: str, grain: str, period: str, scope_type: str, scope_id: str, n: int = SPARK_PERIODS,
    kpis: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """The last n periods up to and including `period` of each KPI (or the given ones), oldest first."""
    return _query(
        path,
        """
        SELECT kpi, period_start, value, unit, status, certified
        FROM marts.kpi_values
        WHERE grain = ? AND scope_type = ? AND scope_id = ? AND period_start <= ?
          AND (? IS NULL OR list_contains(?::VARCHAR[], kpi))
        QUALIFY row_number() OVER (PARTITION BY kpi ORDER BY period_start DESC) <= ?
        ORDER BY kpi, period_start
        """,
        [grain, scope_type, scope_id, parse_period_key(period), kpis and list(kpis), kpis and list(kpis), n],
    )


@st.cache_data(**_CACHE)
def by_scope(path: str, grain: str, period: str, scope_type: str, kpis: tuple[str, ...]) -> pd.DataFrame:
    """The given KPIs for every id of one scope type (e.g. each queue, each agent) in one period."""
    return _query(
        path,
        """
        SELECT scope_id, kpi, value, unit, status, certified, target, direction
        FROM marts.kpi_values
        WHERE grain = ? AND period_start = ? AND scope_type = ? AND list_contains(?::VARCHAR[], kpi)
        ORDER BY scope_id, kpi
        """,
        [grain, parse_period_key(period), scope_type, list(kpis)],
    )


@st.cache_data(**_CACHE)
def interval_values(path: str, kpi: str, scope_type: str, scope_id: str, start: date, end: date) -> pd.DataFrame:
    """One KPI at interval grain for the days [start, end), each value as published."""
    return _query(
        path,
        """
        SELECT period_start, period_start_utc, value, unit
        FROM marts.kpi_values
        WHERE grain = 'interval' AND kpi = ? AND scope_type = ? AND scope_id = ?
          AND period_start >= ? AND period_start < ?
        ORDER BY period_start_utc, period_start
        """,
        [kpi, scope_type, scope_id, start, end],
    )


@st.cache_data(**_CACHE)
def interval_series(
    path: str, kpis: tuple[str, ...], scope_type: str, scope_id: str, start: date, end: date
) -> pd.DataFrame:
    """Several KPIs at interval grain for the days [start, end), long form, as published."""
    return _query(
        path,
        """
        SELECT period_start, period_start_utc, kpi, value
        FROM marts.kpi_values
        WHERE grain = 'interval' AND list_contains(?::VARCHAR[], kpi) AND scope_type = ? AND scope_id = ?
          AND period_start >= ? AND period_start < ?
        ORDER BY period_start_utc, period_start, kpi
        """,
        [list(kpis), scope_type, scope_id, start, end],
    )


@st.cache_data(**_CACHE)
def interval_kpis(path: str) -> list[str]:
    df = _query(path, "SELECT DISTINCT kpi FROM marts.kpi_values WHERE grain = 'interval' ORDER BY kpi")
    return list(df["kpi"])


@st.cache_data(**_CACHE)
def certification(path: str, grain: str, period: str, scope_type: str, scope_id: str, n: int) -> pd.DataFrame:
    """Certification of every KPI value in the last n periods up to `period` for one scope."""
    return _query(
        path,
        """
        WITH recent AS (
            SELECT DISTINCT period_start FROM marts.kpi_values
            WHERE grain = ? AND period_start <= ? ORDER BY period_start DESC LIMIT ?
        )
        SELECT kpi, period_start, certified, certification_reason, value
        FROM marts.kpi_values
        WHERE grain = ? AND scope_type = ? AND scope_id = ?
          AND period_start IN (SELECT period_start FROM recent)
        ORDER BY kpi, period_start
        """,
        [grain, parse_period_key(period), n, grain, scope_type, scope_id],
    )


# --- facts behind the charts -------------------------------------------------------------------


def _fact_filter(path: str, table: str, queue: str | None, site: str | None) -> tuple[str, list[object]]:
    clauses, params = [], []
    if queue:
        clauses.append("queue_id = ?")
        params.append(queue)
    if site and "site_id" in columns(path, table):
        clauses.append("site_id = ?")
        params.append(site)
    return "".join(f" AND {c}" for c in clauses), params


@st.cache_data(**_CACHE)
def arrivals(path: str, start: date, end: date, queue: str | None, site: str | None) -> pd.DataFrame:
    """Per interval: offered against forecast contacts, added up over the queues of the selection."""
    where, params = _fact_filter(path, "marts.fct_staffing_intervals", queue, site)
    return _query(
        path,
        f"""
        SELECT interval_start_utc, min(interval_start_local) AS interval_start_local,
               sum(offered) AS offered, sum(forecast_contacts) AS forecast_contacts
        FROM marts.fct_staffing_intervals
        WHERE local_date >= ? AND local_date < ?{where}
        GROUP BY interval_start_utc
        ORDER BY interval_start_utc
        """,
        [start, end, *params],
    )


PARETO_DOMAINS = {"pareto_contact_reasons": "contact_reason", "pareto_complaint_categories": "complaint_category",
                  "pareto_failed_qa_items": "qa_item"}


@st.cache_data(**_CACHE)
def category_labels(path: str, table: str) -> dict[str, tuple[str, str]]:
    """category -> (English, Chinese) name of a Pareto mart's categories, from the category_labels seed."""
    if not has(path, "reference.category_labels") or table not in PARETO_DOMAINS:
        return {}
    df = _query(path, "SELECT category, label, label_zh FROM reference.category_labels WHERE domain = ?",
                [PARETO_DOMAINS[table]])
    return {r.category: (r.label, r.label_zh) for r in df.itertuples(index=False)}


@st.cache_data(**_CACHE)
def pareto(path: str, table: str, month: date | None) -> pd.DataFrame:
    """One Pareto mart for a month, or all time when month is None."""
    return _query(
        path,
        f"""
        SELECT rank, category, items, share, cumulative_share, is_vital_few
        FROM marts.{table}
        WHERE (month = ?) OR (? IS NULL AND month IS NULL)
        ORDER BY rank
        """,
        [month, month],
    )


@st.cache_data(**_CACHE)
def pareto_months(path: str, table: str) -> list[date]:
    df = _query(path, f"SELECT DISTINCT month FROM marts.{table} WHERE month IS NOT NULL ORDER BY month DESC")
    return [pd.Timestamp(m).date() for m in df["month"]]


@st.cache_data(**_CACHE)
def spc_charts(path: str) -> pd.DataFrame:
    return _query(
        path, "SELECT DISTINCT kpi, chart_type, grain, scope_type FROM marts.spc_points ORDER BY kpi, grain, scope_type"
    )


@st.cache_data(**_CACHE)
def spc_points(path: str, kpi: str, grain: str, scope_type: str, scope_id: str, until: date) -> pd.DataFrame:
    return _query(
        path,
        """
        SELECT period_start, value, center_line, ucl, lcl, in_baseline, is_signal, signal_rules, chart_type
        FROM marts.spc_points
        WHERE kpi = ? AND grain = ? AND scope_type = ? AND scope_id = ? AND period_start < ?
        ORDER BY period_start
        """,
        [kpi, grain, scope_type, scope_id, until],
    )


@st.cache_data(**_CACHE)
def correlations(path: str, scope_type: str, scope_id: str) -> pd.DataFrame:
    return _query(
        path,
        """
        SELECT kpi_x, kpi_y, grain, n_periods, correlation
        FROM marts.kpi_correlations
        WHERE scope_type = ? AND scope_id = ?
        ORDER BY kpi_x, kpi_y, grain
        """,
        [scope_type, scope_id],
    )


@st.cache_data(**_CACHE)
def pair_points(path: str, kpi_x: str, kpi_y: str, grain: str, scope_type: str, scope_id: str) -> pd.DataFrame:
    return _query(
        path,
        """
        SELECT period_start, value_x, value_y
        FROM marts.kpi_pair_points
        WHERE kpi_x = ? AND kpi_y = ? AND grain = ? AND scope_type = ? AND scope_id = ?
        ORDER BY period_start
        """,
        [kpi_x, kpi_y, grain, scope_type, scope_id],
    )


# --- audit evidence ------------------------------------------------------------------------------


@st.cache_data(**_CACHE)
def failing_checks(path: str) -> pd.DataFrame:
    if not has(path, "audit.check_results"):
        return pd.DataFrame()
    return _query(
        path,
        """
        SELECT table_name, severity, check_kind, suite, check_name, partition_date,
               unexpected_count, element_count, details, checked_at
        FROM audit.check_results WHERE NOT success
        ORDER BY severity, table_name, partition_date NULLS FIRST, suite, check_name
        """,
    )


@st.cache_data(**_CACHE)
def check_counts(path: str) -> pd.DataFrame:
    if not has(path, "audit.check_results"):
        return pd.DataFrame(columns=["checks", "failed"])
    return _query(
        path, "SELECT count(*) AS checks, count(*) FILTER (WHERE NOT success) AS failed FROM audit.check_results"
    )


@st.cache_data(**_CACHE)
def sources(path: str) -> pd.DataFrame:
    """Per raw source: files, rows read/loaded/quarantined, last extract day and load time, with
    the schedule's freshness limit."""
    if not has(path, "audit.load_files"):
        return pd.DataFrame()
    schedule = has(path, "reference.source_schedule")
    # Age: from the end of the source's last extract day to the latest load of any source (the
    # run that built this snapshot); fresh when within the schedule's limit.
    age = "date_diff('hour', CAST(p.last_file_date AS TIMESTAMP) + INTERVAL 1 DAY, run.loaded_at)"
    scheduled = f"s.system, s.cadence, s.freshness_limit_hours, {age} <= s.freshness_limit_hours AS is_fresh,"
    return _query(
        path,
        f"""
        WITH per_source AS (
            SELECT table_name, count(*) AS files, sum(rows_read)::BIGINT AS rows_read,
                   sum(rows_loaded)::BIGINT AS rows_loaded, sum(rows_quarantined)::BIGINT AS rows_quarantined,
                   max(file_date) AS last_file_date, max(loaded_at) AS last_loaded_at
            FROM audit.load_files GROUP BY table_name
        ), run AS (SELECT max(loaded_at) AS loaded_at FROM audit.load_files)
        SELECT p.table_name, {scheduled if schedule else ''} {age} AS age_hours,
               p.files, p.rows_read, p.rows_loaded, p.rows_quarantined, p.last_file_date, p.last_loaded_at
        FROM per_source p CROSS JOIN run
        {'LEFT JOIN reference.source_schedule s USING (table_name)' if schedule else ''}
        ORDER BY p.table_name
        """,
    )


@st.cache_data(**_CACHE)
def quarantine(path: str) -> pd.DataFrame:
    """Quarantined rows per source and rule (the snapshot carries no raw text)."""
    if not has(path, "audit.quarantine"):
        return pd.DataFrame(columns=["table_name", "rule", "field", "rows"])
    return _query(
        path,
        """
        SELECT table_name, rule, field, count(*) AS rows
        FROM audit.quarantine GROUP BY ALL ORDER BY table_name, rows DESC, rule
        """,
    )
