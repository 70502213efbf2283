"""The checks beyond the raw contract's row rules, on small hand-written warehouses: the raw suites
generated for every source, references across sources, volume against the norm, column types,
per-day outcomes, which system checks what, the severity of
dbt tests, and the per-source validation report."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import duckdb
import pytest

from ccq.ingest import rules as loader_rules
from ccq.contract import tables
from ccq.ingest import ensure_warehouse
from ccq.quality import record_dbt_tests, record_suite_results
from ccq.report import write_validation_report
from expectations import catalog, raw_suites, runner
from expectations.results import CheckOutcome

DAY = "2026-03-02"  # a Monday
ACD_FILE = f"acd_queue_events/acd_queue_events_{DAY}.csv"


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_warehouse(c)
    yield c
    c.close()


def insert(con, table: str, rows: list[dict], file_id: str) -> None:
    for line, row in enumerate(rows, 2):
        cols = [*row, "_file_id", "_source_file", "_line_no", "_loaded_at"]
        values = [*row.values(), file_id, "/landing/" + file_id, line, datetime(2026, 3, 3, 2)]
        con.execute(f"INSERT INTO raw.{table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", values)


def event(event_id, contact, at, kind, agent=None, queue="Q_GENERAL", leg=1):
    return {"event_id": event_id, "contact_id": contact, "queue_leg": leg, "event_at": at, "event_type": kind,
            "queue_id": queue, "agent_id": agent}


def outcome(suite_results, name) -> "CheckOutcome":
    return next(o for r in suite_results for o in r.outcomes if o.name == name)


# ---------------------------------------------------------------- the generated raw suites


def test_every_raw_source_has_a_row_suite_and_a_table_suite_generated_from_the_contract():
    for t in tables().values():
        doc = catalog.read_suite_json(f"raw_{t.name}")
        names = {catalog.expectation_name(e) for e in doc["expectations"]}
        assert "columns_match_contract" in names
        # Required columns, allowed codes and ranges are enforced once, by the loader, row by row.
        contract_rules = {f"{c.name}_not_null" for c in t.columns if c.required} | {
            f"{c.name}_allowed" for c in t.columns if c.allowed} | {
            n for c in t.columns for n in names if n.startswith(f"{c.name}_between_")
            or (c.min is not None and n == f"{c.name}_at_least_{c.min:g}")
            or (c.max is not None and n == f"{c.name}_at_most_{c.max:g}")}
        assert not contract_rules & names
        rules = {(c.name, rule) for c in t.columns for rule, _, _ in loader_rules.rule_checks(c)}
        assert {(c.name, "required") for c in t.columns if c.required} <= rules
        assert {(c.name, "allowed_values") for c in t.columns if c.allowed} <= rules
        assert {(c.name, "range") for c in t.columns if c.min is not None or c.max is not None} <= rules
        assert {f"{c.name}_not_in_future" for c in t.columns if c.data_type == "TIMESTAMP"} <= names
        # Every check is a GX expectation; what the partition alone does not show is judged by GX
        # on a frame DuckDB prepares (the key's copies in the whole table, the schema, the volume).
        [key] = [e for e in doc["expectations"] if e["meta"].get("frame") == "key_copies"]
        assert key["severity"] == "warning" and key["type"] in (
            "expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique")
        assert doc["meta"]["ccq"]["frames"]["key_copies"]["columns"] == (
            key["kwargs"].get("column_list") or [key["kwargs"]["column"]])
        assert doc["meta"]["ccq"]["index_columns"][-2:] == ["_file_id", "_line_no"]
        integrity = catalog.read_suite_json(f"raw_{t.name}_integrity")
        assert {k: f["kind"] for k, f in integrity["meta"]["ccq"]["frames"].items()} == {
            "column_types": "column_types", "volume": "volume"}
        assert {(catalog.expectation_name(e), e["meta"]["frame"], e["type"]) for e in integrity["expectations"]} == {
            ("column_types_match_contract", "column_types", "expect_column_pair_values_to_be_equal"),
            ("volume_not_below_norm", "volume", "expect_column_pair_values_a_to_be_greater_than_b"),
            ("volume_not_above_norm", "volume", "expect_column_pair_values_a_to_be_greater_than_b")}
        for suite in (doc, integrity):
            assert set(suite["meta"]["ccq"]) <= {"target", "contract_table", "index_columns", "frames", "derived_columns"}
            assert catalog.build_suite(suite).expectations  # GX knows every expectation type
        assert catalog.load_suite(f"raw_{t.name}").name == f"raw_{t.name}"
    # A later version of a record is not a duplicate: the version key carries latest_by.
    assert raw_suites.version_key(tables()["crm_cases"], {}) == ["case_id", "updated_at"]
    assert raw_suites.version_key(tables()["hr_roster"], {}) == ["agent_id", "snapshot_date"]
    assert catalog.read_suite_json("raw_survey_responses")["meta"]["ccq"]["frames"]["key_copies"]["columns"] == [
        "survey_id", "responded_at"]
    # Contract ranges are the loader's rules: the staff survey's 1-5 score.
    score = tables()["hr_staff_survey"].column("score")
    assert (score.min, score.max) == (1, 5)
    assert [r for r, _, _ in loader_rules.rule_checks(score) if r == "range"] == ["range", "range"]


# ---------------------------------------------------------------- references, types, volume


def test_cross_system_references_warn_and_same_system_references_are_critical(con):
    insert(con, "hr_roster", [{"agent_id": "A1", "team_id": "T1", "site_id": "LON", "hire_date": date(2025, 1, 1),
                               "snapshot_date": date(2026, 3, 2)}], f"hr_roster/hr_roster_{DAY}.csv")
    insert(con, "acd_queue_events", [
        event("e1", "c1", datetime(2026, 3, 2, 8), "ENTERQUEUE"),
        event("e2", "c1", datetime(2026, 3, 2, 8, 0, 10), "CONNECT", "A9"),
        event("e3", "c1", datetime(2026, 3, 2, 8, 2), "COMPLETE", "A9"),
    ], ACD_FILE)
    insert(con, "qa_evaluations", [{"evaluation_id": "QE1", "contact_id": "c1", "agent_id": "A1", "form_id": "F",
                                    "evaluated_at": datetime(2026, 3, 2, 12)}], f"qa_evaluations/qa_evaluations_{DAY}.csv")
    insert(con, "qa_evaluation_items", [
        {"evaluation_id": "QE1", "item_id": "I1", "weight": 1, "is_critical": False, "not_applicable": False, "score": 1, "max_score": 1},
        {"evaluation_id": "QE404", "item_id": "I1", "weight": 1, "is_critical": False, "not_applicable": False, "score": 1, "max_score": 1},
    ], f"qa_evaluation_items/qa_evaluation_items_{DAY}.csv")
    insert(con, "crm_complaints", [
        {"complaint_id": "K1", "customer_id": "C", "received_at": datetime(2026, 3, 2, 9), "category": "x", "severity": "LOW"},
        {"complaint_id": "K2", "customer_id": "C", "contact_id": "c404", "received_at": datetime(2026, 3, 2, 9), "category": "x", "severity": "LOW"},
    ], f"crm_complaints/crm_complaints_{DAY}.csv")

    leg = {"call_id": "c1", "direction": "inbound", "site_id": "LON", "started_at": datetime(2026, 3, 2, 8),
           "answered_at": datetime(2026, 3, 2, 8, 0, 5),
           "ended_at": datetime(2026, 3, 2, 8, 2), "disposition": "ANSWERED"}
    insert(con, "pbx_call_legs", [{**leg, "leg_id": "L1", "agent_id": "A9"}, {**leg, "leg_id": "L2", "agent_id": "A9"},
                                  {**leg, "leg_id": "L3", "agent_id": "A1"}], f"pbx_call_legs/pbx_call_legs_{DAY}.csv")
    pbx = runner.validate_raw(con, "pbx_call_legs", DAY)
    roster = outcome(pbx, "agent_id_in_hr_roster")
    assert not roster.success and roster.severity == "warning" and roster.unexpected_count == 2
    assert roster.column == "agent_id"  # recorded against the raw column, not the looked-up one
    # Each value beside the one HR holds (null: none), with the file and line of the row.
    assert roster.details == (
        "2 of 3 unexpected (66.67%); e.g. pbx_call_legs_2026-03-02.csv line 2: agent_id='A9', agent_id_in_hr_roster=null "
        "(leg_id='L1'); pbx_call_legs_2026-03-02.csv line 3: agent_id='A9', agent_id_in_hr_roster=null (leg_id='L2')")
    assert not any(r.critical_failed for r in pbx)  # an agent missing from HR does not uncertify the call KPIs
    # The ACD may name its agents (Asterisk member names): staging resolves them, no raw check prints them.
    acd = runner.validate_raw(con, "acd_queue_events", DAY, parameters={"queue_ids": ["Q_GENERAL"]})
    assert "agent_id_in_hr_roster" not in {o.name for r in acd for o in r.outcomes}
    assert not any(r.critical_failed for r in acd)

    items = runner.validate_raw(con, "qa_evaluation_items", DAY)
    ref = outcome(items, "evaluation_id_in_qa_evaluations")
    assert not ref.success and ref.severity == "critical" and "evaluation_id='QE404'" in ref.details
    assert outcome(runner.validate_raw(con, "qa_evaluations", DAY), "contact_id_in_acd_queue_events").success

    complaints = outcome(runner.validate_raw(con, "crm_complaints", DAY), "contact_id_in_acd_queue_events")
    # A complaint without a contact is fine: counted, not unexpected.
    assert (complaints.unexpected_count, complaints.element_count) == (1, 2)
    assert "crm_complaints_2026-03-02.csv line 3: contact_id='c404'" in complaints.details


def test_column_types_are_checked_against_the_contract(con):
    con.execute("ALTER TABLE raw.hr_training ALTER completed TYPE VARCHAR")
    [res] = [r for r in runner.validate_raw(con, "hr_training", DAY) if r.suite.endswith("_integrity")]
    types = outcome([res], "column_types_match_contract")
    assert not types.success and types.severity == "critical" and types.column is None
    # hr_training's 7 contract columns and the loader's 4: 11 compared, one wrong.
    assert types.details == ("1 of 11 unexpected (9.09%); e.g. data_type='VARCHAR', declared_type='BOOLEAN' "
                             "(column_name='completed')")


def _delivered(con, table: str, day: date, rows: int) -> None:
    con.execute("INSERT INTO audit.load_files VALUES (?, ?, ?, 'x', 'x', 1, 'utf-8', ?, ?, 0, now(), NULL)",
                [f"{table}/{table}_{day}.csv", table, day, rows, rows])


def test_volume_is_judged_against_the_same_weekday_of_the_previous_weeks(con):
    monday = date(2026, 3, 23)
    for weeks, rows in ((1, 1000), (2, 1200), (3, 900)):
        _delivered(con, "acd_queue_events", monday - timedelta(weeks=weeks), rows)
    _delivered(con, "acd_queue_events", monday - timedelta(days=1), 200)  # a quiet Sunday is not the norm

    def volume(rows: int, day: date = monday):
        con.execute("DELETE FROM audit.load_files WHERE file_date = ?", [day])
        _delivered(con, "acd_queue_events", day, rows)
        res = runner.validate(con, "raw_acd_queue_events_integrity", where=runner.raw_file_filter("acd_queue_events", str(day)))
        return outcome([res], "volume_not_below_norm"), outcome([res], "volume_not_above_norm")

    low, high = volume(950)
    assert low.success and high.success and (low.details, high.details) == ("ok (1 checked)", "ok (1 checked)")
    low, high = volume(400)
    # The norm is the median of the 3 earlier Mondays (900, 1,000, 1,200): 1,000; at least half of it is expected.
    assert not low.success and low.severity == "critical" and high.success and low.column is None
    assert low.details == ("1 of 1 unexpected (100.00%); e.g. rows_read=400, volume_floor=500.0 (file_date='2026-03-23', "
                           "norm=1000.0, earlier_same_weekday='900, 1,000, 1,200')")
    low, high = volume(2500)
    assert low.success and not high.success and high.severity == "warning"
    assert "volume_ceiling=2000.0, rows_read=2500" in high.details
    # One earlier Tuesday is not enough history; a small extract has no norm.
    low, _ = volume(10, monday + timedelta(days=1))
    assert low.success and low.details.startswith("ok (1 checked, 1 day(s) without a norm (fewer than 2 earlier")
    for weeks in (1, 2):
        _delivered(con, "crm_complaints", monday - timedelta(weeks=weeks), 5)
    _delivered(con, "crm_complaints", monday, 0)
    res = runner.validate(con, "raw_crm_complaints_integrity", where=runner.raw_file_filter("crm_complaints", str(monday)))
    assert outcome([res], "volume_not_below_norm").details == (
        "ok (1 checked, 1 day(s) without a norm (fewer than 2 earlier same weekdays, or a median below 200 rows))")


def test_days_validated_together_keep_their_own_outcome(con):
    day2 = "2026-03-03"
    insert(con, "acd_queue_events", [event("e1", "c1", datetime(2026, 3, 2, 8), "ENTERQUEUE"),
                                     event("e2", "c1", datetime(2026, 3, 2, 8, 0, 9), "ABANDON")], ACD_FILE)
    insert(con, "acd_queue_events", [event("e3", "c2", datetime(2026, 3, 3, 8), "ENTERQUEUE")],
           f"acd_queue_events/acd_queue_events_{day2}.csv")
    together = runner.validate_raw_days(con, "acd_queue_events", [DAY, day2], parameters={"queue_ids": ["Q_GENERAL"]})
    assert all(r.success for rs in together.values() for r in rs)
    first = outcome(together[DAY], "event_at_not_in_future")
    assert first.element_count == 2 and "with the run's 2 days together" in first.details

    # A queue the seeds do not configure is data, not a failure; a CONNECT without its agent is.
    insert(con, "acd_queue_events", [event("e4", "c3", datetime(2026, 3, 3, 9), "ENTERQUEUE", queue="Q_MARS"),
                                     event("e5", "c3", datetime(2026, 3, 3, 9, 0, 4), "CONNECT", queue="Q_MARS")],
           f"acd_queue_events/acd_queue_events_{day2}.csv")
    apart = runner.validate_raw_days(con, "acd_queue_events", [DAY, day2])
    assert not any(r.critical_failed for r in apart[DAY])
    assert outcome(apart[day2], "agent_id_on_agent_events").unexpected_count == 1
    record_suite_results(con, "run", {date.fromisoformat(d): r for d, r in apart.items()}, ["acd_queue_events"])
    failed = con.execute("SELECT DISTINCT partition_date, check_name FROM audit.check_results WHERE NOT success").fetchall()
    assert failed == [(date(2026, 3, 3), "agent_id_on_agent_events(agent_id)")]
    per_run = "SELECT run_id, partition_date, count(*) FROM audit.check_results GROUP BY ALL ORDER BY ALL"
    recorded = con.execute(per_run).fetchall()
    assert [(run, day) for run, day, _ in recorded] == [("run", date(2026, 3, 2)), ("run", date(2026, 3, 3))]
    # Recording a day again replaces that day's outcomes, and only that day's.
    record_suite_results(con, "run-2", {date(2026, 3, 3): apart[day2]}, ["acd_queue_events"])
    assert con.execute(per_run).fetchall() == [recorded[0], ("run-2", *recorded[1][1:])]


# ---------------------------------------------------------------- which system checks what


def test_gx_checks_the_raw_tables_and_dbt_the_models():
    from orchestration.definitions import defs

    checks = {(k.asset_key.path[-1], k.name) for k in defs.resolve_asset_graph().asset_check_keys}
    assert {(t, f"gx_raw_{t}") for t in tables()} <= checks
    # The models, the scorecard included, are dbt's to check: no GX suite repeats them.
    assert {table for table, name in checks if name.startswith("gx_")} == set(tables())
    assert ("kpi_values", "kpi_values_value_matches_parts") in checks
    assert ("fct_queue_intervals", "unique_combination_fct_queue_intervals_queue_id__interval_start_utc") in checks
    assert ("int_kpi_parts", "int_kpi_parts_days_add_up_to_months") in checks


# ---------------------------------------------------------------- dbt test severity, report


def test_a_dbt_test_marked_as_a_cross_system_reference_is_a_warning(con):
    manifest = {
        "nodes": {
            "test.ccq.rel": {"name": "rel", "attached_node": "model.ccq.stg_acd__queue_events",
                             "config": {"meta": {"ccq": {"severity": "warning"}}}},
            "test.ccq.nn": {"name": "nn", "attached_node": "model.ccq.stg_acd__queue_events", "config": {}},
        },
        "parent_map": {"test.ccq.rel": ["model.ccq.stg_acd__queue_events"], "test.ccq.nn": ["model.ccq.stg_acd__queue_events"],
                       "model.ccq.stg_acd__queue_events": ["source.ccq.acd.acd_queue_events"]},
        "sources": {"source.ccq.acd.acd_queue_events": {"schema": "raw", "name": "acd_queue_events"}},
    }
    run_results = {"results": [{"unique_id": "test.ccq.rel", "status": "warn", "failures": 3},
                               {"unique_id": "test.ccq.nn", "status": "warn", "failures": 1}]}
    record_dbt_tests(con, "run", run_results, manifest)
    assert dict(con.execute("SELECT check_name, severity FROM audit.check_results").fetchall()) == {"rel": "warning", "nn": "critical"}


def test_the_report_lists_each_source_with_its_files_quarantine_and_failing_checks(con, tmp_path):
    _delivered(con, "acd_queue_events", date(2026, 3, 2), 10)
    con.execute("UPDATE audit.load_files SET rows_loaded = 9, rows_quarantined = 1")
    _delivered(con, "hr_roster", date(2026, 3, 2), 4)
    con.execute("""INSERT INTO audit.quarantine VALUES ('acd_queue_events/acd_queue_events_2026-03-02.csv', 'acd_queue_events',
                   'x', 7, 'event_type', 'allowed_values', 'acd_queue_events_2026-03-02.csv line 7: event_type: unknown code', 'raw', now())""")
    insert(con, "acd_queue_events", [event("e1", "c1", datetime(2026, 3, 2, 8), "CONNECT", queue="Q_MARS")], ACD_FILE)
    results = runner.validate_raw(con, "acd_queue_events", DAY)
    record_suite_results(con, "run-9", {date(2026, 3, 2): results}, ["acd_queue_events"])
    con.execute("""INSERT INTO audit.check_results VALUES ('run-9', 'dbt_test', 'dbt', 'kpi_values_value_matches_parts',
                   'kpi_values', 'kpi_values', NULL, false, 'critical', 1, NULL, 'Got 1 result, configured to fail if != 0', now())""")
    path, summary = write_validation_report(con, tmp_path, "run-9")
    page = path.read_text(encoding="utf-8")
    for text in ("raw.acd_queue_events", "acd_queue_events_2026-03-02.csv", "line 7: event_type: unknown code",
                 "agent_id_on_agent_events", "line 2: agent_id=null (event_id='e1')", "raw.hr_roster", "raw.wfm_forecasts", "no extract loaded",
                 "Marts, models and reference data", "kpi_values_value_matches_parts"):
        assert text in page, text
    assert summary["per_source"]["acd_queue_events"] == {"files": 1, "rows_read": 10, "rows_loaded": 9,
                                                         "rows_quarantined": 1, "failed_checks": 2}
    assert summary["failed_critical_checks"] == 3  # agent_id_on_agent_events, leg_has_one_entry, kpi_values_value_matches_parts
    assert json.loads((tmp_path / "validation-run-9.json").read_text())["rows_quarantined"] == 1
    assert (tmp_path / "latest.html").read_text(encoding="utf-8") == page
