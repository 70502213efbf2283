"""The dbt unit tests (hand-computed expectations beside every model) run here, once, rather
than on every refresh of the pipeline; and every KPI's fact must have some."""
from __future__ import annotations

import json
import os
import shutil

import pytest

from ccq.settings import DBT_PROJECT_DIR

pytestmark = pytest.mark.xdist_group("hand_built")


@pytest.fixture(scope="module")
def unit_run(hand_built, tmp_path_factory):
    from dbt.cli.main import dbtRunner

    paths, _ = hand_built
    work = tmp_path_factory.mktemp("dbt_unit")
    # A copy: the session's warehouse stays readable by the other tests while dbt holds this one.
    warehouse = work / "ccq.duckdb"
    shutil.copy(paths.warehouse, warehouse)
    env = {"CCQ_DUCKDB_PATH": str(warehouse)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        result = dbtRunner().invoke([
            "test", "--select", "test_type:unit", "--project-dir", str(DBT_PROJECT_DIR),
            "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(work / "target"),
            "--log-path", str(work / "logs"), "--quiet"])
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    return result, manifest


def test_every_unit_test_passes(unit_run):
    result, manifest = unit_run
    outcomes = {r.node.unique_id: r.status for r in result.result}
    failed = {uid: str(status) for uid, status in outcomes.items() if str(status) != "pass"}
    assert not failed, failed
    assert len(outcomes) == len(manifest["unit_tests"]) > 0


def test_every_kpi_fact_and_the_scorecard_have_unit_tests(unit_run, hand_built_snapshot):
    _, manifest = unit_run
    tested = {t["model"] for t in manifest["unit_tests"].values()}
    facts = {m for (m,) in hand_built_snapshot.execute("SELECT DISTINCT model FROM marts.kpi_catalogue").fetchall()}
    assert facts, "no KPI in the catalogue"
    assert facts | {"kpi_values"} <= tested, sorted(facts | {"kpi_values"} - tested)
