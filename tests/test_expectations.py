"""GX suites and the DuckDB batch runner, on a small hand-written warehouse."""
from __future__ import annotations

import json
from datetime import datetime

import duckdb
import pytest

from ccq import reference
from ccq.quality import record_suite_results
from ccq.report import write_validation_report
from ccq.contract import LOAD_COLUMNS, tables
from expectations import catalog, gx_batches, results, runner

DAY1 = "acd_queue_events/acd_queue_events_2024-03-01.csv"
DAY2 = "acd_queue_events/acd_queue_events_2024-03-02.csv"
EVENT_COLUMNS = ["event_id", "contact_id", "queue_leg", "event_at", "event_type", "queue_id", "agent_id", "_file_id"]

# (event_id, contact_id, queue_leg, event_at, event_type, queue_id, agent_id, _file_id)
GOOD_EVENTS = [
    # C1: answered, transferred to billing, answered there.
    ("E01", "C1", 1, "2024-03-01 10:00:00", "ENTERQUEUE", "Q_GENERAL", None, DAY1),
    ("E02", "C1", 1, "2024-03-01 10:00:05", "RINGNOANSWER", "Q_GENERAL", "A1", DAY1),
    ("E03", "C1", 1, "2024-03-01 10:00:12", "CONNECT", "Q_GENERAL", "A2", DAY1),
    ("E04", "C1", 1, "2024-03-01 10:01:00", "HOLD", "Q_GENERAL", "A2", DAY1),
    ("E05", "C1", 1, "2024-03-01 10:01:30", "UNHOLD", "Q_GENERAL", "A2", DAY1),
    ("E06", "C1", 1, "2024-03-01 10:03:00", "TRANSFER", "Q_GENERAL", "A2", DAY1),
    ("E07", "C1", 1, "2024-03-01 10:03:40", "ACWEND", "Q_GENERAL", "A2", DAY1),
    ("E08", "C1", 2, "2024-03-01 10:03:01", "ENTERQUEUE", "Q_BILLING", None, DAY1),
    ("E09", "C1", 2, "2024-03-01 10:03:20", "CONNECT", "Q_BILLING", "A3", DAY1),
    ("E10", "C1", 2, "2024-03-01 10:06:00", "COMPLETE", "Q_BILLING", "A3", DAY1),
    ("E11", "C1", 2, "2024-03-01 10:06:30", "ACWEND", "Q_BILLING", "A3", DAY1),
    # C2 abandons, C3 overflows out.
    ("E12", "C2", 1, "2024-03-01 11:00:00", "ENTERQUEUE", "Q_GENERAL", None, DAY1),
    ("E13", "C2", 1, "2024-03-01 11:00:45", "ABANDON", "Q_GENERAL", None, DAY1),
    ("E14", "C3", 1, "2024-03-01 11:30:00", "ENTERQUEUE", "Q_BILLING", None, DAY1),
    ("E15", "C3", 1, "2024-03-01 11:35:00", "EXITTIMEOUT", "Q_BILLING", None, DAY1),
    # C5: CONNECT half a second before ENTERQUEUE: clock skew within the 1 s tolerance.
    ("E16", "C5", 1, "2024-03-01 12:00:00.5", "ENTERQUEUE", "Q_GENERAL", None, DAY1),
    ("E17", "C5", 1, "2024-03-01 12:00:00", "CONNECT", "Q_GENERAL", "A1", DAY1),
    ("E18", "C5", 1, "2024-03-01 12:04:00", "COMPLETE", "Q_GENERAL", "A1", DAY1),
    # C4 enters before midnight and is answered after it: the leg spans both day files.
    ("E19", "C4", 1, "2024-03-01 23:59:50", "ENTERQUEUE", "Q_GENERAL", None, DAY1),
    ("E20", "C4", 1, "2024-03-02 00:00:05", "CONNECT", "Q_GENERAL", "A1", DAY2),
    ("E21", "C4", 1, "2024-03-02 00:02:00", "COMPLETE", "Q_GENERAL", "A1", DAY2),
    ("E22", "C4", 1, "2024-03-02 00:02:30", "ACWEND", "Q_GENERAL", "A1", DAY2),
    ("E23", "C6", 1, "2024-03-02 09:00:00", "ENTERQUEUE", "Q_BILLING", None, DAY2),
    ("E24", "C6", 1, "2024-03-02 09:00:03", "ABANDON", "Q_BILLING", None, DAY2),
]

BAD_EVENTS = [
    ("B01", "C2", 1, "2024-03-01 11:00:50", "FOO", "Q_GENERAL", None, DAY1),  # unknown code
    ("B02", None, 1, "2024-03-01 12:30:00", "ENTERQUEUE", "Q_GENERAL", None, DAY1),  # null contact_id
    ("B03", "C7", 1, "2024-03-01 13:00:30", "ENTERQUEUE", "Q_GENERAL", None, DAY1),
    ("B04", "C7", 1, "2024-03-01 13:00:00", "CONNECT", "Q_GENERAL", "A1", DAY1),  # 30 s before entry
    ("B05", "C7", 1, "2024-03-01 13:05:00", "COMPLETE", "Q_GENERAL", "A1", DAY1),
    # E04 again, far from the first copy: in another batch when batch_rows is small.
    ("E04", "C1", 1, "2024-03-01 10:01:00", "HOLD", "Q_GENERAL", "A2", DAY1),
]

def insert_events(con, rows):
    cols = ", ".join(EVENT_COLUMNS)
    con.executemany(
        f"INSERT INTO raw.acd_queue_events ({cols}, _loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, TIMESTAMP '2024-03-02 02:00:00')",
        rows,
    )


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    c.execute("CREATE SCHEMA raw")
    c.execute(tables()["acd_queue_events"].ddl())
    c.execute("CREATE SCHEMA reference")
    c.execute("CREATE TABLE reference.queues (queue_id VARCHAR)")
    c.execute("INSERT INTO reference.queues VALUES ('Q_GENERAL'), ('Q_BILLING'), ('Q_TECH')")
    insert_events(c, GOOD_EVENTS)
    yield c
    c.close()


def failures(result: results.SuiteResult) -> dict[str, int]:
    return {o.name: o.unexpected_count for o in result.outcomes if not o.success}


def outcome(result: results.SuiteResult, name: str) -> results.CheckOutcome:
    return next(o for o in result.outcomes if o.name == name)


# ---------------------------------------------------------------- suites as data


def test_suites_load_and_agree_with_the_raw_contract():
    for name in catalog.SUITES:
        suite = catalog.load_suite(name)
        doc = catalog.read_suite_json(name)
        assert suite.name == name and len(suite.expectations) == len(doc["expectations"])

    doc = catalog.read_suite_json("raw_acd_queue_events")
    contract = tables()["acd_queue_events"]
    by_name = {catalog.expectation_name(e): e for e in doc["expectations"]}
    assert by_name["columns_match_contract"]["kwargs"]["column_set"] == contract.column_names + list(LOAD_COLUMNS)
    # Required columns and allowed codes are the loader's rules (a row breaking one is quarantined,
    # never loaded): the suite checks only what one row cannot show.
    assert not [e for e in doc["expectations"] if e["type"] == "expect_column_values_to_be_in_set"
                or (e["type"] == "expect_column_values_to_not_be_null" and "row_condition" not in e["kwargs"])]
    assert {n for n in by_name if n.endswith("_not_in_future")} == {"event_at_not_in_future"}
    assert catalog.suite_parameters(doc) == {"now_utc"}  # no queue list: unconfigured queues are data


def test_load_suite_rejects_an_expectation_gx_does_not_know(tmp_path):
    # GX itself only logs and drops it.
    path = tmp_path / "broken.json"
    path.write_text(json.dumps({"name": "broken", "expectations": [
        {"type": "expect_column_values_to_be_betwixt", "kwargs": {"column": "x"}, "meta": {"name": "x"}}]}))
    with pytest.raises(ValueError, match="betwixt"):
        catalog.load_suite(path)


# ---------------------------------------------------------------- raw ACD events


def test_good_events_pass_every_check_in_several_batches(con):
    results = runner.validate_acd_events(con, batch_rows=5)
    for r in results:
        assert r.success, r.summary()
    events, legs = results
    assert (events.rows, events.batches) == (len(GOOD_EVENTS), 5)
    assert outcome(events, "event_at_not_in_future").element_count == len(GOOD_EVENTS)
    # row_condition: only the 14 events that involve an agent are checked.
    assert outcome(events, "agent_id_on_agent_events").element_count == 14
    assert outcome(events, "event_id_unique").details.startswith("ok")
    assert legs.rows == 7 and legs.target == "raw.acd_queue_events (queue legs)"
    assert f"all {len(events.outcomes)} checks passed" in events.summary() and len(events.outcomes) == 4


def test_bad_events_fail_exactly_the_expected_checks(con):
    insert_events(con, BAD_EVENTS)
    events, legs = runner.validate_acd_events(con, batch_rows=4)
    assert events.batches == 8
    # B01's unknown code and B02's empty contact are the loader's to quarantine (never loaded;
    # test_data_quality_corpus): the suite does not check them again.
    assert failures(events) == {"event_id_unique": 2}
    assert failures(legs) == {"answer_after_entry": 1}
    # The two copies of E04 are in different batches of the partition; the key's frame, ordered by
    # key, judges them together. A repeated event_id is a warning (staging keeps the latest
    # delivery); the leg order blocks.
    assert not events.critical_failed and {o.name for o in legs.critical_failed} == {"answer_after_entry"}
    assert outcome(events, "event_id_unique").severity == "warning"
    assert outcome(events, "event_id_unique").column == "event_id"
    # Every copy is named (this fixture has no line numbers: both are in the same file).
    assert outcome(events, "event_id_unique").details == (
        "2 of 30 unexpected (6.67%); e.g. acd_queue_events_2024-03-01.csv: event_id='E04'")
    assert "contact_id='C7'" in outcome(legs, "answer_after_entry").details
    assert "-30.0" in outcome(legs, "answer_after_entry").details
    assert not events.success and not legs.success
    s = events.summary()
    assert s.startswith("raw_acd_queue_events on raw.acd_queue_events: 1 of 4 checks failed (")
    assert "event_id_unique: 2 unexpected, warning" in s


def test_a_key_is_never_split_between_batches(con):
    import pyarrow as pa

    keys = pa.table({"k": ["a", "a", "b", "b", "b", "c"], "n": [1, 2, 3, 4, 5, 6]})
    batches = [t.column("k").to_pylist() for t in gx_batches.rebatch(iter(keys.to_batches(max_chunksize=1)), 2, ["k"])]
    assert batches == [["a", "a"], ["b", "b", "b"], ["c"]]
    assert [t.num_rows for t in gx_batches.rebatch(iter(keys.to_batches()), 4)] == [4, 2]
    # One row per batch on the partition: the copies of E04, 21 rows apart, still meet in one batch.
    insert_events(con, BAD_EVENTS)
    events = runner.validate(con, "raw_acd_queue_events", batch_rows=1)
    assert events.batches == 30 and failures(events) == {"event_id_unique": 2}


def test_partition_sees_whole_legs_and_table_wide_duplicates(con):
    day2 = "cast(event_at as date) = '2024-03-02'"
    events, legs = runner.validate_acd_events(con, where=day2)
    assert events.success and legs.success, events.summary() + legs.summary()
    assert events.rows == 5
    assert legs.rows == 2  # C4 (entered on day 1) and C6
    assert "[2024-03-02]" in events.summary()

    # A day-2 event reusing a day-1 event_id: unique within the day, not in the table.
    insert_events(con, [("E12", "C8", 1, "2024-03-02 10:00:00", "ENTERQUEUE", "Q_GENERAL", None, DAY2)])
    events = runner.validate(con, "raw_acd_queue_events", "raw.acd_queue_events", where=day2)
    assert failures(events) == {"event_id_unique": 2}
    # The day's 6 events and the day-1 copy of E12.
    assert outcome(events, "event_id_unique").element_count == 7
    # The same on a _file_id partition.
    events = runner.validate(con, "raw_acd_queue_events", where=f"_file_id = '{DAY2}'")
    assert failures(events) == {"event_id_unique": 2}


def test_a_line_delivered_twice_is_reported_once(con):
    # An exact copy of C2's ABANDON: the legs frame deduplicates like staging, so no second outcome.
    insert_events(con, [("E13", "C2", 1, "2024-03-01 11:00:45", "ABANDON", "Q_GENERAL", None, DAY1)])
    events, legs = runner.validate_acd_events(con)
    assert failures(events) == {"event_id_unique": 2}
    assert not events.critical_failed
    assert legs.success, legs.summary()
    assert "event_id_unique: 2 unexpected, warning" in events.summary()


def test_agentless_connect_and_future_events_but_not_an_unconfigured_queue(con):
    insert_events(con, [
        ("X1", "C9", 1, "2024-03-01 14:00:00", "ENTERQUEUE", "Q_NOPE", None, DAY1),
        ("X2", "C9", 1, "2024-03-01 14:00:09", "CONNECT", "Q_NOPE", None, DAY1),
    ])
    events = runner.validate(con, "raw_acd_queue_events", batch_rows=10,
                             parameters={"now_utc": datetime(2024, 3, 1, 12, 0, 0)})
    after_noon = con.execute(
        "select count(*) from raw.acd_queue_events where event_at > timestamp '2024-03-01 12:00:00'").fetchone()[0]
    # Q_NOPE is in no seed: the warehouse registers it from the data, so it is no failure here.
    assert failures(events) == {"agent_id_on_agent_events": 1, "event_at_not_in_future": after_noon}
    assert events.parameters["now_utc"] == "2024-03-01 12:00:00"


def test_column_drift_and_empty_partition(con):
    con.execute("ALTER TABLE raw.acd_queue_events ADD COLUMN extra VARCHAR")
    events = runner.validate(con, "raw_acd_queue_events", where="event_at < timestamp '2000-01-01'")
    assert events.rows == 0
    assert failures(events) == {"columns_match_contract": 1}
    assert "unexpected columns: extra" in outcome(events, "columns_match_contract").details


def test_forecast_queues_are_the_configured_ones_and_those_the_acd_names(con):
    con.execute(tables()["wfm_forecasts"].ddl())
    con.executemany(
        "INSERT INTO raw.wfm_forecasts (queue_id, interval_start, interval_minutes, forecast_contacts, "
        "forecast_aht_seconds, forecast_made_at, _loaded_at) VALUES (?, TIMESTAMP '2024-03-01 09:00:00', 15, 10, 300, "
        "TIMESTAMP '2024-02-20 00:00:00', TIMESTAMP '2024-03-02 02:00:00')",
        [("Q_GENERAL",), ("support",), ("Q_TYPO",)],
    )
    insert_events(con, [("S1", "C8", 1, "2024-03-01 09:00:00", "ENTERQUEUE", "support", None, DAY1)])
    known = outcome(runner.validate(con, "raw_wfm_forecasts"), "queue_id_known")
    assert known.unexpected_count == 1 and "queue_id='Q_TYPO'" in known.details
    # The seeds are read from their files: the first load runs before dbt has seeded the warehouse,
    # and the pipeline's raw step passes no list of its own.
    con.execute("DROP TABLE reference.queues")
    known = outcome(runner.validate(con, "raw_wfm_forecasts"), "queue_id_known")
    assert known.unexpected_count == 1 and "queue_id='Q_TYPO'" in known.details
    assert catalog.PARAMETER_RESOLVERS["queue_ids"](con) == sorted({*reference.queue_ids(), "support"})


# ---------------------------------------------------------------- types


def test_sums_reach_gx_as_numbers():
    """DuckDB sums are HUGEINT or DECIMAL, which Arrow hands to pandas as Python Decimal objects
    that GX compares value by value: they reach it as int64 and float64. (The interval mart's
    checks, which read such sums, are dbt tests now: tests/test_dbt_unit_tests.py.)"""
    table = duckdb.sql("SELECT sum(x)::HUGEINT AS n, sum(x * 1.5)::DECIMAL(18, 3) AS s FROM range(4) t(x)").arrow().read_all()
    df = gx_batches.to_pandas(table)
    assert (str(df["n"].dtype), str(df["s"].dtype)) == ("int64", "float64")
    assert (df["n"][0], df["s"][0]) == (6, 9.0)


# ---------------------------------------------------------------- report


def test_the_validation_report_names_the_failing_checks(con, tmp_path):
    # One report: ccq.report, from the outcomes recorded in audit.check_results (no second one here).
    insert_events(con, BAD_EVENTS)
    suite_results = runner.validate_acd_events(con, batch_rows=4)
    n = record_suite_results(con, "run1", {None: suite_results}, ["acd_queue_events"])
    assert n == sum(len(r.outcomes) for r in suite_results)
    page_path, summary = write_validation_report(con, tmp_path / "reports", "run1")
    page = page_path.read_text(encoding="utf-8")
    # event_id_unique (a warning) and answer_after_entry (critical) failed; everything else passed.
    assert (summary["checks"], summary["failed_checks"], summary["failed_critical_checks"]) == (n, 2, 1)
    for name in ("event_id_unique", "answer_after_entry"):
        assert name in page
    assert "FAIL" in page
