"""The dbt unit tests (hand-computed expectations beside every model) run here, once, rather
than on every refresh of the pipeline; and every KPI's fact must have some."""
from __future__ import annotations

import json

import pytest

from tests.conftest import run_dbt, warehouse_copy

pytestmark = pytest.mark.xdist_group("hand_built")


@pytest.fixture(scope="module")
def unit_run(hand_built, tmp_path_factory):
    paths, _ = hand_built
    work = warehouse_copy(paths, tmp_path_factory.mktemp("dbt_unit")).parent
    run_dbt(work, "test", "--select", "test_type:unit", check=False)
    results = json.loads((work / "target" / "run_results.json").read_text())
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    return {r["unique_id"]: r["status"] for r in results["results"]}, manifest


def test_every_unit_test_passes(unit_run):
    outcomes, manifest = unit_run
    failed = {uid: status for uid, status in outcomes.items() if status != "pass"}
    assert not failed, failed
    assert len(outcomes) == len(manifest["unit_tests"]) > 0


def test_every_kpi_fact_and_the_scorecard_have_unit_tests(unit_run, hand_built_snapshot):
    _, manifest = unit_run
    tested = {t["model"] for t in manifest["unit_tests"].values()}
    facts = {m for (m,) in hand_built_snapshot.execute("SELECT DISTINCT model FROM marts.kpi_catalogue").fetchall()}
    assert facts, "no KPI in the catalogue"
    assert facts | {"kpi_values"} <= tested, sorted(facts | {"kpi_values"} - tested)
