"""A warehouse refreshed day by day equals the one built from all the days at once (issue 16).

A small demo centre (the generator, two days, 8 agents, 2 queues) is built twice: once with
every file landed together, once with each day's files landing in its own refresh, the
incremental models adding to what the earlier refreshes built. Both end with the same clock. The
published scorecard must be the same, row for row, and so must the facts and the legs that the
incremental models carry over from one refresh to the next."""
from __future__ import annotations

import shutil
from pathlib import Path
from datetime import date

import pytest

from ccq.ingest.landing import FILE_NAME
from tests.conftest import restored_env, run_pipeline, sorted_rows

pytestmark = pytest.mark.xdist_group("incremental")

START, DAYS = date(2026, 3, 2), 2
NOW = "2026-03-04T12:00:00"  # every day's extracts were due
COMPARED = {
    "kpi_values": "SELECT * EXCLUDE (as_of) FROM marts.kpi_values",  # as_of: when the newest file was loaded
    "fct_queue_intervals": "SELECT * EXCLUDE (_loaded_at) FROM marts.fct_queue_intervals",
    "fct_agent_intervals": "SELECT * EXCLUDE (_loaded_at) FROM marts.fct_agent_intervals",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from ccq.generator import DemoConfig, generate

    root = tmp_path_factory.mktemp("incremental")
    landing = root / "generated"
    generate(landing, DemoConfig(start_date=START, days=DAYS, agents=8, queues=2, seed=7))
    days = sorted({FILE_NAME.match(p.name).group("day") for p in landing.rglob("*.csv")})
    with restored_env():
        _, whole = run_pipeline(root / "whole", landing, NOW)
        by_day = []
        for day in days:
            one_day = root / f"landing-{day}"
            for f in landing.rglob(f"*_{day}.csv"):
                (one_day / f.parent.name).mkdir(parents=True, exist_ok=True)
                shutil.copy(f, one_day / f.parent.name / f.name)
            _, info = run_pipeline(root / "day_by_day", one_day, NOW)
            by_day.append(info)
    return days, whole, by_day


def test_each_day_was_its_own_refresh(built):
    days, whole, by_day = built
    assert days == ["2026-03-02", "2026-03-03"]
    assert [info["rows_loaded"] > 0 for info in by_day] == [True, True]
    assert sum(info["rows_loaded"] for info in by_day) == whole["rows_loaded"]


@pytest.mark.parametrize("table", sorted(COMPARED))
def test_day_by_day_gives_the_whole_build(built, table):
    _, whole, by_day = built
    expected = sorted_rows(whole["snapshot"], COMPARED[table])
    assert expected, f"{table} is empty"
    assert sorted_rows(by_day[-1]["snapshot"], COMPARED[table]) == expected


def test_a_refresh_rebuilds_only_what_data_can_change(built):
    """The first refresh of a warehouse builds everything; a later one, the project unchanged,
    leaves the seeds and the models computed from seeds alone as they were, with their tests."""
    import json

    from ccq.settings import Paths
    from orchestration.dbt_models import built_from_seeds_only
    from orchestration.resources import dbt_project

    static, _ = built_from_seeds_only(json.loads(Path(dbt_project.manifest_path).read_text(encoding="utf-8")))
    # The 13 seeds, and the models whose every ancestor is a seed.
    assert static == {"category_labels", "cost_rates", "kpi_pairs", "kpi_targets", "owner_recipients", "people_parameters",
                      "qa_parameters", "queue_parameters", "queues", "schedule_activities", "sites", "source_schedule",
                      "spc_charts",
                      "kpi_catalogue", "kpi_lineage", "metricflow_time_spine", "int_certification__kpi_models"}
    _, _, by_day = built
    home = Paths(Path(by_day[0]["log"]).parents[1])

    def built_nodes(info) -> set[str]:
        results = json.loads((home.dbt_target_dir / f"warehouse_models-{info['run_id'][:8]}" / "run_results.json")
                             .read_text(encoding="utf-8"))["results"]
        return {r["unique_id"] for r in results}

    def names(nodes, kind):
        return {n.split(".")[-1] for n in nodes if n.startswith(kind + ".")}

    first, second = built_nodes(by_day[0]), built_nodes(by_day[1])
    assert static - {"int_certification__kpi_models"} <= names(first, "seed") | names(first, "model")
    assert not static & (names(second, "seed") | names(second, "model"))
    assert not [t for t in second if t.startswith("test.") and "kpi_catalogue" in t]
    assert [t for t in first if t.startswith("test.") and "kpi_catalogue" in t]
    assert {"stg_acd__queue_events", "fct_queue_intervals"} <= names(second, "model")
    # Its progress counts what dbt was asked to build, not what it left alone.
    import re

    log = Path(by_day[1]["log"]).read_text(encoding="utf-8")
    step = log[log.index("  warehouse_models ..."):log.index("  warehouse_models done")]
    said = re.findall(r"dbt (\d+) of (\d+) models, seeds and tests done", step)
    assert said[-1] == (str(len(second)), str(len(second)))
