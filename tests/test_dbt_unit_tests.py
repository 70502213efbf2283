"""The dbt unit tests (hand-computed expectations beside every model) run here, once, rather
than on every refresh of the pipeline; and every KPI's fact must have some. The same dbt run
checks the project's own generic tests (macros/utils) on a copy of the interval fact broken on
purpose."""
from __future__ import annotations

import json

import duckdb
import pytest

from tests.conftest import run_dbt, warehouse_copy

pytestmark = pytest.mark.xdist_group("hand_built")


@pytest.fixture(scope="module")
def unit_run(hand_built, tmp_path_factory):
    paths, _ = hand_built
    warehouse = warehouse_copy(paths, tmp_path_factory.mktemp("dbt_unit"))
    with duckdb.connect(str(warehouse)) as con:
        # Two nulls in one row (one failing row), one row twice (one repeated key), one row
        # answering more than it was offered (one row breaking the expression).
        con.execute("""UPDATE marts.fct_queue_intervals SET offered = NULL, interval_minutes = NULL
                       WHERE (queue_id, interval_start_utc) = (SELECT (queue_id, interval_start_utc) FROM marts.fct_queue_intervals ORDER BY ALL LIMIT 1)""")
        con.execute("""INSERT INTO marts.fct_queue_intervals
                       SELECT * FROM marts.fct_queue_intervals WHERE offered IS NOT NULL ORDER BY ALL LIMIT 1""")
        con.execute("""UPDATE marts.fct_queue_intervals SET answered = offered + 1
                       WHERE (queue_id, interval_start_utc) = (SELECT (queue_id, interval_start_utc) FROM marts.fct_queue_intervals
                                                           WHERE offered IS NOT NULL ORDER BY ALL DESC LIMIT 1)""")
    work = warehouse.parent
    run_dbt(work, "test", "--select", "test_type:unit", "fct_queue_intervals,test_type:data", check=False)
    results = json.loads((work / "target" / "run_results.json").read_text())
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    return {r["unique_id"]: (r["status"], r.get("failures")) for r in results["results"]}, manifest, warehouse


def test_every_unit_test_passes(unit_run):
    outcomes, manifest, _ = unit_run
    units = {uid: status for uid, (status, _) in outcomes.items() if uid.startswith("unit_test.")}
    failed = {uid: status for uid, status in units.items() if status != "pass"}
    assert not failed, failed
    assert len(units) == len(manifest["unit_tests"]) > 0


def test_the_generic_tests_count_exactly_the_rows_broken(unit_run):
    outcomes, manifest, warehouse = unit_run
    tests = {uid: manifest["nodes"][uid] for uid in outcomes if uid.startswith("test.")}
    # expression_is_true tests carry their own names; the others one per model.
    by_test = {(n["test_metadata"]["name"], n["name"] if n["test_metadata"]["name"] == "expression_is_true" else None): outcomes[uid]
               for uid, n in tests.items()}
    assert by_test == {
        ("not_null_columns", None): ("warn", 1),
        ("unique_combination", None): ("warn", 1),
        ("expression_is_true", "fct_queue_intervals_outcomes_within_offered"): ("warn", 1),
        ("expression_is_true", "fct_queue_intervals_sl_numerator_within_denominator"): ("pass", 0),
        ("expression_is_true", "fct_queue_intervals_subsets_within_parents"): ("pass", 0),
    }
    # The failing row of not_null_columns names the columns that are null.
    (nn,) = [n for n in tests.values() if n["test_metadata"]["name"] == "not_null_columns"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(nn["compiled_code"]).fetchall() == [("interval_minutes, offered",)]


def test_every_kpi_fact_and_the_scorecard_have_unit_tests(unit_run, hand_built_snapshot):
    _, manifest, _ = unit_run
    tested = {t["model"] for t in manifest["unit_tests"].values()}
    facts = {m for (m,) in hand_built_snapshot.execute("SELECT DISTINCT model FROM marts.kpi_catalogue").fetchall()}
    assert facts, "no KPI in the catalogue"
    assert facts | {"kpi_values"} <= tested, sorted(facts | {"kpi_values"} - tested)
