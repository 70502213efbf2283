"""The Anonymous Bank adapter (Technion SEE call records, 1999): hand-written lines map to
exact raw rows, every quirk stays visible, and the real February 1999 month reconciles with
daily counts computed here from a plain csv reading of the file."""
from __future__ import annotations

import csv
import hashlib
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ccq.ingest import load_landing
from ccq.ingest.adapters import run_adapter
from tests.conftest import source_id

FEBRUARY = Path(__file__).resolve().parent.parent / "data" / "anonymous_bank" / "february_1999.txt"
TZ = "Asia/Jerusalem"  # UTC+2 all February 1999 (summer time began in April)
HEADER = ("vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\t"
          "q_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver")


def agent(name: str) -> str:
    return "AB-" + hashlib.md5(name.encode()).hexdigest()[:8]


def tsv(*fields: str) -> str:
    return "\t".join(fields)


LINES = [
    HEADER,  # line 1
    # 2: queued, served by an agent; service starts 1 s before the queue exit (clock skew)
    tsv("AA0101", "10001", "12345678", "1", "PS", "990201", "10:00:00", "10:00:10", "10",
        "10:00:10", "10:00:40", "30", "AGENT", "10:00:39", "10:03:00", "141", "DORIT"),
    # 3: abandoned the queue; customer 0 = unidentified
    tsv("AA0102", "10002", "0", "0", "NW", "990201", "11:00:00", "11:00:09", "9",
        "11:00:09", "11:01:09", "60", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"),
    # 4: hung up in the VRU, never queued
    tsv("AA0103", "10003", "0", "0", "PS", "990201", "12:00:00", "12:00:20", "20",
        "0:00:00", "0:00:00", "0", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"),
    # 5: PHANTOM
    tsv("AA0104", "10004", "0", "0", "NW", "990201", "13:00:00", "13:00:05", "5",
        "13:00:05", "13:00:10", "5", "PHANTOM", "13:00:09", "13:00:20", "11", "NO_SERVER"),
    "",  # 6: blank, not a row
    # 7: straight to an unnamed agent, no queue record, service 1 s before the VRU exit
    tsv("AA0105", "10005", "0", "0", "PS", "990201", "14:00:00", "14:00:10", "10",
        "0:00:00", "0:00:00", "0", "AGENT", "14:00:09", "14:00:14", "5", "NO_SERVER"),
    # 8: priority 2, service past midnight
    tsv("AA0106", "10006", "23456789", "2", "NE", "990201", "23:55:00", "23:55:06", "6",
        "23:55:06", "23:56:00", "54", "AGENT", "23:56:00", "0:04:00", "480", "AVNI"),
    # 9: queue that starts at exactly midnight (q_start 0:00:00 is then a real time)
    tsv("AA0107", "10007", "0", "1", "PS", "990201", "23:59:54", "23:59:54", "0",
        "0:00:00", "0:00:27", "27", "AGENT", "0:00:26", "0:01:33", "67", "AVNI"),
    # 10: served by a named agent but without service times
    tsv("AA0108", "10008", "0", "0", "PS", "990202", "9:16:02", "9:16:15", "13",
        "0:00:00", "0:00:00", "0", "AGENT", "0:00:00", "0:00:00", "0", "YIFAT"),
    # 11: abandoned the queue, yet with service times
    tsv("AA0109", "10009", "0", "0", "NW", "990202", "10:51:21", "10:51:30", "9",
        "10:51:30", "10:52:14", "44", "HANG", "10:52:15", "10:52:23", "8", "NO_SERVER"),
    # 12: unreadable time
    tsv("AA0110", "10010", "0", "0", "PS", "990202", "25:00:00", "10:00:10", "10",
        "0:00:00", "0:00:00", "0", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"),
    # 13: truncated line
    tsv("AA0111", "10011", "0", "0", "PS", "990202", "10:00:00"),
    # 14: unknown service type
    tsv("AA0112", "10012", "0", "0", "XX", "990202", "10:00:00", "10:00:10", "10",
        "0:00:00", "0:00:00", "0", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"),
    # 15: line 3 delivered again
    tsv("AA0102", "10002", "0", "0", "NW", "990201", "11:00:00", "11:00:09", "9",
        "11:00:09", "11:01:09", "60", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"),
    # 16: VRU exit recorded before the VRU entry (negative vru_time; the exit agrees with the queue)
    tsv("AA0113", "10013", "25627027", "2", "PS", "990202", "9:48:14", "9:47:17", "-57",
        "9:47:17", "9:50:11", "174", "AGENT", "9:50:11", "9:51:28", "77", "DORIT"),
]


def adapt(con, sources, landing):
    return run_adapter(con, "anonymous-bank", sources, landing, site_time_zone=TZ, encoding="utf-8")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ab_small")
    src = tmp / "calls.txt"
    src.write_bytes(("\r\n".join(LINES) + "\r\n").encode("ascii"))
    con = duckdb.connect()
    result = adapt(con, [src], tmp / "landing")
    loads = load_landing(con, tmp / "landing")
    yield con, result, loads
    con.close()


def rows(con, sql):
    return con.execute(sql).fetchall()


def test_every_line_is_mapped_or_quarantined(small):
    con, result, loads = small
    [src] = result.sources
    assert (src.rows_read, src.rows_mapped, src.rows_quarantined) == (14, 9, 5)
    assert rows(con, "SELECT rows_read, rows_loaded, rows_quarantined FROM audit.load_files "
                     "WHERE table_name = 'source:anonymous-bank'") == [(14, 9, 5)]
    assert rows(con, "SELECT line_no, field, rule FROM audit.quarantine ORDER BY line_no") == [
        (5, "outcome", "phantom"),
        (12, "vru_entry", "type"),
        (13, None, "parse"),
        (14, "type", "allowed_values"),
        (15, "call_id", "duplicate"),
    ]
    [(message, raw)] = rows(con, "SELECT message, raw_text FROM audit.quarantine WHERE rule = 'phantom'")
    assert message.startswith("calls.txt line 5: PHANTOM call")
    assert raw == LINES[4]
    assert all(f.reconciles and f.rows_quarantined == 0 for f in loads)  # the landing files load cleanly
    assert "AGENT calls served by NO_SERVER, mapped to agent AB-NO_SERVER: 1" in src.notes
    # Local 1 February starts at 22:00 UTC on 31 January: no ACD event then (the centre is
    # closed at night), so that day's ACD extract is delivered empty rather than missing.
    empty = {f.file_id: f.rows_read for f in loads if "_1999-01-31." in f.file_id}
    assert empty == {"acd_queue_events/acd_queue_events_1999-01-31.anonymous-bank.Asia-Jerusalem.csv": 0,
                     "ivr_sessions/ivr_sessions_1999-01-31.anonymous-bank.Asia-Jerusalem.csv": 0}


def test_ivr_sessions(small):
    con, _, _ = small
    got = rows(con, """
        SELECT session_id, contact_id, caller_number, customer_id, strftime(entered_at, '%Y-%m-%d %H:%M:%S'),
               strftime(exited_at, '%Y-%m-%d %H:%M:%S'), menu_path, outcome
        FROM raw.ivr_sessions ORDER BY session_id""")
    assert got == [
        ("AA0101-10001-990201", "AA0101-10001-990201", None, "12345678", "1999-02-01 08:00:00", "1999-02-01 08:00:10", "PS", "TO_AGENT"),
        ("AA0102-10002-990201", "AA0102-10002-990201", None, None, "1999-02-01 09:00:00", "1999-02-01 09:00:09", "NW", "TO_AGENT"),
        ("AA0103-10003-990201", "AA0103-10003-990201", None, None, "1999-02-01 10:00:00", "1999-02-01 10:00:20", "PS", "HANGUP"),
        ("AA0105-10005-990201", "AA0105-10005-990201", None, None, "1999-02-01 12:00:00", "1999-02-01 12:00:10", "PS", "TO_AGENT"),
        ("AA0106-10006-990201", "AA0106-10006-990201", None, "23456789", "1999-02-01 21:55:00", "1999-02-01 21:55:06", "NE", "TO_AGENT"),
        ("AA0107-10007-990201", "AA0107-10007-990201", None, None, "1999-02-01 21:59:54", "1999-02-01 21:59:54", "PS", "TO_AGENT"),
        ("AA0108-10008-990202", "AA0108-10008-990202", None, None, "1999-02-02 07:16:02", "1999-02-02 07:16:15", "PS", "TO_AGENT"),
        ("AA0109-10009-990202", "AA0109-10009-990202", None, None, "1999-02-02 08:51:21", "1999-02-02 08:51:30", "NW", "TO_AGENT"),
        ("AA0113-10013-990202", "AA0113-10013-990202", None, "25627027", "1999-02-02 07:47:17", "1999-02-02 07:47:17", "PS", "TO_AGENT"),
    ]


def test_acd_queue_events(small):
    con, _, _ = small
    got = rows(con, """
        SELECT contact_id, event_type, strftime(event_at, '%Y-%m-%d %H:%M:%S'), queue_id, agent_id, customer_id, detail
        FROM raw.acd_queue_events
        ORDER BY contact_id, event_at, list_position(['ENTERQUEUE', 'CONNECT', 'ABANDON', 'COMPLETE', 'ACWEND'], event_type)""")
    dorit, avni, yifat = agent("DORIT"), agent("AVNI"), agent("YIFAT")
    assert got == [
        ("AA0101-10001-990201", "ENTERQUEUE", "1999-02-01 08:00:10", "AB_PS", None, "12345678", "priority=1"),
        ("AA0101-10001-990201", "CONNECT", "1999-02-01 08:00:39", "AB_PS", dorit, None, None),
        ("AA0101-10001-990201", "COMPLETE", "1999-02-01 08:03:00", "AB_PS", dorit, None, None),
        ("AA0101-10001-990201", "ACWEND", "1999-02-01 08:03:00", "AB_PS", dorit, None, None),
        ("AA0102-10002-990201", "ENTERQUEUE", "1999-02-01 09:00:09", "AB_NW", None, None, "priority=0"),
        ("AA0102-10002-990201", "ABANDON", "1999-02-01 09:01:09", "AB_NW", None, None, None),
        ("AA0105-10005-990201", "ENTERQUEUE", "1999-02-01 12:00:09", "AB_PS", None, None, "priority=0;no_queue;entry_moved_back=1s"),
        ("AA0105-10005-990201", "CONNECT", "1999-02-01 12:00:09", "AB_PS", "AB-NO_SERVER", None, None),
        ("AA0105-10005-990201", "COMPLETE", "1999-02-01 12:00:14", "AB_PS", "AB-NO_SERVER", None, None),
        ("AA0105-10005-990201", "ACWEND", "1999-02-01 12:00:14", "AB_PS", "AB-NO_SERVER", None, None),
        ("AA0106-10006-990201", "ENTERQUEUE", "1999-02-01 21:55:06", "AB_NE", None, "23456789", "priority=2"),
        ("AA0106-10006-990201", "CONNECT", "1999-02-01 21:56:00", "AB_NE", avni, None, None),
        ("AA0106-10006-990201", "COMPLETE", "1999-02-01 22:04:00", "AB_NE", avni, None, None),
        ("AA0106-10006-990201", "ACWEND", "1999-02-01 22:04:00", "AB_NE", avni, None, None),
        ("AA0107-10007-990201", "ENTERQUEUE", "1999-02-01 22:00:00", "AB_PS", None, None, "priority=1"),
        ("AA0107-10007-990201", "CONNECT", "1999-02-01 22:00:26", "AB_PS", avni, None, None),
        ("AA0107-10007-990201", "COMPLETE", "1999-02-01 22:01:33", "AB_PS", avni, None, None),
        ("AA0107-10007-990201", "ACWEND", "1999-02-01 22:01:33", "AB_PS", avni, None, None),
        ("AA0108-10008-990202", "ENTERQUEUE", "1999-02-02 07:16:15", "AB_PS", None, None, "priority=0;no_queue"),
        ("AA0108-10008-990202", "CONNECT", "1999-02-02 07:16:15", "AB_PS", yifat, None, "no_service_times"),
        ("AA0109-10009-990202", "ENTERQUEUE", "1999-02-02 08:51:30", "AB_NW", None, None, "priority=0"),
        ("AA0109-10009-990202", "ABANDON", "1999-02-02 08:52:14", "AB_NW", None, None, "service_times_ignored"),
        ("AA0113-10013-990202", "ENTERQUEUE", "1999-02-02 07:47:17", "AB_PS", None, "25627027", "priority=2;vru_entry_after_exit=57s"),
        ("AA0113-10013-990202", "CONNECT", "1999-02-02 07:50:11", "AB_PS", dorit, None, None),
        ("AA0113-10013-990202", "COMPLETE", "1999-02-02 07:51:28", "AB_PS", dorit, None, None),
        ("AA0113-10013-990202", "ACWEND", "1999-02-02 07:51:28", "AB_PS", dorit, None, None),
    ]
    assert rows(con, "SELECT count(DISTINCT event_id) = count(*), min(queue_leg), max(queue_leg) FROM raw.acd_queue_events") == [(True, 1, 1)]


def test_hr_roster_snapshots(small):
    con, _, _ = small
    got = rows(con, """
        SELECT CAST(snapshot_date AS VARCHAR), agent_id, agent_name, team_id, site_id, CAST(hire_date AS VARCHAR)
        FROM raw.hr_roster ORDER BY snapshot_date, agent_name""")
    feb1 = [(agent("AVNI"), "AVNI", "1999-02-01"), (agent("DORIT"), "DORIT", "1999-02-01"),
            ("AB-NO_SERVER", "NO_SERVER", "1999-02-01")]
    feb2 = feb1 + [(agent("YIFAT"), "YIFAT", "1999-02-02")]
    assert got == ([("1999-02-01", a, n, "AB-T1", "AB", h) for a, n, h in feb1]
                   + [("1999-02-02", a, n, "AB-T1", "AB", h) for a, n, h in feb2])


def test_bytes_invalid_in_the_encoding_and_repeats_across_files_are_quarantined(tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("\n".join(LINES[:3]) + "\n", encoding="ascii")
    bad = LINES[3].replace("NO_SERVER", "NO_SERV\xe9R").encode("latin-1")
    second.write_bytes(("\n".join([HEADER, LINES[2]]) + "\n").encode("ascii") + bad + b"\n")
    con = duckdb.connect()
    result = adapt(con, [first, second], tmp_path / "landing")
    assert [(s.path.name, s.rows_read, s.rows_mapped, s.rows_quarantined) for s in result.sources] == [
        ("a.txt", 2, 2, 0), ("b.txt", 2, 0, 2)]
    assert rows(con, "SELECT file_id, line_no, field, rule, message FROM audit.quarantine ORDER BY line_no") == [
        (source_id("anonymous-bank", second), 2, "call_id", "duplicate", "b.txt line 2: same vru+line, call_id and date as line 3 of a.txt"),
        (source_id("anonymous-bank", second), 3, None, "encoding", "b.txt line 3: bytes that are not valid in the file's encoding"),
    ]


def test_rerun_gives_the_same_landing_bytes_and_keeps_other_rows(tmp_path):
    src = tmp_path / "calls.txt"
    src.write_text("\n".join(LINES[:4]) + "\n", encoding="ascii")
    landing = tmp_path / "landing"
    day = landing / "ivr_sessions" / "ivr_sessions_1999-02-01.csv"
    day.parent.mkdir(parents=True)
    # A row already landed for the same UTC day (the previous month's file, another source).
    day.write_text("session_id,contact_id,caller_number,customer_id,entered_at,exited_at,menu_path,outcome\n"
                   "OTHER-1,OTHER-1,,,1999-02-01T01:00:00Z,1999-02-01T01:00:05Z,PS,HANGUP\n", encoding="utf-8")
    con = duckdb.connect()
    other = day.read_bytes()
    adapt(con, [src], landing)
    first = {p: p.read_bytes() for p in landing.rglob("*.csv")}
    adapt(con, [src], landing)
    assert {p: p.read_bytes() for p in landing.rglob("*.csv")} == first
    # The adapter writes files of its own beside the other source's, which stays as it was.
    assert day.read_bytes() == other
    own = day.with_name("ivr_sessions_1999-02-01.anonymous-bank.Asia-Jerusalem.csv").read_text()
    assert own.count("\n") == 1 + 3 and "OTHER-1" not in own


# ---- the real month -------------------------------------------------------------------


def independent_counts(path: Path):
    """Daily counts from the file itself with the csv module: calls entering the VRU (by the
    record's date), and queue legs offered / with a queue record / answered / abandoned (by
    the local date of queue entry)."""
    def clock(day: datetime, text: str, entry: datetime) -> datetime:
        h, m, s = map(int, text.split(":"))
        t = day + timedelta(hours=h, minutes=m, seconds=s)
        return t + timedelta(days=1) if t < entry - timedelta(hours=12) else t

    ivr, offered, queued, answered, abandoned = Counter(), Counter(), Counter(), Counter(), Counter()
    phantom = no_server = 0
    with path.open(newline="", encoding="ascii") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            if r["outcome"] == "PHANTOM":
                phantom += 1
                continue
            day = datetime.strptime(r["date"], "%y%m%d")
            ivr[day.date()] += 1
            entry = day + timedelta(seconds=sum(int(x) * m for x, m in zip(r["vru_entry"].split(":"), (3600, 60, 1))))
            has_queue = r["q_start"] != "0:00:00" or r["q_exit"] != "0:00:00"
            if r["outcome"] == "HANG" and not has_queue:
                continue
            at = clock(day, r["q_start"], entry) if has_queue else clock(day, r["vru_exit"], entry)
            if r["outcome"] == "AGENT" and (r["ser_start"], r["ser_exit"]) != ("0:00:00", "0:00:00"):
                at = min(at, clock(day, r["ser_start"], entry))
            offered[at.date()] += 1
            queued[at.date()] += has_queue
            if r["outcome"] == "AGENT":
                answered[at.date()] += 1
                no_server += r["server"] == "NO_SERVER"
            else:
                abandoned[at.date()] += 1
    return ivr, offered, queued, answered, abandoned, phantom, no_server


def test_february_1999(tmp_path):
    """One test, so that the month is mapped and loaded once (xdist_group does not keep
    tests on one worker in this environment)."""
    con = duckdb.connect()
    # As documented, without --time-zone: the bank's own site (AB, Asia/Jerusalem) gives the zone.
    result = run_adapter(con, "anonymous-bank", [FEBRUARY], tmp_path / "landing")
    assert {f.name.split(".", 1)[1] for f in result.files} == {"anonymous-bank.Asia-Jerusalem.csv"}
    loads = load_landing(con, tmp_path / "landing", tables_wanted=["ivr_sessions", "acd_queue_events"])

    # Reconciliation: every row is mapped or quarantined; PHANTOM rows are the quarantine.
    [src] = result.sources
    assert (src.rows_read, src.rows_mapped, src.rows_quarantined) == (33_344, 33_344 - 278, 278)
    assert rows(con, "SELECT rows_read, rows_loaded + rows_quarantined FROM audit.load_files "
                     "WHERE table_name = 'source:anonymous-bank'") == [(33_344, 33_344)]
    assert rows(con, "SELECT rule, count(DISTINCT line_no), count(*) FILTER (WHERE raw_text LIKE '%PHANTOM%') "
                     "FROM audit.quarantine GROUP BY rule") == [("phantom", 278, 278)]
    assert all(f.reconciles and f.rows_quarantined == 0 for f in loads)
    assert rows(con, "SELECT count(*) FROM raw.ivr_sessions") == [(33_066,)]

    # Daily counts equal those read from the file with the csv module.
    ivr, offered, queued, answered, abandoned, phantom, no_server = independent_counts(FEBRUARY)
    assert phantom == 278 and no_server == 491

    def local(col):
        return f"CAST(timezone('{TZ}', timezone('UTC', {col})) AS DATE)"

    assert dict(rows(con, f"SELECT {local('entered_at')}, count(*) FROM raw.ivr_sessions GROUP BY 1")) == dict(ivr)
    legs = f"""
        SELECT {local("min(event_at) FILTER (WHERE event_type = 'ENTERQUEUE')")} AS day,
               bool_or(event_type = 'ENTERQUEUE' AND detail NOT LIKE '%no_queue%') AS queued,
               bool_or(event_type = 'CONNECT') AS answered, bool_or(event_type = 'ABANDON') AS abandoned
        FROM raw.acd_queue_events GROUP BY contact_id"""
    daily = rows(con, f"SELECT day, count(*), count(*) FILTER (WHERE queued), count(*) FILTER (WHERE answered), "
                      f"count(*) FILTER (WHERE abandoned) FROM ({legs}) GROUP BY day")
    assert {d: o for d, o, *_ in daily} == dict(offered)
    # Read as UTC, 52 calls of the evening of 28 February fell into March (31,073).
    assert sum(o for d, o, *_ in daily if d.month == 2) == sum(dict(offered).values()) == 31_125
    assert {d: q for d, _, q, _, _ in daily if q} == {d: n for d, n in queued.items() if n}
    assert {d: a for d, _, _, a, _ in daily if a} == {d: n for d, n in answered.items() if n}
    assert {d: b for d, _, _, _, b in daily if b} == {d: n for d, n in abandoned.items() if n}
    assert rows(con, "SELECT count(*) FROM raw.acd_queue_events WHERE event_type = 'CONNECT' AND agent_id = 'AB-NO_SERVER'") == [(491,)]

    # Queue legs in order, known queues; what the raw IVR suite checks (no session ends before
    # it starts, every session sent to an agent reaches the ACD).
    assert rows(con, """
        WITH legs AS (
            SELECT contact_id,
                   min(event_at) FILTER (WHERE event_type = 'ENTERQUEUE') AS entered,
                   min(event_at) FILTER (WHERE event_type IN ('CONNECT', 'ABANDON')) AS left_queue,
                   min(event_at) FILTER (WHERE event_type = 'CONNECT') AS connected,
                   min(event_at) FILTER (WHERE event_type = 'COMPLETE') AS completed,
                   any_value(queue_id) AS queue_id
            FROM raw.acd_queue_events GROUP BY contact_id)
        SELECT count(*) FILTER (WHERE left_queue < entered), count(*) FILTER (WHERE completed < connected),
               count(*) FILTER (WHERE queue_id NOT IN ('AB_PS', 'AB_PE', 'AB_IN', 'AB_NE', 'AB_NW', 'AB_TT'))
        FROM legs""") == [(0, 0, 0)]
    assert rows(con, """
        SELECT count(*) FILTER (WHERE exited_at < entered_at),
               count(*) FILTER (WHERE outcome = 'TO_AGENT' AND contact_id NOT IN (SELECT contact_id FROM raw.acd_queue_events))
        FROM raw.ivr_sessions""") == [(0, 0)]
    assert rows(con, "SELECT count(*) FROM raw.acd_queue_events WHERE detail LIKE '%vru_entry_after_exit%'") == [(23,)]
    con.close()
