"""The demo generator's extracts load without a quarantined row and pass the raw suites."""
from __future__ import annotations

from datetime import date

import duckdb

from ccq.generator import DemoConfig, generate
from ccq.ingest import load_landing
from ccq.reference import queue_ids
from expectations.runner import validate_acd_events


def test_generated_extracts_load_clean_and_pass_the_raw_suites(tmp_path):
    generate(tmp_path / "landing", DemoConfig(start_date=date(2026, 3, 2), days=2, agents=20, queues=3, seed=11))
    con = duckdb.connect()
    loads = load_landing(con, tmp_path / "landing")
    assert loads and all(r.reconciles for r in loads)
    assert sum(r.rows_quarantined for r in loads) == 0
    assert sum(r.rows_loaded for r in loads if r.table_name == "acd_queue_events") > 500
    for day in ("2026-03-02", "2026-03-03"):
        results = validate_acd_events(
            con, where=f"_file_id = 'acd_queue_events/acd_queue_events_{day}.csv'", parameters={"queue_ids": queue_ids()}
        )
        failed = [o for r in results for o in r.critical_failed]
        assert failed == [], [r.summary() for r in results]
