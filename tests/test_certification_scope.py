"""A failed check uncertifies exactly the KPIs in its path: a dbt test on the agent fact touches
the agent KPIs, not the service level computed from the same ACD events."""
from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from tests.conftest import run_dbt, warehouse_copy

pytestmark = pytest.mark.xdist_group("hand_built")


def _fail(con, check: str, target: str, table: str) -> None:
    con.execute(
        "INSERT INTO audit.check_results VALUES ('run', 'dbt_test', 'dbt', ?, ?, ?, NULL, false, 'critical', 1, NULL, 'x', ?)",
        [check, target, table, datetime(2026, 3, 4)])


@pytest.fixture(scope="module")
def reasons(hand_built, tmp_path_factory):
    paths, _ = hand_built
    warehouse = warehouse_copy(paths, tmp_path_factory.mktemp("certification_scope"))
    with duckdb.connect(str(warehouse)) as con:
        # Recorded as record_dbt_tests does: the tested model, once per raw table upstream of it.
        _fail(con, "agent_fact_test", "fct_agent_intervals", "acd_queue_events")
        _fail(con, "agent_fact_test", "fct_agent_intervals", "agent_state_events")
    run_dbt(warehouse.parent, "run", "--select", "int_certification__problems+",
            "--exclude", "spc_points kpi_pair_points kpi_correlations")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {kpi: (certified, reason or "") for kpi, certified, reason in con.execute(
            "SELECT kpi, certified, certification_reason FROM marts.kpi_values "
            "WHERE grain = 'day' AND scope_type = 'all' AND period_start = TIMESTAMP '2026-03-02'").fetchall()}


def test_a_failed_test_on_the_agent_fact_leaves_the_queue_kpis_certified(reasons):
    for kpi in ("service_level", "asa", "aht", "offered", "abandonment_rate"):
        assert reasons[kpi] == (True, ""), kpi


def test_it_uncertifies_the_agent_kpis_with_its_name(reasons):
    for kpi in ("productivity", "occupancy"):
        certified, reason = reasons[kpi]
        assert not certified and "dbt: agent_fact_test failed (1 unexpected)" in reason, kpi
