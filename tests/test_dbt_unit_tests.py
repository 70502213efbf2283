"""The dbt unit tests (hand-computed expectations beside every model) run here, once, rather
than on every refresh of the pipeline; and every KPI's fact must have some. The same dbt run
checks the project's own generic tests (macros/utils) on a copy of the interval fact broken on
purpose, and that their failures are recorded on the days of the failing rows."""
from __future__ import annotations

import json

import duckdb
import pytest

from ccq.quality import record_dbt_tests
from tests.conftest import run_dbt, warehouse_copy

pytestmark = pytest.mark.xdist_group("hand_built")


# One fault of each kind, on the interval fact of the hand-built run (five intervals, all on
# 2026-03-02 UTC), two of them on copies moved to later days so that each failure's days show.
FAULTS = [
    # The first interval loses two values.
    """UPDATE marts.fct_queue_intervals SET offered = NULL, interval_minutes = NULL
       WHERE queue_id = 'Q_GENERAL' AND interval_start_utc = TIMESTAMP '2026-03-02 08:00:00'""",
    # The second arrives twice.
    """INSERT INTO marts.fct_queue_intervals SELECT * FROM marts.fct_queue_intervals
       WHERE queue_id = 'Q_GENERAL' AND interval_start_utc = TIMESTAMP '2026-03-02 08:15:00'""",
    # The third claims 30 minutes.
    """UPDATE marts.fct_queue_intervals SET interval_minutes = 30
       WHERE queue_id = 'Q_GENERAL' AND interval_start_utc = TIMESTAMP '2026-03-02 23:45:00'""",
    # A copy of the fourth on 03-03 answers more than it was offered.
    """INSERT INTO marts.fct_queue_intervals SELECT * REPLACE (interval_start_utc + INTERVAL 1 DAY AS interval_start_utc,
       offered + 1 AS answered) FROM marts.fct_queue_intervals
       WHERE queue_id = 'Q_PREMIUM' AND interval_start_utc = TIMESTAMP '2026-03-02 08:15:00'""",
    # A copy of the fifth on 03-04 has 10 s of handle time unaccounted for and a negative wait.
    """INSERT INTO marts.fct_queue_intervals SELECT * REPLACE (interval_start_utc + INTERVAL 2 DAY AS interval_start_utc,
       handle_seconds + 10 AS handle_seconds, -1 AS wait_seconds_abandoned) FROM marts.fct_queue_intervals
       WHERE queue_id = 'Q_PREMIUM' AND interval_start_utc = TIMESTAMP '2026-03-02 09:00:00'""",
    # The KPI parts (a view) as a table whose day of Q_GENERAL offered no longer adds up.
    "CREATE TABLE intermediate.int_kpi_parts_copy AS SELECT * FROM intermediate.int_kpi_parts",
    "DROP VIEW intermediate.int_kpi_parts",
    "ALTER TABLE intermediate.int_kpi_parts_copy RENAME TO int_kpi_parts",
    """UPDATE intermediate.int_kpi_parts SET numerator = numerator + 1
       WHERE kpi = 'offered' AND grain = 'day' AND scope_type = 'queue' AND scope_id = 'Q_GENERAL'""",
    # The scorecard, one fault per row of the centre's (all certified, 03-02 08:00 to 23:59):
    # the day's offered is neither certified nor uncertified;
    """UPDATE marts.kpi_values SET certified = NULL
       WHERE kpi = 'offered' AND grain = 'day' AND scope_type = 'all' AND period_start = TIMESTAMP '2026-03-02'""",
    # the day's service level (5 / 11) shows 0.5;
    """UPDATE marts.kpi_values SET value = 0.5
       WHERE kpi = 'service_level' AND grain = 'day' AND scope_type = 'all'""",
    # the week's is certified at 22 / 11 = 200 %; the month's too, but uncertified with its reason, as it may be;
    """UPDATE marts.kpi_values SET numerator = 22, value = 2
       WHERE kpi = 'service_level' AND grain = 'week' AND scope_type = 'all'""",
    """UPDATE marts.kpi_values SET numerator = 22, value = 2, certified = false, certification_reason = 'x'
       WHERE kpi = 'service_level' AND grain = 'month' AND scope_type = 'all'""",
    # the 08:00 hour answered 12 of its 11 offered;
    """UPDATE marts.kpi_values SET numerator = 12, value = 12
       WHERE kpi = 'answered' AND grain = 'hour' AND scope_type = 'all' AND period_start_utc = TIMESTAMP '2026-03-02 08:00:00'""",
    # the month's AHT is lost on the way; the week's is uncertified without a reason.
    "DELETE FROM marts.kpi_values WHERE kpi = 'aht' AND grain = 'month' AND scope_type = 'all'",
    "UPDATE marts.kpi_values SET certified = false WHERE kpi = 'aht' AND grain = 'week' AND scope_type = 'all'",
]


def _on(manifest: dict, uid: str) -> str | None:
    """The model a test is attached to."""
    node = manifest["nodes"].get(uid) or {}
    return (node.get("attached_node") or "").split(".")[-1] or None


@pytest.fixture(scope="module")
def unit_run(hand_built, tmp_path_factory):
    paths, _ = hand_built
    warehouse = warehouse_copy(paths, tmp_path_factory.mktemp("dbt_unit"))
    with duckdb.connect(str(warehouse)) as con:
        for fault in FAULTS:
            con.execute(fault)
    work = warehouse.parent
    run_dbt(work, "test", "--select", "test_type:unit", "fct_queue_intervals,test_type:data",
            "int_kpi_parts,test_type:data", "kpi_values,test_type:data", check=False)
    results = json.loads((work / "target" / "run_results.json").read_text())
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    scorecard = {"results": [r for r in results["results"] if _on(manifest, r["unique_id"]) == "kpi_values"]}
    models = {"results": [r for r in results["results"] if r not in scorecard["results"]]}
    with duckdb.connect(str(warehouse)) as con:  # as the pipeline records them after each of its two builds
        record_dbt_tests(con, "faults", models, manifest)
        record_dbt_tests(con, "faults", scorecard, manifest, by_lineage=False)
    return {r["unique_id"]: (r["status"], r.get("failures")) for r in results["results"]}, manifest, warehouse


def test_every_unit_test_passes(unit_run):
    outcomes, manifest, warehouse = unit_run
    units = {uid: status for uid, (status, _) in outcomes.items() if uid.startswith("unit_test.")}
    # dbt's message says which rows differ, or why the test could not run.
    messages = {r["unique_id"]: r["message"] for r in json.loads((warehouse.parent / "target" / "run_results.json").read_text())["results"]}
    failed = {uid: messages[uid] for uid, status in units.items() if status != "pass"}
    assert not failed, failed
    assert len(units) == len(manifest["unit_tests"]) > 0


def test_the_generic_tests_count_exactly_the_rows_broken(unit_run):
    outcomes, manifest, warehouse = unit_run
    tests = {uid: manifest["nodes"][uid] for uid in outcomes if uid.startswith("test.")
             and manifest["nodes"][uid]["attached_node"] == "model.ccq.fct_queue_intervals"}
    # expression_is_true tests carry their own names; the others are one per model.
    by_test = {(n["test_metadata"]["name"], n["name"] if n["test_metadata"]["name"] == "expression_is_true" else None): outcomes[uid]
               for uid, n in tests.items()}
    assert by_test == {
        ("not_null_columns", None): ("warn", 1),
        ("unique_combination", None): ("warn", 1),
        ("expression_is_true", "fct_queue_intervals_interval_length"): ("warn", 1),
        ("expression_is_true", "fct_queue_intervals_outcomes_within_offered"): ("warn", 1),
        ("expression_is_true", "fct_queue_intervals_handle_is_talk_hold_acw"): ("warn", 1),
        ("expression_is_true", "fct_queue_intervals_parts_not_negative"): ("warn", 1),
        ("expression_is_true", "fct_queue_intervals_sl_numerator_within_denominator"): ("pass", 0),
        ("expression_is_true", "fct_queue_intervals_subsets_within_parents"): ("pass", 0),
    }
    # The failing row of not_null_columns names the columns that are null.
    (nn,) = [n for n in tests.values() if n["test_metadata"]["name"] == "not_null_columns"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(f"SELECT null_columns FROM ({nn['compiled_code']})").fetchall() == [("interval_minutes, offered",)]


def test_parts_that_do_not_add_up_across_grains_fail_for_the_whole_table(unit_run):
    outcomes, manifest, warehouse = unit_run
    tests = {manifest["nodes"][u]["name"]: (manifest["nodes"][u], o) for u, o in outcomes.items() if u.startswith("test.")
             and manifest["nodes"][u]["attached_node"] == "model.ccq.int_kpi_parts"}
    failed = {name: o for name, (_, o) in tests.items() if o[0] != "pass"}
    assert failed == {"int_kpi_parts_intervals_add_up_to_days": ("warn", 1), "int_kpi_parts_days_add_up_to_weeks": ("warn", 1),
                      "int_kpi_parts_days_add_up_to_months": ("warn", 1)}
    assert tests["int_kpi_parts_intervals_add_up_to_hours"][1] == ("pass", 0)
    days = tests["int_kpi_parts_intervals_add_up_to_days"][0]["compiled_code"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(f"SELECT kpi, scope_id, strftime(period, '%Y-%m-%d'), finer_numerator, coarser_numerator FROM ({days})").fetchall() \
            == [("offered", "Q_GENERAL", "2026-03-02", 10, 11)]
        # A defect of the model: recorded for the whole table (no day), against every raw table of its lineage.
        recorded = con.execute("""SELECT DISTINCT partition_date, unexpected_count FROM audit.check_results
                                  WHERE check_name = 'int_kpi_parts_intervals_add_up_to_days' AND NOT success""").fetchall()
    assert recorded == [(None, 1)]


def test_the_publish_checks_fail_with_error_severity_once_per_fault(unit_run):
    """Severity error: dbt build exits non-zero, dbt_models._build raises, nothing is published."""
    outcomes, manifest, warehouse = unit_run
    tests = {manifest["nodes"][u]["name"] if manifest["nodes"][u]["test_metadata"]["name"] != "not_null_columns"
             else "not_null_columns": (manifest["nodes"][u]["config"]["severity"].lower(), o)
             for u, o in outcomes.items() if u.startswith("test.") and _on(manifest, u) == "kpi_values"}
    failed = {name: outcome for name, outcome in tests.items() if outcome[1][0] != "pass"}
    assert failed == {
        "not_null_columns": ("error", ("fail", 1)),
        "kpi_values_value_matches_parts": ("error", ("fail", 1)),
        "kpi_values_certified_values_plausible": ("error", ("fail", 1)),
        "kpi_values_certified_answered_le_offered": ("error", ("fail", 1)),
        "kpi_values_every_part_published": ("error", ("fail", 1)),
        "kpi_values_reason_iff_uncertified": ("error", ("fail", 1)),
    }
    assert tests["kpi_values_status_iff_value_and_target"] == ("warn", ("pass", 0))
    nodes = {n["name"]: n for n in manifest["nodes"].values() if n.get("attached_node") == "model.ccq.kpi_values"}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        def failing(name, columns):
            return con.execute(f"SELECT {columns} FROM ({nodes[name]['compiled_code']})").fetchall()
        assert failing("kpi_values_value_matches_parts", "kpi, grain, value, round(expected_value, 6)") \
            == [("service_level", "day", 0.5, 0.454545)]
        assert failing("kpi_values_certified_values_plausible", "kpi, grain, value, plausible_max") == [("service_level", "week", 2, 1)]
        assert failing("kpi_values_certified_answered_le_offered", "grain, strftime(period_start_utc, '%H:%M'), bound_value, kpi_value") \
            == [("hour", "08:00", 11, 12)]
        assert failing("kpi_values_every_part_published", "kpi, grain, scope_id") == [("aht", "month", "*")]
        # Recorded against the scorecard itself, never a raw table: no later certification reads them.
        recorded = con.execute("""SELECT DISTINCT table_name, target FROM audit.check_results
                                  WHERE check_kind = 'dbt_test' AND check_name LIKE 'kpi_values_%'""").fetchall()
    assert recorded == [("kpi_values", "kpi_values")]


def test_a_failed_test_on_the_interval_fact_is_recorded_on_the_days_of_its_rows(unit_run):
    """So it uncertifies the periods of those days only, as a failed raw suite does
    (int_certification__problems reads partition_date)."""
    _, manifest, warehouse = unit_run
    name = {n["test_metadata"]["name"]: n["name"] for n in manifest["nodes"].values()
            if n.get("attached_node") == "model.ccq.fct_queue_intervals" and n.get("test_metadata")}
    not_null, unique = name["not_null_columns"], name["unique_combination"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        failed = con.execute(
            """SELECT DISTINCT check_name, strftime(partition_date, '%m-%d'), unexpected_count FROM audit.check_results
               WHERE check_kind = 'dbt_test' AND target = 'fct_queue_intervals' AND NOT success""").fetchall()
        lineage = {t for (t,) in con.execute(
            "SELECT DISTINCT table_name FROM audit.check_results WHERE check_kind = 'dbt_test' AND target = 'fct_queue_intervals'").fetchall()}
    assert sorted(failed) == sorted([
        (not_null, "03-02", 1),
        (unique, "03-02", 1),
        ("fct_queue_intervals_interval_length", "03-02", 1),
        ("fct_queue_intervals_outcomes_within_offered", "03-03", 1),
        ("fct_queue_intervals_handle_is_talk_hold_acw", "03-04", 1),
        ("fct_queue_intervals_parts_not_negative", "03-04", 1),
    ])
    assert "acd_queue_events" in lineage and "hr_roster" not in lineage


def test_every_kpi_fact_and_the_scorecard_have_unit_tests(unit_run, hand_built_snapshot):
    _, manifest, _ = unit_run
    tested = {t["model"] for t in manifest["unit_tests"].values()}
    facts = {m for (m,) in hand_built_snapshot.execute("SELECT DISTINCT model FROM marts.kpi_catalogue").fetchall()}
    assert facts, "no KPI in the catalogue"
    assert facts | {"kpi_values"} <= tested, sorted(facts | {"kpi_values"} - tested)
