"""The raw loader: every line is either loaded or quarantined with file, line, field and
reason; loads reconcile; the same file twice changes nothing; a corrected re-delivery
replaces the earlier one."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ccq.ingest import ensure_warehouse, load_file

HEADER = "event_id,contact_id,queue_leg,event_at,event_type,queue_id,agent_id,caller_number,customer_id,detail\n"
GOOD = "e1,c1,1,2026-03-01T08:00:00Z,ENTERQUEUE,Q_GENERAL,,+441,C1,\n"


@pytest.fixture
def con():
    c = duckdb.connect()
    ensure_warehouse(c)
    yield c
    c.close()


def write(tmp_path: Path, text: str | bytes, name: str = "acd_queue_events_2026-03-01.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return p


def quarantine(con):
    return con.execute("SELECT line_no, field, rule, message FROM audit.quarantine ORDER BY line_no, field").fetchall()


def test_good_file_loads_with_line_numbers_and_utc(con, tmp_path):
    p = write(tmp_path, HEADER + GOOD + "e2,c1,1,2026-03-01 09:00:10+01:00,CONNECT,Q_GENERAL,A1,,,\n")
    r = load_file(con, p)
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (2, 2, 0)
    rows = con.execute("SELECT event_id, CAST(event_at AS VARCHAR), _line_no, queue_leg FROM raw.acd_queue_events ORDER BY 1").fetchall()
    assert rows == [("e1", "2026-03-01 08:00:00", 2, 1), ("e2", "2026-03-01 08:00:10", 3, 1)]


@pytest.mark.parametrize(
    "line, field, rule, words",
    [
        ("e3,c1,x,2026-03-01T08:00:00Z,CONNECT,Q_GENERAL,A1,,,", "queue_leg", "type", "cannot read 'x' as INTEGER"),
        ("e3,c1,1,2026-03-01T08:00:00Z,BOGUS,Q_GENERAL,A1,,,", "event_type", "allowed_values", "unknown code 'BOGUS'"),
        ("e3,,1,2026-03-01T08:00:00Z,CONNECT,Q_GENERAL,A1,,,", "contact_id", "required", "contact_id is required"),
        ("e3,c1,0,2026-03-01T08:00:00Z,CONNECT,Q_GENERAL,A1,,,", "queue_leg", "range", "below the minimum 1"),
        ("e3,c1,1,2026-03-01T08:00:00Z,CONNECT,Q_GENERAL", "agent_id", "parse", "missing columns"),
        ("e3,c1,1,2026-03-01T08:00:00Z,CONNECT,Q_GENERAL,A1,,,,extra", None, "parse", "too many columns"),
    ],
)
def test_bad_line_is_quarantined_with_file_line_and_field(con, tmp_path, line, field, rule, words):
    p = write(tmp_path, HEADER + GOOD + line + "\n" + GOOD.replace("e1", "e4"))
    r = load_file(con, p)
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (3, 2, 1)
    [(line_no, got_field, got_rule, message)] = quarantine(con)
    assert (line_no, got_field, got_rule) == (3, field, rule)
    assert message.startswith("acd_queue_events_2026-03-01.csv line 3: ")
    assert words in message
    # lines after the bad one keep their own numbers
    assert con.execute("SELECT _line_no FROM raw.acd_queue_events WHERE event_id = 'e4'").fetchone() == (4,)


def test_truncated_last_line_is_quarantined_not_lost(con, tmp_path):
    p = write(tmp_path, HEADER + GOOD + 'e5,"c1,1,2026-03-01T08:00:00Z,CONNECT')
    r = load_file(con, p)
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (2, 1, 1)
    assert quarantine(con)[0][:3] == (3, None, "parse")


def test_invalid_bytes_are_quarantined(con, tmp_path):
    p = write(tmp_path, HEADER.encode() + GOOD.encode() + b"e6,c\xff\xfe,1,2026-03-01T08:00:00Z,CONNECT,Q_GENERAL,A1,,,\n")
    r = load_file(con, p)
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (2, 1, 1)
    assert quarantine(con)[0][2] == "parse"


def test_empty_and_header_only_files_reconcile(con, tmp_path):
    assert load_file(con, write(tmp_path, "")).rows_read == 0
    r = load_file(con, write(tmp_path, HEADER, "acd_queue_events_2026-03-02.csv"))
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined, r.reconciles) == (0, 0, 0, True)


def test_wrong_header_quarantines_every_line_with_the_reason(con, tmp_path):
    p = write(tmp_path, HEADER.replace("queue_leg", "leg") + GOOD + GOOD)
    r = load_file(con, p)
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (2, 0, 2)
    assert {q[1:3] for q in quarantine(con)} == {("queue_leg", "header")}
    assert "missing: queue_leg; unexpected: leg" in quarantine(con)[0][3]


def test_same_file_twice_changes_nothing_and_redelivery_replaces(con, tmp_path):
    p = write(tmp_path, HEADER + GOOD + "e2,c1,1,2026-03-01T08:00:10Z,BOGUS,Q_GENERAL,A1,,,\n")
    first = load_file(con, p)
    again = load_file(con, p)
    assert again.skipped and (again.rows_loaded, again.rows_quarantined) == (first.rows_loaded, first.rows_quarantined)
    assert con.execute("SELECT count(*) FROM raw.acd_queue_events").fetchone() == (1,)
    assert con.execute("SELECT count(*) FROM audit.quarantine").fetchone() == (1,)
    # corrected re-delivery under the same name: replaces rows and quarantine alike
    write(tmp_path, HEADER + GOOD + "e2,c1,1,2026-03-01T08:00:10Z,CONNECT,Q_GENERAL,A1,,,\n")
    fixed = load_file(con, p)
    assert (fixed.skipped, fixed.rows_loaded, fixed.rows_quarantined) == (False, 2, 0)
    assert con.execute("SELECT count(*) FROM raw.acd_queue_events").fetchone() == (2,)
    assert con.execute("SELECT count(*) FROM audit.quarantine").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM audit.load_files").fetchone() == (1,)


def test_gb18030_names_load_intact(con, tmp_path):
    text = (
        "agent_id,agent_name,team_id,supervisor_id,site_id,hire_date,leave_date,employment_type,weekly_hours,snapshot_date\n"
        "A1,王芳,T01,S1,LON,2025-01-01,,FT,37.5,2026-03-01\n"
    )
    p = write(tmp_path, text.encode("gb18030"), "hr_roster_2026-03-01.csv")
    r = load_file(con, p, encoding="gb18030")
    assert (r.rows_loaded, r.rows_quarantined) == (1, 0)
    assert con.execute("SELECT agent_name FROM raw.hr_roster").fetchone() == ("王芳",)


def _state(con) -> tuple[list, list, list]:
    raw = con.execute("SELECT * EXCLUDE (_loaded_at) FROM raw.acd_queue_events ORDER BY _file_id, _line_no").fetchall()
    quarantined = con.execute("SELECT file_id, line_no, field, rule, message, raw_text FROM audit.quarantine "
                              "ORDER BY file_id, line_no, field").fetchall()
    files = con.execute("SELECT file_id, rows_read, rows_loaded, rows_quarantined FROM audit.load_files ORDER BY 1").fetchall()
    return raw, quarantined, files


def test_a_batch_gives_each_file_what_it_gets_alone(con, tmp_path):
    """load_files reads many files of a table with one set of statements: every file keeps its
    own line numbers, quarantine and reconciliation, the same as loaded one by one."""
    from ccq.ingest import load_files

    texts = {
        "acd_queue_events_2026-03-01.csv": HEADER + GOOD + "e2,c1,x,2026-03-01T08:00:05Z,CONNECT,Q_GENERAL,A1,,,\n",
        # A quote left open (set aside in Python), a short line (rejected by DuckDB's reader), a blank line.
        "acd_queue_events_2026-03-02.csv": HEADER + 'e3,c3,1,2026-03-02T08:00:00Z,ENTERQUEUE,Q_GENERAL,,"+44,C3,\n'
                                           + "e4,c4,1,2026-03-02T08:00:00Z,ENTERQUEUE\n\n"
                                           + GOOD.replace("e1,c1", "e5,c5").replace("03-01", "03-02"),
        "acd_queue_events_2026-03-03.csv": HEADER,  # header only
        "acd_queue_events_2026-03-04.csv": "event_id,contact_id\n" + "e6,c6\n",  # the wrong header
        "acd_queue_events_2026-03-05.csv": HEADER + GOOD.replace("e1,c1", "e7,c7").replace("03-01", "03-05") * 2,
    }
    (tmp_path / "together").mkdir()
    (tmp_path / "alone").mkdir()
    paths = [write(tmp_path / "together", t, name) for name, t in texts.items()]
    together = load_files(con, paths)
    alone_con = duckdb.connect()
    ensure_warehouse(alone_con)
    alone = [load_file(alone_con, write(tmp_path / "alone", t, name)) for name, t in texts.items()]

    def counts(results):
        return [(r.file_id, r.rows_read, r.rows_loaded, r.rows_quarantined) for r in results]

    assert counts(together) == counts(alone) == [
        ("acd_queue_events/acd_queue_events_2026-03-01.csv", 2, 1, 1),
        ("acd_queue_events/acd_queue_events_2026-03-02.csv", 3, 1, 2),
        ("acd_queue_events/acd_queue_events_2026-03-03.csv", 0, 0, 0),
        ("acd_queue_events/acd_queue_events_2026-03-04.csv", 1, 0, 1),
        ("acd_queue_events/acd_queue_events_2026-03-05.csv", 2, 2, 0),
    ]
    raw, quarantined, files = _state(con)
    raw_alone, quarantined_alone, files_alone = _state(alone_con)
    strip = lambda rows: [tuple(v.replace("/alone/", "/together/") if isinstance(v, str) else v for v in r) for r in rows]
    assert raw == strip(raw_alone) and quarantined == strip(quarantined_alone) and files == files_alone
    assert [(r[0].split("/")[1], r[1], r[3]) for r in quarantined] == [
        ("acd_queue_events_2026-03-01.csv", 3, "type"),
        ("acd_queue_events_2026-03-02.csv", 2, "parse"),
        ("acd_queue_events_2026-03-02.csv", 3, "parse"),
        ("acd_queue_events_2026-03-04.csv", 2, "header"),
    ]
    assert [(r[-2], r[-1]) for r in raw] == [  # source file, line
        (str(paths[0]), 2), (str(paths[1]), 5), (str(paths[4]), 2), (str(paths[4]), 3)]
    # Again: the same bytes change nothing.
    assert all(r.skipped for r in load_files(con, paths)) and _state(con) == (raw, quarantined, files)


def test_a_file_that_fails_in_a_batch_keeps_the_others(con, tmp_path, monkeypatch):
    from ccq.ingest import LoadError, load_files
    from ccq.ingest import loader

    paths = [write(tmp_path, HEADER + GOOD.replace("e1,c1", f"e{d},c{d}"), f"acd_queue_events_2026-03-0{d}.csv") for d in (1, 2, 3)]
    real = loader._parse_and_insert

    def fails_for_the_second(con, tbl, files):
        if any(p.path == paths[1] for p in files):
            raise duckdb.IOException(f"cannot read {paths[1]}")
        return real(con, tbl, files)

    monkeypatch.setattr(loader, "_parse_and_insert", fails_for_the_second)
    first, second, third = load_files(con, paths)
    assert (first.rows_loaded, third.rows_loaded) == (1, 1)
    assert isinstance(second, LoadError) and str(paths[1]) in str(second)
    assert con.execute("SELECT _file_id FROM raw.acd_queue_events ORDER BY 1").fetchall() == [
        ("acd_queue_events/acd_queue_events_2026-03-01.csv",), ("acd_queue_events/acd_queue_events_2026-03-03.csv",)]
    assert [r[0] for r in _state(con)[2]] == [
        "acd_queue_events/acd_queue_events_2026-03-01.csv", "acd_queue_events/acd_queue_events_2026-03-03.csv"]


def test_a_name_that_reads_as_a_pattern_is_still_one_file(con, tmp_path):
    """DuckDB's reader takes [, ?, * and { in a path as a pattern: a copy named "..._v[1].csv"
    must load its own rows, not those of "..._v1.csv" beside it."""
    from ccq.ingest import load_files

    plain = write(tmp_path, HEADER + GOOD, "acd_queue_events_2026-03-01_v1.csv")
    bracketed = write(tmp_path, HEADER + GOOD.replace("e1,c1", "e2,c2") + GOOD.replace("e1,c1", "e3,c3"),
                      "acd_queue_events_2026-03-01_v[1].csv")
    results = load_files(con, [plain, bracketed])
    assert [(r.file_id.split("/")[1], r.rows_loaded) for r in results] == [
        ("acd_queue_events_2026-03-01_v1.csv", 1), ("acd_queue_events_2026-03-01_v[1].csv", 2)]
    assert con.execute("SELECT event_id, _source_file, _line_no FROM raw.acd_queue_events ORDER BY 1").fetchall() == [
        ("e1", str(plain), 2), ("e2", str(bracketed), 2), ("e3", str(bracketed), 3)]
