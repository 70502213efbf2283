"""The bad-input corpus (tests/fixtures/quality/<case>/): every case gets a message that names the
file, the line and the field, from the loader (quarantine) or from a raw suite (audit-ready
outcome), and every file reconciles: rows read = rows loaded + rows quarantined.

Beyond tests/test_loader.py (single bad lines, a quoted truncated last line, invalid UTF-8, the
same file twice, a first GB18030 name), this covers: a quote left open mid-file (the lines after
it still load), short and long lines in one file, GB18030 with Chinese agent, team and queue
names plus undecodable bytes, blank-only files, an unquoted truncated line, a whole corpus loaded
twice, events out of order, negative durations, unknown codes in two sources, future
timestamps, explicit offsets around both daylight-saving changes, and a field over 2 MB. The
mart's intervals on the daylight-saving days are a dbt unit test in fct_queue_intervals.yml.
"""
from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from ccq.ingest import ensure_warehouse, load_file
from ccq.ingest.lines import MAX_LINE_BYTES, RAW_TEXT_LIMIT
from ccq.quality import record_suite_results
from ccq.reference import queue_ids
from expectations.runner import validate, validate_raw
from tests.conftest import FIXTURES

QUALITY = FIXTURES / "quality"
ACD_HEADER = "event_id,contact_id,queue_leg,event_at,event_type,queue_id,agent_id,caller_number,customer_id,detail\n"


@pytest.fixture
def con():
    c = duckdb.connect()
    ensure_warehouse(c)
    yield c
    c.close()


def load(con, case: str, encoding: str = "utf-8"):
    files = sorted((QUALITY / case).rglob("*.csv"))
    assert files, case
    return [load_file(con, p, encoding=encoding) for p in files]


def quarantine(con) -> list[tuple]:
    return con.execute(
        "SELECT table_name, line_no, field, rule, message FROM audit.quarantine ORDER BY table_name, file_id, line_no, field"
    ).fetchall()


def loaded_lines(con, table: str = "acd_queue_events") -> list[int]:
    return [r[0] for r in con.execute(f"SELECT _line_no FROM raw.{table} ORDER BY _line_no").fetchall()]


def assert_reconciles(con) -> None:
    rows = con.execute(
        """SELECT f.file_id, f.rows_read, f.rows_loaded, f.rows_quarantined,
                  (SELECT count(DISTINCT line_no) FROM audit.quarantine q WHERE q.file_id = f.file_id)
           FROM audit.load_files f"""
    ).fetchall()
    assert rows
    for file_id, read, loaded, quarantined, lines in rows:
        assert read == loaded + quarantined, file_id
        assert quarantined == lines, file_id
        table = file_id.split("/")[0]
        [(in_raw,)] = con.execute(f"SELECT count(*) FROM raw.{table} WHERE _file_id = ?", [file_id]).fetchall()
        assert in_raw == loaded, file_id


def names_file_and_line(message: str, file: str, line: int) -> bool:
    return f"{file} line {line}" in message


def raw_outcomes(con, table: str, day: str, parameters: dict | None = None) -> dict:
    """Outcome per check name over every suite of the table on that day."""
    params = {"queue_ids": queue_ids(), **(parameters or {})}
    return {o.name: o for r in validate_raw(con, table, day, parameters=params) for o in r.outcomes}


def critical_failures(outcomes: dict) -> dict:
    # Warnings aside: without a roster in the case, agent references are reported as warnings.
    return {n: o for n, o in outcomes.items() if not o.success and o.severity == "critical"}


# ---------------------------------------------------------------- loader cases


def test_a_quote_left_open_mid_file_costs_only_its_own_line(con):
    [r] = load(con, "malformed_line")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (4, 3, 1)
    [(_, line, field, rule, message)] = quarantine(con)
    assert (line, field, rule) == (3, None, "parse")
    assert names_file_and_line(message, "acd_queue_events_2026-03-02.csv", 3)
    assert "unbalanced quotes" in message and "(contact_id)" in message
    assert loaded_lines(con) == [2, 4, 5]  # the lines after it keep their numbers
    assert_reconciles(con)


def test_short_and_long_lines_name_the_first_missing_column(con):
    [r] = load(con, "wrong_column_count")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (5, 2, 3)
    got = {line: (field, rule, message) for _, line, field, rule, message in quarantine(con)}
    assert got[3][:2] == ("contact_id", "parse")
    assert "missing columns: expected 10 columns, found 1 (first missing: contact_id)" in got[3][2]
    assert got[4][:2] == (None, "parse") and "too many columns: expected 10 columns, found 11" in got[4][2]
    assert got[5][:2] == ("caller_number", "parse") and "found 7" in got[5][2]
    assert all(names_file_and_line(m, "acd_queue_events_2026-03-02.csv", line) for line, (_, _, m) in got.items())
    assert loaded_lines(con) == [2, 6]
    assert_reconciles(con)


def test_gb18030_chinese_names_load_intact_and_bad_bytes_are_named(con):
    loads = load(con, "gb18030", encoding="gb18030")
    by_table = {r.table_name: r for r in loads}
    assert (by_table["hr_roster"].rows_loaded, by_table["hr_roster"].rows_quarantined) == (2, 1)
    assert (by_table["acd_queue_events"].rows_loaded, by_table["acd_queue_events"].rows_quarantined) == (6, 0)
    assert con.execute("SELECT agent_id, agent_name, team_id FROM raw.hr_roster ORDER BY 1").fetchall() == [
        ("A0001", "王芳", "客服一组"), ("A0002", "李䶮", "客服二组")]  # 䶮 is four bytes in GB18030, not GBK
    queues = con.execute("SELECT DISTINCT queue_id FROM raw.acd_queue_events ORDER BY 1").fetchall()
    assert sorted(q for (q,) in queues) == sorted(["综合咨询", "账单"])
    assert con.execute("SELECT detail FROM raw.acd_queue_events WHERE event_id = 'g03'").fetchall() == [("账单",)]
    [(table, line, field, rule, message)] = quarantine(con)
    assert (table, line, field, rule) == ("hr_roster", 4, "agent_name", "encoding")
    assert names_file_and_line(message, "hr_roster_2026-03-02.csv", 4) and "not valid GB18030" in message
    assert_reconciles(con)
    # The suites see the names as written: a transfer from 综合咨询 to 账单 is two well-ordered legs.
    outcomes = raw_outcomes(con, "acd_queue_events", "2026-03-02", {"queue_ids": ["综合咨询", "账单"]})
    assert [n for n, o in outcomes.items() if not o.success] == []  # the roster has both agents


def test_invalid_utf8_bytes_name_their_field(con):
    [r] = load(con, "invalid_bytes")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (3, 2, 1)
    [(_, line, field, rule, message)] = quarantine(con)
    assert (line, field, rule) == (3, "agent_id", "parse")
    assert names_file_and_line(message, "acd_queue_events_2026-03-02.csv", 3) and "invalid encoding" in message
    assert loaded_lines(con) == [2, 4]
    assert_reconciles(con)


def test_empty_files_are_delivered_not_missing_and_pass_the_suites(con):
    loads = load(con, "empty")
    assert [(r.rows_read, r.rows_loaded, r.rows_quarantined) for r in loads] == [(0, 0, 0), (0, 0, 0)]
    days = [d for (d,) in con.execute("SELECT cast(file_date AS VARCHAR) FROM audit.load_files ORDER BY 1").fetchall()]
    assert days == ["2026-03-02", "2026-03-03"]  # on record, so the certification sees them delivered
    for day in days:
        assert critical_failures(raw_outcomes(con, "acd_queue_events", day)) == {}
    assert_reconciles(con)


def test_an_unquoted_truncated_last_line_names_the_first_missing_column(con):
    [r] = load(con, "truncated_last_line")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (3, 2, 1)
    [(_, line, field, rule, message)] = quarantine(con)
    assert (line, field, rule) == (4, "event_type", "parse")
    assert names_file_and_line(message, "acd_queue_events_2026-03-02.csv", 4)
    assert "expected 10 columns, found 4" in message
    assert_reconciles(con)


def test_unknown_codes_in_two_sources_list_the_allowed_ones(con):
    load(con, "unknown_codes")
    got = {(t, line): (field, rule, message) for t, line, field, rule, message in quarantine(con)}
    assert set(got) == {("acd_queue_events", 3), ("agent_state_events", 4), ("agent_state_events", 5)}
    field, rule, message = got[("acd_queue_events", 3)]
    assert (field, rule) == ("event_type", "allowed_values")
    assert names_file_and_line(message, "acd_queue_events_2026-03-02.csv", 3)
    assert "unknown code 'ANSWERED'" in message and "CONNECT" in message
    assert got[("agent_state_events", 4)][:2] == ("reason", "allowed_values")
    assert "'SMOKING'" in got[("agent_state_events", 4)][2] and "BREAK" in got[("agent_state_events", 4)][2]
    assert got[("agent_state_events", 5)][:2] == ("state", "allowed_values")
    assert_reconciles(con)
    # What loaded passes the suites (the NOT_READY without a valid reason never reached raw).
    assert critical_failures(raw_outcomes(con, "agent_state_events", "2026-03-02")) == {}


def test_a_field_over_2_mb_is_quarantined_with_its_name_and_the_next_line_loads(con, tmp_path):
    huge = "x" * (MAX_LINE_BYTES + 100_000)
    big_but_fine = "y" * 1_500_000
    path = tmp_path / "acd_queue_events_2026-03-02.csv"
    path.write_text(
        ACD_HEADER
        + "h01,c01,1,2026-03-02T08:00:00Z,ENTERQUEUE,Q_GENERAL,,+447700900001,CUST01,\n"
        + f"h02,c01,1,2026-03-02T08:00:10Z,CONNECT,Q_GENERAL,A0001,,,{huge}\n"
        + f"h03,c01,1,2026-03-02T08:02:00Z,COMPLETE,Q_GENERAL,A0001,,,{big_but_fine}\n"
        + "h04,c01,1,2026-03-02T08:02:30Z,ACWEND,Q_GENERAL,A0001,,,\n",
        encoding="utf-8",
    )
    r = load_file(con, path)
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (4, 3, 1)
    [(_, line, field, rule, message)] = quarantine(con)
    assert (line, field, rule) == (3, "detail", "parse")
    assert names_file_and_line(message, "acd_queue_events_2026-03-02.csv", 3)
    assert f"detail is {len(huge):,} bytes" in message
    [(raw_len,)] = con.execute("SELECT length(raw_text) FROM audit.quarantine").fetchall()
    assert raw_len <= RAW_TEXT_LIMIT  # the evidence is kept, not the whole 2 MB
    assert con.execute("SELECT _line_no, length(detail) FROM raw.acd_queue_events WHERE event_id = 'h03'").fetchall() == [
        (4, len(big_but_fine))]
    assert_reconciles(con)


def test_offsets_around_both_daylight_saving_changes_become_ordered_utc(con):
    load(con, "dst")
    got = dict(con.execute("SELECT event_id, strftime(event_at, '%Y-%m-%d %H:%M:%S') FROM raw.acd_queue_events").fetchall())
    assert got == {
        # spring forward: 00:59:50 GMT and 02:00:05 BST are 15 seconds apart
        "d01": "2026-03-29 00:59:50", "d02": "2026-03-29 01:00:05", "d03": "2026-03-29 01:03:00",
        # fall back: 01:59:50 BST comes before 01:00:10 GMT; the two 01:30s are an hour apart
        "d11": "2026-10-25 00:59:50", "d12": "2026-10-25 01:00:10", "d13": "2026-10-25 00:30:00", "d14": "2026-10-25 01:30:00",
    }
    for day in ("2026-03-29", "2026-10-25"):
        assert critical_failures(raw_outcomes(con, "acd_queue_events", day)) == {}, day  # no false "out of order"
    assert_reconciles(con)


@pytest.mark.parametrize("case", ["malformed_line", "gb18030", "empty", "negative_durations", "unknown_codes"])
def test_every_case_loaded_and_validated_twice_changes_nothing(con, case):
    encoding = "gb18030" if case == "gb18030" else "utf-8"

    def state():
        counts = {t: con.execute(f"SELECT count(*) FROM raw.{t}").fetchall()[0][0]
                  for t in ("acd_queue_events", "agent_state_events", "pbx_call_legs", "wfm_schedules", "hr_training", "hr_roster")}
        return (counts, con.execute("SELECT file_id, sha256, rows_read, rows_loaded, rows_quarantined FROM audit.load_files ORDER BY 1").fetchall(),
                con.execute("SELECT file_id, line_no, field, rule, message FROM audit.quarantine ORDER BY ALL").fetchall(),
                con.execute("SELECT suite, check_name, table_name, partition_date, success FROM audit.check_results ORDER BY ALL").fetchall())

    def run():
        loads = load(con, case, encoding)
        for r in loads:
            if r.file_date is not None:
                results = validate_raw(con, r.table_name, str(r.file_date), parameters={"queue_ids": queue_ids()})
                record_suite_results(con, "run", {r.file_date: results}, [r.table_name])
        return loads

    first = run()
    before = state()
    again = run()
    assert all(r.skipped for r in again) and len(again) == len(first)
    assert state() == before
    assert_reconciles(con)


# ---------------------------------------------------------------- suite cases (rows that load but are wrong)


def test_events_out_of_order_name_the_leg_its_file_and_line(con):
    [r] = load(con, "out_of_order")
    assert (r.rows_loaded, r.rows_quarantined) == (9, 0)
    failed = critical_failures(raw_outcomes(con, "acd_queue_events", "2026-03-02"))
    assert set(failed) == {"answer_after_entry", "end_after_answer"}
    answer = failed["answer_after_entry"]
    assert answer.column == "entry_to_answer_seconds" and answer.unexpected_count == 1
    assert "acd_queue_events_2026-03-02.csv line 5: entry_to_answer_seconds=-30.0" in answer.details
    assert "contact_id='c02'" in answer.details
    assert "acd_queue_events_2026-03-02.csv line 8: answer_to_end_seconds=-80.0" in failed["end_after_answer"].details
    assert_reconciles(con)


def test_negative_durations_name_file_line_and_field(con):
    load(con, "negative_durations")
    pbx = critical_failures(raw_outcomes(con, "pbx_call_legs", "2026-03-02"))
    assert set(pbx) == {"end_not_before_start", "end_not_before_answer"}
    assert "pbx_call_legs_2026-03-02.csv line 3: leg_seconds=-60.0 (leg_id='L02')" in pbx["end_not_before_start"].details
    assert pbx["end_not_before_start"].column == "leg_seconds"

    wfm = critical_failures(raw_outcomes(con, "wfm_schedules", "2026-03-02"))
    assert set(wfm) == {"segment_ends_after_start_within_16h"}
    seg = wfm["segment_ends_after_start_within_16h"]
    assert seg.unexpected_count == 2  # ends before it starts; lasts 17 hours
    assert "wfm_schedules_2026-03-02.csv line 3: segment_hours=-0.25" in seg.details
    assert "wfm_schedules_2026-03-02.csv line 4: segment_hours=17.0" in seg.details

    training = critical_failures(raw_outcomes(con, "hr_training", "2026-03-02"))
    assert "hr_training_2026-03-02.csv line 3: session_hours=-1.0 (training_id='T02')" in (
        training["session_ends_after_start_within_12h"].details)
    assert_reconciles(con)


def test_timestamps_in_the_future_are_critical_and_named(con):
    load(con, "future")
    outcomes = raw_outcomes(con, "acd_queue_events", "2026-03-02")
    future = outcomes["event_at_not_in_future"]
    assert not future.success and future.severity == "critical" and future.column == "event_at"
    assert "acd_queue_events_2026-03-02.csv line 4: event_at=2099-03-02 08:02:00 (event_id='f03')" in future.details
    # Pinning the clock before the file's own events flags them too.
    early = validate(con, "raw_acd_queue_events", parameters={"now_utc": datetime(2026, 3, 2, 8, 0, 5), "queue_ids": queue_ids()})
    assert next(o for o in early.outcomes if o.name == "event_at_not_in_future").unexpected_count == 2
    assert_reconciles(con)


def test_a_quoted_field_over_the_line_limit_is_quarantined_like_an_unquoted_one(con, tmp_path):
    """One limit for every line: quoting a huge field does not smuggle it in as one row."""
    huge = "x" * (MAX_LINE_BYTES + 1_000)
    path = tmp_path / "acd_queue_events_2026-03-02.csv"
    path.write_text(
        ACD_HEADER
        + "h01,c01,1,2026-03-02T08:00:00Z,ENTERQUEUE,Q_GENERAL,,+447700900001,CUST01,\n"
        + f'h02,c01,1,2026-03-02T08:00:10Z,CONNECT,Q_GENERAL,A0001,,,"{huge},with,commas"\n'
        + f"h03,c01,1,2026-03-02T08:01:00Z,COMPLETE,Q_GENERAL,A0001,,,{huge}\n"
        + "h04,c01,1,2026-03-02T08:02:30Z,ACWEND,Q_GENERAL,A0001,,,\n",
        encoding="utf-8",
    )
    r = load_file(con, path)
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (4, 2, 2)
    got = [(line, field, rule) for _, line, field, rule, _ in quarantine(con)]
    assert got == [(3, "detail", "parse"), (4, "detail", "parse")]
    messages = [m for *_, m in quarantine(con)]
    assert f"detail is {len(huge) + len(',with,commas') + 2:,} bytes" in messages[0]  # the quoted field, quotes and all
    assert f"detail is {len(huge):,} bytes" in messages[1]
    assert loaded_lines(con) == [2, 5]
    assert_reconciles(con)


# ---------------------------------------------------------------- the landing folder itself

def hostile_landing(tmp_path):
    """A landing folder as a careless or hostile user leaves it: a symlink to a file outside,
    folders and a symlink to a folder named like extracts, copies with spaces and Chinese in
    their names, stray files, an unknown table, an impossible date."""
    import os

    landing = tmp_path / "landing"
    acd = landing / "acd_queue_events"
    acd.mkdir(parents=True)
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n" * 48, encoding="utf-8")
    os.symlink(secret, acd / "acd_queue_events_2026-03-01.csv")
    (acd / "acd_queue_events_2026-03-03.csv").mkdir()
    os.symlink(secret.parent, acd / "acd_queue_events_2026-03-05.csv")
    good = ACD_HEADER + "h01,c01,1,2026-03-02T08:00:00Z,ENTERQUEUE,Q_GENERAL,,+447700900001,CUST01,\n"
    (acd / "acd_queue_events_2026-03-02.csv").write_text(good, encoding="utf-8")
    (acd / "acd_queue_events_2026-03-02 副本 (1).csv").write_text(
        good.replace("h01", "h02"), encoding="utf-8")
    (acd / "acd_queue_events_2026-13-45.csv").write_text(good, encoding="utf-8")
    (acd / "ivr_sessions_2026-03-02.csv").write_text("x\n", encoding="utf-8")
    (acd / "notes.txt").write_text("call Bob\n", encoding="utf-8")
    (landing / "acd_queue_events_2026-03-02.csv").write_text(good, encoding="utf-8")
    (landing / "unknown_table").mkdir()
    os.symlink(secret.parent, landing / "ivr_sessions")
    return landing, secret


EXPECTED_SKIPS = {
    "acd_queue_events_2026-03-02.csv": "not in a table folder",
    "ivr_sessions": "a symbolic link",
    "unknown_table": "is not a raw table of the contract",
    "acd_queue_events/acd_queue_events_2026-03-01.csv": "a symbolic link",
    "acd_queue_events/acd_queue_events_2026-03-03.csv": "a folder, not an extract file",
    "acd_queue_events/acd_queue_events_2026-03-05.csv": "a symbolic link",
    "acd_queue_events/acd_queue_events_2026-13-45.csv": "is not a date",
    "acd_queue_events/ivr_sessions_2026-03-02.csv": "named for table 'ivr_sessions' but in the 'acd_queue_events' folder",
    "acd_queue_events/notes.txt": "not named acd_queue_events_<YYYY-MM-DD>.csv",
}


def test_only_regular_files_inside_the_landing_folder_are_read_and_the_rest_is_reported(con, tmp_path):
    from ccq.ingest import load_landing
    from ccq.ingest.landing import scan_landing

    landing, secret = hostile_landing(tmp_path)
    files, skipped = scan_landing(landing)
    assert [p.name for p in files] == ["acd_queue_events_2026-03-02 副本 (1).csv", "acd_queue_events_2026-03-02.csv"]
    reasons = {s.path.relative_to(landing).as_posix(): s.reason for s in skipped}
    assert set(reasons) == set(EXPECTED_SKIPS)
    for name, why in EXPECTED_SKIPS.items():
        assert why in reasons[name], (name, reasons[name])

    loads = load_landing(con, landing)
    assert [(r.file_id, r.rows_loaded) for r in loads] == [
        ("acd_queue_events/acd_queue_events_2026-03-02 副本 (1).csv", 1), ("acd_queue_events/acd_queue_events_2026-03-02.csv", 1)]
    assert all(r.file_date.isoformat() == "2026-03-02" for r in loads)
    # Nothing of the file outside the folder reached the warehouse: no hash, no line, no quarantine.
    assert con.execute("SELECT count(*) FROM audit.quarantine").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM audit.load_files WHERE source_file LIKE '%outside%' OR sha256 = ?",
                       [__import__("hashlib").sha256(secret.read_bytes()).hexdigest()]).fetchone()[0] == 0
    with pytest.raises(Exception, match="not a regular file"):
        load_file(con, landing / "acd_queue_events" / "acd_queue_events_2026-03-01.csv")
    assert_reconciles(con)


def test_status_and_changed_days_go_on_past_what_cannot_be_read(tmp_path):
    """`ccq status` lists what is not loaded and why instead of failing (IsADirectoryError on main)."""
    import subprocess
    import sys
    from pathlib import Path

    home = tmp_path / "home"
    landing, _ = hostile_landing(home)
    run = subprocess.run([str(Path(sys.executable).parent / "ccq"), "--home", str(home), "status"],
                         capture_output=True, text=True, env={k: v for k, v in __import__("os").environ.items()
                                                               if k not in ("CCQ_HOME", "DAGSTER_HOME")})
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    out = run.stdout
    assert "Not loaded (in the landing folder, but never read), and why:" in out
    for name in EXPECTED_SKIPS:
        assert str(landing / name) in out, name
    # The two readable files of 2026-03-02 wait to be loaded.
    assert "2026-03-02: 2 file(s)" in out
