"""Certification with faults injected on purpose: the hand-built days plus
- 2026-03-04: c13 clean; c14 answered 20 s before it entered the queue (event order broken,
  caught by the raw GX legs suite); c15's ABANDON has an unreadable time (quarantined);
- 2026-03-05: no ACD extract at all, although it was due by 2026-03-06 02:00 UTC.
Only the periods touching those days lose their certification, each with its reason."""
from __future__ import annotations

import shutil

import duckdb
import pytest

pytestmark = pytest.mark.xdist_group("faulty")

from tests.conftest import FIXTURES, run_pipeline


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    home = tmp_path_factory.mktemp("faulty_home")
    landing = home / "incoming"
    shutil.copytree(FIXTURES / "hand_calls" / "landing", landing)
    shutil.copytree(FIXTURES / "faults" / "landing", landing, dirs_exist_ok=True)
    paths, info = run_pipeline(home, landing, "2026-03-06T12:00:00")
    con = duckdb.connect(info["snapshot"], read_only=True)
    rows = con.execute(
        """SELECT kpi, grain, strftime(period_start, '%Y-%m-%d %H:%M'), scope_id, certified, certification_reason
           FROM marts.kpi_values"""
    ).fetchall()
    quarantine = con.execute("SELECT file_id, line_no, field, rule FROM audit.quarantine").fetchall()
    files = con.execute("SELECT file_id, rows_read, rows_loaded, rows_quarantined FROM audit.load_files").fetchall()
    con.close()
    return {(r[0], r[1], r[2], r[3]): (r[4], r[5]) for r in rows}, quarantine, files, info


def test_quarantined_row_keeps_file_line_and_field(faulty):
    _, quarantine, files, info = faulty
    assert quarantine == [("acd_queue_events/acd_queue_events_2026-03-04.csv", 11, "event_at", "type")]
    by_file = {f[0]: f[1:] for f in files}
    assert by_file["acd_queue_events/acd_queue_events_2026-03-04.csv"] == (10, 9, 1)
    assert info["rows_read"] == info["rows_loaded"] + info["rows_quarantined"]


def test_untouched_day_stays_certified(faulty):
    values, *_ = faulty
    assert values[("service_level", "day", "2026-03-02 00:00", "*")] == (True, None)
    assert values[("aht", "interval", "2026-03-02 08:00", "Q_GENERAL")] == (True, None)


def test_faulty_day_is_uncertified_with_each_reason(faulty):
    values, *_ = faulty
    certified, reason = values[("service_level", "day", "2026-03-04 00:00", "Q_GENERAL")]
    assert certified is False
    assert "acd_queue_events 1 rows quarantined on 2026-03-04" in reason
    assert "raw_acd_queue_legs" in reason  # CONNECT before ENTERQUEUE
    assert "missing" not in reason  # 03-05 is another day


def test_week_and_month_carry_every_problem_inside_them(faulty):
    values, *_ = faulty
    for key in (("service_level", "week", "2026-03-02 00:00", "*"), ("asa", "month", "2026-03-01 00:00", "Q_PREMIUM")):
        certified, reason = values[key]
        assert certified is False
        assert "acd_queue_events extract missing for 2026-03-05" in reason
        assert "rows quarantined on 2026-03-04" in reason


def test_queue_without_faults_on_the_day_is_still_flagged_for_the_centre_file(faulty):
    # The missing file and the quarantined row belong to the whole extract, so every queue's
    # 03-04 values are uncertified, not only Q_GENERAL's.
    values, *_ = faulty
    assert values[("offered", "day", "2026-03-04 00:00", "*")][0] is False
