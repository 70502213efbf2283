"""The app's only door to data, and the only place with SQL.

Reads the snapshot that the pipeline published (ccq.publish), always read-only, never the
warehouse. Each query opens its own short-lived connection: no handle outlives the snapshot it
was opened on, so a refresh never waits for the app, the publisher can prune old files, and the
next rerun after a publish reads the new snapshot. Results are cached per snapshot path + params,
so a new snapshot is a cache miss and an old one simply stops being asked for.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd
import streamlit as st

from app.fmt import parse_period_key, period_key
from ccq.publish import current_snapshot, published_at
from ccq.settings import paths

GRAINS = ("day", "week", "month")
ALL_SCOPE = ("all", "*")

_CACHE = dict(show_spinner=False, max_entries=256)


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


def _query(path: str, sql: str, params: list[object] | None = None) -> pd.DataFrame:
    try:
        with duckdb.connect(path, read_only=True) as con:
            return con.execute(sql, params or []).df()
    except duckdb.Error as exc:
        raise SnapshotError(str(exc)) from exc


@st.cache_data(**_CACHE)
def kpi_definitions(path: str) -> pd.DataFrame:
    # No ORDER BY on purpose: DuckDB keeps insertion order, i.e. the order of the seed file,
    # which is the order the business wants KPIs listed in.
    return _query(path, "SELECT kpi, label, label_zh, unit, description, formula FROM reference.kpi_definitions")


@st.cache_data(**_CACHE)
def queues(path: str) -> pd.DataFrame:
    return _query(path, "SELECT queue_id, queue_name, queue_name_zh FROM reference.queues ORDER BY queue_name")


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
def scorecard(path: str, grain: str, period: str, scope_type: str, scope_id: str) -> pd.DataFrame:
    """One row per KPI for the selection, in definition order. KPIs defined but without a
    published value come back with a null value so the page can say so instead of hiding them."""
    values = _query(
        path,
        """
        SELECT kpi, value, unit, target, warning, direction, status, owner_role, first_action,
               certified, certification_reason, numerator, denominator, as_of
        FROM marts.kpi_values
        WHERE grain = ? AND period_start = ? AND scope_type = ? AND scope_id = ?
        """,
        [grain, parse_period_key(period), scope_type, scope_id],
    )
    defs = kpi_definitions(path).rename(columns={"unit": "defined_unit"})
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
