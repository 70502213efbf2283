"""The checks inside the real pipeline, on the session's hand-built run (no run of its own): every
raw table delivered is validated per extract day and recorded against that table, the checks of
the KPI parts run before certification and those of the values before publishing, and the run's
report covers it all."""
from __future__ import annotations

import json
from datetime import date

import pytest

pytestmark = pytest.mark.xdist_group("hand_built")


def test_raw_suites_are_recorded_per_table_and_day(hand_built_snapshot):
    rows = hand_built_snapshot.execute(
        """SELECT table_name, suite, partition_date, count(*) FROM audit.check_results
           WHERE check_kind = 'gx_suite' AND suite LIKE 'raw_%' GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    got = {(t, s, d) for t, s, d, _ in rows}
    for day in (date(2026, 3, 2), date(2026, 3, 3)):
        for suite in ("raw_acd_queue_events", "raw_acd_queue_legs", "raw_acd_queue_events_integrity"):
            assert ("acd_queue_events", suite, day) in got
    assert {("hr_roster", "raw_hr_roster", date(2026, 3, 2)), ("hr_roster", "raw_hr_roster_integrity", date(2026, 3, 2))} <= got
    assert {t for t, _, _ in got} == {"acd_queue_events", "hr_roster"}  # only the tables delivered


def test_mart_checks_ran_and_passed_on_the_clean_fixture(hand_built_snapshot):
    rows = hand_built_snapshot.execute(
        """SELECT suite, target, table_name, partition_date IS NULL, bool_and(success) FROM audit.check_results
           WHERE check_name LIKE 'kpi_values_%' OR check_name LIKE 'int_kpi_parts_%add_up%' GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    parts = {t for s, target, t, whole, ok in rows if s == "dbt" and target == "int_kpi_parts" and whole and ok}
    # The parts' lineage is every raw table a KPI is computed from, checked as a whole.
    assert {"acd_queue_events", "agent_state_events", "wfm_schedules", "crm_interactions", "finance_costs"} <= parts
    # The publish checks, recorded against the scorecard itself by the certifying build.
    assert ("dbt", "kpi_values", "kpi_values", True, True) in rows
    assert len(rows) == len(parts) + 1
    critical = hand_built_snapshot.execute(
        "SELECT suite, check_name FROM audit.check_results WHERE NOT success AND severity = 'critical'").fetchall()
    assert critical == []


def test_the_run_report_covers_every_source_and_check(hand_built, hand_built_snapshot):
    paths, info = hand_built
    page = (paths.home / "reports" / "latest.html").read_text(encoding="utf-8")
    for text in ("raw.acd_queue_events", "acd_queue_events_2026-03-02.csv", "raw.hr_roster", "raw.crm_cases",
                 "no extract loaded", "Reconciliation per source", "Marts, models and reference data"):
        assert text in page, text
    # Written again after the publish checks, which come last: it counts every outcome recorded.
    summary = json.loads((paths.home / "reports" / f"validation-{info['run_id']}.json").read_text())
    [(recorded,)] = hand_built_snapshot.execute("SELECT count(*) FROM audit.check_results").fetchall()
    [(publish_checks,)] = hand_built_snapshot.execute(
        "SELECT count(*) FROM audit.check_results WHERE check_name LIKE 'kpi_values_%'").fetchall()
    assert publish_checks >= 6 and summary["checks"] == recorded
