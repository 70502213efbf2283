"""The generated KPI parts (int_kpi_parts, from the semantic layer) at every grain, on hand-made
queue legs put into a copy of the hand-built warehouse and rebuilt with dbt:

- a month's service level is recomputed from its parts, not averaged over its days;
- a spring-forward day has 23 local hours and a fall-back day 25, none lost or doubled.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import duckdb
import pytest

from tests.conftest import run_dbt, warehouse_copy

pytestmark = pytest.mark.xdist_group("hand_built")

LONDON = ZoneInfo("Europe/London")


def _leg(n: int, entered_utc: datetime, sl_met: int, queue: str = "Q_GENERAL") -> dict:
    local = entered_utc.replace(tzinfo=timezone.utc).astimezone(LONDON).replace(tzinfo=None)
    return {
        "contact_id": f"g{n:03d}", "queue_leg": 1, "entered_at": entered_utc, "entered_at_local": local,
        "local_date": local.date(), "time_zone": "Europe/London", "queue_id": queue, "call_type": "general",
        "direction": "inbound", "site_id": "LON", "agent_id": "A1", "is_answered": 1, "is_abandoned": 0,
        "is_short_abandoned": 0, "is_handled": 1, "is_transferred": 0, "is_held": 0, "sl_met": sl_met, "sl_offered": 1,
        "wait_seconds": 5 if sl_met else 60, "answered_wait_seconds": 5 if sl_met else 60, "abandoned_wait_seconds": 0,
        "talk_seconds": 100, "hold_seconds": 0, "acw_seconds": 20, "handle_seconds": 120,
    }


def _legs() -> list[dict]:
    legs = []
    # Monday 2026-03-02: 10 answered, 9 within T (0.9); Tuesday 03-03: 2 answered, none within T (0.0).
    for i in range(10):
        legs.append(_leg(len(legs), datetime(2026, 3, 2, 9, i), sl_met=int(i < 9)))
    for i in range(2):
        legs.append(_leg(len(legs), datetime(2026, 3, 3, 9, i), sl_met=0))
    # One leg at the start of every local hour of the two daylight-saving days.
    for day in (datetime(2026, 3, 29), datetime(2026, 10, 25)):
        start = day.replace(tzinfo=LONDON).astimezone(timezone.utc)
        end = (day + timedelta(days=1)).replace(tzinfo=LONDON).astimezone(timezone.utc)
        t = start
        while t < end:
            legs.append(_leg(len(legs), t.replace(tzinfo=None), sl_met=1))
            t += timedelta(hours=1)
    return legs


@pytest.fixture(scope="module")
def parts(hand_built, tmp_path_factory):
    paths, _ = hand_built
    warehouse = warehouse_copy(paths, tmp_path_factory.mktemp("kpi_grains"))
    con = duckdb.connect(str(warehouse))
    con.execute("DELETE FROM marts.fct_queue_legs")
    legs = _legs()
    columns = list(legs[0])
    con.executemany(f"INSERT INTO marts.fct_queue_legs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                    [[leg[c] for c in columns] for leg in legs])
    con.close()
    # The queue legs' parts model from scratch (it is incremental, and no file was loaded), and the union view.
    run_dbt(warehouse.parent, "run", "--full-refresh", "--select", "int_kpi_parts__queue_legs", "int_kpi_parts")
    con = duckdb.connect(str(warehouse), read_only=True)
    yield con
    con.close()


def _ratio(con, grain: str, period: str, kpi: str = "service_level") -> float:
    [(num, den)] = con.execute(
        "SELECT numerator, denominator FROM intermediate.int_kpi_parts WHERE kpi = ? AND grain = ? "
        "AND scope_type = 'all' AND period_start = CAST(? AS TIMESTAMP)", [kpi, grain, period]).fetchall()
    return num / den


def test_month_service_level_comes_from_parts_not_from_daily_values(parts):
    monday, tuesday = _ratio(parts, "day", "2026-03-02"), _ratio(parts, "day", "2026-03-03")
    assert (monday, tuesday) == (0.9, 0.0)
    # March also holds the spring-forward day's 23 legs, all within T: (9 + 0 + 23) / (10 + 2 + 23),
    # not the mean of its three days' values (0.9 + 0.0 + 1.0) / 3.
    month = _ratio(parts, "month", "2026-03-01")
    days = [monday, tuesday, _ratio(parts, "day", "2026-03-29")]
    assert days[2] == 1.0
    assert month == 32 / 35
    assert month != pytest.approx(sum(days) / len(days))
    # The ISO week of 2 March holds only the two days: parts give 9/12 = 0.75, the mean of the days 0.45.
    week = _ratio(parts, "week", "2026-03-02")
    assert week == 0.75
    assert week != pytest.approx((monday + tuesday) / 2)


@pytest.mark.parametrize("day, hours", [("2026-03-29", 23), ("2026-10-25", 25)])
def test_daylight_saving_days_lose_and_double_nothing(parts, day, hours):
    offered = {
        grain: parts.execute(
            "SELECT count(*), sum(numerator), count(DISTINCT period_start_utc), count(DISTINCT period_start) "
            "FROM intermediate.int_kpi_parts WHERE kpi = 'offered' AND scope_type = 'all' AND grain = ? "
            "AND CAST(period_start AS DATE) = CAST(? AS DATE)", [grain, day]).fetchone()
        for grain in ("interval", "interval_30", "hour", "day")
    }
    # One leg per local hour: every sub-day grain has one row per hour, each with its own UTC start.
    distinct_labels = hours if hours == 23 else 24  # the fall-back day shows 01:00 twice
    for grain in ("interval", "interval_30", "hour"):
        assert offered[grain] == (hours, hours, hours, distinct_labels), grain
    assert offered["day"][:2] == (1, hours)
    if hours == 25:
        twice = parts.execute(
            "SELECT period_start_utc FROM intermediate.int_kpi_parts WHERE kpi = 'offered' AND scope_type = 'all' "
            "AND grain = 'hour' AND period_start = TIMESTAMP '2026-10-25 01:00:00' ORDER BY 1").fetchall()
        assert twice == [(datetime(2026, 10, 25, 0, 0),), (datetime(2026, 10, 25, 1, 0),)]
    else:
        assert parts.execute(
            "SELECT count(*) FROM intermediate.int_kpi_parts WHERE kpi = 'offered' AND grain = 'hour' "
            "AND period_start = TIMESTAMP '2026-03-29 01:00:00'").fetchone() == (0,)
