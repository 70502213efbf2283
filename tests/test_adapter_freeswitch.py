"""FreeSWITCH JSON CDRs (mod_json_cdr, mod_callcenter variables) on the hand-written fixture in
tests/fixtures/freeswitch (see its README for the calls). The output also runs once through the
whole pipeline, and the KPIs are checked against the hand computation below.

Wednesday 2026-01-14, site LON, Europe/London in winter (local = UTC). Thresholds
(seeds/queue_parameters.csv): Q_GENERAL and Q_BILLING T = 20 s, short abandon < 5 s. Wait =
cc_queue_answered_epoch - cc_queue_joined_epoch; the CONNECT..COMPLETE span is talk + hold (hold
from the agent leg's hold_events); the CDR has no wrap-up, so ACW = 0 and handle = talk + hold.
  Q_GENERAL  c01  wait 12 answered, talk 180                          within T
             c02  1002 rang, no answer; wait 35 answered by 1003, span 240 = talk 210 + hold 30
             c03  abandoned after 40 s (1001 was ringing: ORIGINATOR_CANCEL, not a RINGNOANSWER)
             c04  abandoned after 3 s (short)
             c05  max-wait-time after 60 s (EXITTIMEOUT: offered, neither answered nor abandoned)
             c12  quarantined (cc_queue_joined_epoch is a date): not counted
      offered 5, answered 2, abandoned 2 (1 short), handled 2
      SL = 1 / (2 + 2 - 1) = 1/3; abandonment = (2 - 1) / (5 - 1) = 1/4; ASA = (12 + 35) / 2 = 47/2
      talk 390, hold 30, ACW 0, handle 420: AHT = 420/2, talk time 390/2, hold time 30/2, ACW 0/2
      hold rate 1/2 (c02); transfer rate 0/2
  Q_BILLING  c06  wait 18 answered, talk 240                          within T
             c07  wait 25 answered, talk 150 (then a survey: the agent ended the talk)
             c08  pressed 1 after 30 s (EXIT_WITH_KEY: EXITTIMEOUT, offered only)
      offered 3, answered 2, abandoned 0; SL = 1/2; abandonment 0/3; ASA = 43/2
      talk 390, hold 0, handle 390: AHT = 390/2; hold rate 0/2
  Centre ('*') = site LON: offered 8, answered 4, abandoned 2, short 1, handled 4
      SL = (1 + 1) / (4 + 2 - 1) = 2/5; abandonment = 1/7; ASA = (47 + 43) / 4 = 90/4
      talk 780, hold 30, ACW 0, handle 810: AHT = 810/4; hold rate 1/4; transfer rate 0/4
  PBX legs: inbound = the 8 callers' legs + c11 (refused busy) = 9, blocked 1 (c11): 1/9;
      outbound = the gateway leg of c10, answered: 1/1. Agent legs and extension calls are internal.
Quarantined: c12 (type), c13 (cut off: parse), and in resend-2026-01-14.ndjson c06 (the same
line again) and c07 (the same uuid with other text): duplicates, counted once.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import unquote

import duckdb
import pytest

from ccq.ingest import load_landing
from ccq.ingest.adapters import run_adapter
from tests.conftest import run_pipeline, source_id

# One worker for the whole module, so the pipeline runs once.
pytestmark = pytest.mark.xdist_group("freeswitch")

FMT = "freeswitch-cdr"
ZONE = "Europe/London"
FIXTURES = Path(__file__).parent / "fixtures" / "freeswitch"
JSON_CDR = FIXTURES / "json_cdr"
RESEND = FIXTURES / "resend-2026-01-14.ndjson"
DAY = "2026-01-14"
NOW = "2026-01-15T12:00:00"  # the day after + 12 h
SUFFIX = ".freeswitch-cdr.Europe-London.csv"


def uid(kind: str, n: int, k: int = 0) -> str:
    """The fixture's readable uuids: c<NN> caller's leg, a<NN><k> agent leg, b<NN> other leg."""
    return f"{kind}{n:02d}{k:01d}0000-0000-4000-8000-0000000000{n:02d}"


def cdr_file(kind: str, n: int, k: int = 0) -> Path:
    return JSON_CDR / f"{uid(kind, n, k)}.cdr.json"


def _adapt(tmp: Path, sources: list[Path], landing: Path | None = None, zone: str = ZONE):
    landing = landing or tmp / "landing"
    con = duckdb.connect(str(tmp / "warehouse.duckdb"))
    result = run_adapter(con, FMT, sources, landing, zone)
    loads = load_landing(con, landing)
    return con, result, landing, loads


@pytest.fixture(scope="module")
def fs(tmp_path_factory):
    con, result, landing, loads = _adapt(tmp_path_factory.mktemp("freeswitch"), [FIXTURES])
    yield con, result, landing, loads
    con.close()


# ---------------------------------------------------------------- caller's legs -> acd_queue_events

E, R, C, H, U, CO, A, AB, X = ("ENTERQUEUE", "RINGNOANSWER", "CONNECT", "HOLD", "UNHOLD", "COMPLETE", "ACWEND", "ABANDON",
                               "EXITTIMEOUT")
G, B = "Q_GENERAL", "Q_BILLING"
A1, A2, A3 = "1001@default", "1002@default", "1003@default"

# contact -> [(time, queue_leg, event_type, queue, agent, detail)], in time order
EXPECTED_EVENTS = {
    uid("c", 1): [("09:00:00", 1, E, G, None, None), ("09:00:12", 1, C, G, A1, None),
                  ("09:03:12", 1, CO, G, A1, "caller"), ("09:03:12", 1, A, G, A1, None)],
    # 1002 did not answer; 1003 held the caller 09:07:00.25-09:07:30.75 (whole seconds); the agent hung up
    uid("c", 2): [("09:05:00", 1, E, G, None, None), ("09:05:20", 1, R, G, A2, None), ("09:05:35", 1, C, G, A3, None),
                  ("09:07:00", 1, H, G, A3, None), ("09:07:30", 1, U, G, A3, None),
                  ("09:09:35", 1, CO, G, A3, "agent"), ("09:09:35", 1, A, G, A3, None)],
    uid("c", 3): [("09:10:00", 1, E, G, None, None), ("09:10:40", 1, AB, G, None, None)],
    uid("c", 4): [("09:12:00", 1, E, G, None, None), ("09:12:03", 1, AB, G, None, None)],
    uid("c", 5): [("09:20:00", 1, E, G, None, None), ("09:21:00", 1, X, G, None, "timeout")],
    uid("c", 6): [("09:30:00", 1, E, B, None, None), ("09:30:18", 1, C, B, A2, None),
                  ("09:34:18", 1, CO, B, A2, "caller"), ("09:34:18", 1, A, B, A2, None)],
    # the caller stayed on for a survey after the bridge: the agent ended the talk
    uid("c", 7): [("09:40:00", 1, E, B, None, None), ("09:40:25", 1, C, B, A1, None),
                  ("09:42:55", 1, CO, B, A1, "agent"), ("09:42:55", 1, A, B, A1, None)],
    uid("c", 8): [("09:55:00", 1, E, B, None, None), ("09:55:30", 1, X, B, None, "key:1")],
}
RANK = ("CASE event_type WHEN 'ENTERQUEUE' THEN 0 WHEN 'RINGNOANSWER' THEN 1 WHEN 'CONNECT' THEN 2 WHEN 'ABANDON' THEN 2 "
        "WHEN 'EXITTIMEOUT' THEN 2 WHEN 'HOLD' THEN 3 WHEN 'UNHOLD' THEN 4 WHEN 'COMPLETE' THEN 5 ELSE 6 END")


def test_queue_events_per_contact(fs):
    con = fs[0]
    rows = con.execute(
        f"""SELECT contact_id, strftime(event_at, '%H:%M:%S'), queue_leg, event_type, queue_id, agent_id, detail
            FROM raw.acd_queue_events ORDER BY contact_id, event_at, queue_leg, {RANK}"""
    ).fetchall()
    got: dict[str, list] = {}
    for contact, *rest in rows:
        got.setdefault(contact, []).append(tuple(rest))
    assert got == EXPECTED_EVENTS
    assert con.execute("SELECT DISTINCT strftime(event_at, '%Y-%m-%d') FROM raw.acd_queue_events").fetchall() == [(DAY,)]


def test_event_ids_name_the_leg(fs):
    con, _, landing, _ = fs
    ids = [r[0] for r in con.execute("SELECT event_id FROM raw.acd_queue_events").fetchall()]
    assert len(ids) == len(set(ids)) == 27
    assert con.execute(
        f"SELECT event_id FROM raw.acd_queue_events WHERE contact_id = '{uid('c', 2)}' AND event_type IN ('RINGNOANSWER', 'HOLD') ORDER BY 1"
    ).fetchall() == [(f"{uid('a', 2, 1)}:RINGNOANSWER",), (f"{uid('c', 2)}:HOLD:1",)]
    assert sorted(p.name for p in (landing / "acd_queue_events").iterdir()) == [f"acd_queue_events_{DAY}{SUFFIX}"]


def test_caller_number_on_enterqueue_only(fs):
    con = fs[0]
    rows = con.execute(
        "SELECT contact_id, event_type, caller_number FROM raw.acd_queue_events WHERE caller_number IS NOT NULL ORDER BY 1"
    ).fetchall()
    assert len(rows) == 8 and {r[1] for r in rows} == {"ENTERQUEUE"}
    assert all(number == f"+4477009001{contact[1:3]}" for contact, _, number in rows)
    assert con.execute("SELECT count(*) FROM raw.acd_queue_events WHERE customer_id IS NOT NULL").fetchone()[0] == 0


# ---------------------------------------------------------------- every leg -> pbx_call_legs

IN, OUT, INT = "inbound", "outbound", "internal"
DID_G, DID_B = "+442079460100", "+442079460200"
# leg -> (call, direction, caller, dialled, trunk, started, answered, ended, disposition)
EXPECTED_LEGS = {
    uid("c", 1): (uid("c", 1), IN, "+447700900101", DID_G, "carrier_a", "08:59:50", "08:59:52", "09:03:12", "ANSWERED"),
    uid("a", 1, 1): (uid("c", 1), INT, "+447700900101", "1001", None, "09:00:05", "09:00:12", "09:03:12", "ANSWERED"),
    uid("c", 2): (uid("c", 2), IN, "+447700900102", DID_G, "carrier_a", "09:04:50", "09:04:52", "09:09:35", "ANSWERED"),
    uid("a", 2, 1): (uid("c", 2), INT, "+447700900102", "1002", None, "09:05:01", None, "09:05:20", "NO ANSWER"),
    uid("a", 2, 2): (uid("c", 2), INT, "+447700900102", "1003", None, "09:05:28", "09:05:35", "09:09:35", "ANSWERED"),
    uid("c", 3): (uid("c", 3), IN, "+447700900103", DID_G, "carrier_a", "09:09:55", "09:09:57", "09:10:40", "ANSWERED"),
    uid("a", 3, 1): (uid("c", 3), INT, "+447700900103", "1001", None, "09:10:30", None, "09:10:40", "NO ANSWER"),
    uid("c", 4): (uid("c", 4), IN, "+447700900104", DID_G, "carrier_a", "09:11:58", "09:12:00", "09:12:03", "ANSWERED"),
    uid("c", 5): (uid("c", 5), IN, "+447700900105", DID_G, "carrier_a", "09:19:50", "09:19:52", "09:22:30", "ANSWERED"),
    uid("c", 6): (uid("c", 6), IN, "+447700900106", DID_B, "carrier_a", "09:29:50", "09:29:52", "09:34:18", "ANSWERED"),
    uid("a", 6, 1): (uid("c", 6), INT, "+447700900106", "1002", None, "09:30:10", "09:30:18", "09:34:18", "ANSWERED"),
    uid("c", 7): (uid("c", 7), IN, "+447700900107", DID_B, "carrier_a", "09:39:45", "09:39:47", "09:43:30", "ANSWERED"),
    uid("a", 7, 1): (uid("c", 7), INT, "+447700900107", "1001", None, "09:40:20", "09:40:25", "09:42:55", "ANSWERED"),
    uid("c", 8): (uid("c", 8), IN, "+447700900108", DID_B, "carrier_a", "09:54:50", "09:54:52", "09:56:10", "ANSWERED"),
    uid("c", 9): (uid("c", 9), INT, "1001", "1002", None, "10:00:00", "10:00:05", "10:02:00", "ANSWERED"),
    uid("b", 9): (uid("c", 9), INT, "1001", "1002", None, "10:00:01", "10:00:05", "10:02:00", "ANSWERED"),
    uid("c", 10): (uid("c", 10), INT, "1003", "07700900123", None, "10:05:00", "10:05:12", "10:08:00", "ANSWERED"),
    uid("b", 10): (uid("c", 10), OUT, DID_G, "+447700900123", "carrier_a", "10:05:01", "10:05:12", "10:08:00", "ANSWERED"),
    uid("c", 11): (uid("c", 11), IN, "+447700900111", "+442079460300", "carrier_a", "10:10:00", None, "10:10:02", "BUSY"),
}


def test_pbx_call_legs(fs):
    con, _, landing, _ = fs
    rows = con.execute(
        """SELECT leg_id, call_id, direction, caller_number, dialled_number, trunk_id, strftime(started_at, '%H:%M:%S'),
                  strftime(answered_at, '%H:%M:%S'), strftime(ended_at, '%H:%M:%S'), disposition, site_id, agent_id
           FROM raw.pbx_call_legs"""
    ).fetchall()
    assert {r[0]: r[1:10] for r in rows} == EXPECTED_LEGS
    assert {(r[10], r[11]) for r in rows} == {("LON", None)}
    assert sorted(p.name for p in (landing / "pbx_call_legs").iterdir()) == [f"pbx_call_legs_{DAY}{SUFFIX}"]


# ---------------------------------------------------------------- reconciliation and quarantine

def test_reconciles_and_quarantine_names_line_field_reason(fs):
    con, result, _, loads = fs
    bad = {cdr_file("c", 12).name: (1, 0, 1), cdr_file("c", 13).name: (1, 0, 1)}
    expected = sorted((p.name, *bad.get(p.name, (1, 1, 0))) for p in JSON_CDR.iterdir()) + [(RESEND.name, 3, 1, 2)]
    assert [(s.path.name, s.rows_read, s.rows_mapped, s.rows_quarantined) for s in result.sources] == expected
    assert len(expected) == 21 and all(s.reconciles for s in result.sources)
    assert sorted(con.execute(
        f"SELECT file_id, rows_read, rows_loaded, rows_quarantined FROM audit.load_files WHERE table_name = 'source:{FMT}'"
    ).fetchall()) == sorted((source_id(FMT, (JSON_CDR if n != RESEND.name else FIXTURES) / n), r, m, q) for n, r, m, q in expected)
    quarantine = con.execute(
        f"""SELECT source_file, line_no, field, rule, message FROM audit.quarantine
            WHERE table_name = 'source:{FMT}' ORDER BY source_file, line_no"""
    ).fetchall()
    assert [(Path(f).name, ln, field, rule) for f, ln, field, rule, _ in quarantine] == [
        (cdr_file("c", 12).name, 1, "variables.cc_queue_joined_epoch", "type"),  # a date, not epoch seconds
        (cdr_file("c", 13).name, 1, None, "parse"),                              # cut off mid-object
        (RESEND.name, 1, None, "duplicate"),                                     # c06, byte for byte
        (RESEND.name, 2, "variables.uuid", "duplicate"),                         # c07 again, not URL-encoded
    ]
    for f, ln, _, _, message in quarantine:
        assert message.startswith(f"{Path(f).name} line {ln}: ")
    messages = [m for *_, m in quarantine]
    assert "2026-01-14 10:15:00" in messages[0] and uid("c", 12) in messages[0]
    assert "not a JSON object" in messages[1]
    assert f"line 1 of {cdr_file('c', 6).name}" in messages[2]
    assert uid("c", 7) in messages[3] and f"line 1 of {cdr_file('c', 7).name}" in messages[3]
    # The contract files load without a quarantined row.
    assert all(l.reconciles and l.rows_quarantined == 0 for l in loads)
    assert result.written == {"acd_queue_events": 27, "pbx_call_legs": 19}
    assert sum(l.rows_loaded for l in loads) == 27 + 19


def _state(con: duckdb.DuckDBPyConnection, landing: Path) -> tuple:
    files = {p.relative_to(landing).as_posix(): p.read_bytes() for p in sorted(landing.rglob("*.csv"))}
    audit = con.execute(
        f"""SELECT file_id, rows_read, rows_loaded, rows_quarantined FROM audit.load_files
            WHERE table_name = 'source:{FMT}' ORDER BY 1"""
    ).fetchall()
    quarantine = con.execute(
        f"SELECT file_id, line_no, field, rule, message FROM audit.quarantine WHERE table_name = 'source:{FMT}' ORDER BY 1, 2"
    ).fetchall()
    stored = con.execute("SELECT count(*) FROM audit.source_lines").fetchone()[0]
    return files, audit, quarantine, stored


def test_same_files_again_change_nothing(tmp_path):
    con, first, landing, _ = _adapt(tmp_path, [FIXTURES])
    before = _state(con, landing)
    again = run_adapter(con, FMT, [FIXTURES], landing, ZONE)
    assert again.new == [] and len(again.known) == 21
    assert _state(con, landing) == before
    loads = load_landing(con, landing)
    assert con.execute("SELECT count(*) FROM raw.acd_queue_events").fetchone()[0] == 27
    assert con.execute("SELECT count(*) FROM raw.pbx_call_legs").fetchone()[0] == 19
    assert all(l.reconciles for l in loads)
    con.close()


def _clear(record: dict) -> dict:
    """The record as a switch with encode-values=false writes it."""
    return {**record, "variables": {k: unquote(v) for k, v in record["variables"].items()}}


def test_redelivery_in_a_later_file_counts_once(tmp_path):
    """A later file brings call 01 again: its caller's leg re-encoded (other text, same uuid) and
    its agent leg byte for byte. Nothing is counted twice; both lines name the line that counts."""
    member = json.loads(cdr_file("c", 1).read_text())
    later = tmp_path / "src" / "cdr-2026-01-14-late.ndjson"
    later.parent.mkdir()
    later.write_text(json.dumps(_clear(member)) + "\n" + cdr_file("a", 1, 1).read_text())

    landing = tmp_path / "landing"
    con, _, _, _ = _adapt(tmp_path, [JSON_CDR], landing)
    events, legs = (con.execute(f"SELECT * EXCLUDE (_file_id, _source_file, _line_no, _loaded_at) FROM raw.{t} ORDER BY ALL")
                    .fetchall() for t in ("acd_queue_events", "pbx_call_legs"))
    result = run_adapter(con, FMT, [later], landing, ZONE)
    load_landing(con, landing)
    assert [(s.path.name, s.rows_read, s.rows_mapped, s.rows_quarantined) for s in result.sources][-1] == (later.name, 2, 0, 2)
    assert con.execute(
        f"""SELECT line_no, field, rule FROM audit.quarantine WHERE table_name = 'source:{FMT}' AND source_file = ?
            ORDER BY line_no""", [str(later)]
    ).fetchall() == [(1, "variables.uuid", "duplicate"), (2, None, "duplicate")]
    assert con.execute("SELECT * EXCLUDE (_file_id, _source_file, _line_no, _loaded_at) FROM raw.acd_queue_events ORDER BY ALL"
                       ).fetchall() == events
    assert con.execute("SELECT * EXCLUDE (_file_id, _source_file, _line_no, _loaded_at) FROM raw.pbx_call_legs ORDER BY ALL"
                       ).fetchall() == legs
    assert len(events) == 4 + 7 + 2 + 2 + 2 + 4 + 4 and len(legs) == 18
    con.close()


def test_file_order_does_not_matter(fs, tmp_path):
    """The resend file first, the folder in a later run: its clear-text copy of c07 now counts and
    the folder's copy is the duplicate, but the landing files are the same bytes."""
    _, _, landing, _ = fs
    con = duckdb.connect()
    run_adapter(con, FMT, [RESEND], tmp_path, ZONE)
    run_adapter(con, FMT, [JSON_CDR], tmp_path, ZONE)
    for table in ("acd_queue_events", "pbx_call_legs"):
        name = f"{table}/{table}_{DAY}{SUFFIX}"
        assert (tmp_path / name).read_bytes() == (landing / name).read_bytes()
    assert con.execute("SELECT parse_filename(source_file), line_no, rule FROM audit.quarantine ORDER BY 1, 2").fetchall() == [
        (cdr_file("c", 6).name, 1, "duplicate"), (cdr_file("c", 7).name, 1, "duplicate"),
        (cdr_file("c", 12).name, 1, "type"), (cdr_file("c", 13).name, 1, "parse")]


def test_local_stamps_and_unconfigured_queue(tmp_path):
    """Without epochs the *_stamp variables are read in --time-zone (Asia/Shanghai, UTC+8); a
    queue the seeds do not know (`support@default`, URL-encoded by the switch) is kept as written."""
    plain = json.loads(cdr_file("c", 11).read_text())
    for t in ("start", "answer", "end"):
        plain["variables"].pop(f"{t}_epoch"), plain["variables"].pop(f"{t}_uepoch")
    member = json.loads(cdr_file("c", 4).read_text())
    member["variables"]["cc_queue"] = "support%40default"
    src = tmp_path / "src" / "shanghai.ndjson"
    src.parent.mkdir()
    src.write_text(json.dumps(plain) + "\n" + json.dumps(member) + "\n")
    con, result, landing, _ = _adapt(tmp_path, [src], zone="Asia/Shanghai")
    assert (result.sources[0].rows_mapped, result.sources[0].rows_quarantined) == (2, 0)
    assert con.execute(
        f"""SELECT strftime(started_at, '%Y-%m-%d %H:%M:%S'), answered_at, strftime(ended_at, '%H:%M:%S')
            FROM raw.pbx_call_legs WHERE leg_id = '{uid('c', 11)}'"""
    ).fetchall() == [("2026-01-14 02:10:00", None, "02:10:02")]
    # the caller's leg keeps its epochs: the same instants whatever the zone
    assert con.execute(
        "SELECT DISTINCT queue_id, strftime(event_at, '%H:%M:%S'), event_type FROM raw.acd_queue_events ORDER BY 2"
    ).fetchall() == [("support@default", "09:12:00", "ENTERQUEUE"), ("support@default", "09:12:03", "ABANDON")]
    assert sorted(p.name for p in (landing / "pbx_call_legs").iterdir()) == [
        "pbx_call_legs_2026-01-14.freeswitch-cdr.Asia-Shanghai.csv"]
    con.close()


def test_bad_records_are_quarantined_with_the_variable(tmp_path):
    base = json.loads(cdr_file("c", 6).read_text())

    def variant(n: int, **changes) -> str:
        record = json.loads(json.dumps(base))
        for k, v in changes.items():
            if v is None:
                record["variables"].pop(k)
            else:
                record["variables"][k] = v
        record["variables"]["uuid"] = f"bad-{n}"
        return json.dumps(record)

    lines = [
        variant(1, end_uepoch=None, end_epoch=None, end_stamp=None),                     # no end at all
        variant(2, start_uepoch=None, start_epoch=None, start_stamp="14/01/2026 09:29"),  # unreadable stamp
        variant(3, answer_uepoch="99999999999999999"),                                    # after the year 3000
        variant(4, end_uepoch="1768380000000000"),                                        # ends before it starts
        variant(5, cc_cause="transferred"),                                               # not a mod_callcenter cause
        variant(6, cc_queue_answered_epoch="1768384000"),                                 # answered after the bridge ended
        variant(7, cc_agent=None),                                                        # answered without an agent
        "[1, 2]",                                                                         # JSON, not an object
    ]
    src = tmp_path / "bad.jsonl"
    src.write_text("\n".join(lines) + "\n")
    con, result, _, _ = _adapt(tmp_path, [src])
    assert (result.sources[0].rows_read, result.sources[0].rows_mapped) == (8, 0)
    assert con.execute("SELECT line_no, field, rule FROM audit.quarantine ORDER BY 1").fetchall() == [
        (1, "variables.end_epoch", "required"),
        (2, "variables.start_stamp", "type"),
        (3, "variables.answer_uepoch", "range"),
        (4, "variables.end_epoch", "range"),
        (5, "variables.cc_cause", "allowed_values"),
        (6, "variables.cc_queue_terminated_epoch", "range"),
        (7, "variables.cc_agent", "required"),
        (8, None, "parse"),
    ]
    con.close()


# ---------------------------------------------------------------- KPIs through the pipeline

EXPECTED_KPIS = {
    ("offered", G): (5, None, 5),
    ("answered", G): (2, None, 2),
    ("abandoned", G): (2, None, 2),
    ("short_abandoned", G): (1, None, 1),
    ("service_level", G): (1, 3, 1 / 3),
    ("abandonment_rate", G): (1, 4, 0.25),
    ("asa", G): (47, 2, 23.5),
    ("aht", G): (420, 2, 210),
    ("talk_time", G): (390, 2, 195),
    ("hold_time", G): (30, 2, 15),
    ("acw_time", G): (0, 2, 0.0),
    ("hold_rate", G): (1, 2, 0.5),
    ("transfer_rate", G): (0, 2, 0.0),
    ("offered", B): (3, None, 3),
    ("answered", B): (2, None, 2),
    ("abandoned", B): (0, None, 0),
    ("short_abandoned", B): (0, None, 0),
    ("service_level", B): (1, 2, 0.5),
    ("abandonment_rate", B): (0, 3, 0.0),
    ("asa", B): (43, 2, 21.5),
    ("aht", B): (390, 2, 195),
    ("talk_time", B): (390, 2, 195),
    ("hold_time", B): (0, 2, 0.0),
    ("acw_time", B): (0, 2, 0.0),
    ("hold_rate", B): (0, 2, 0.0),
    ("transfer_rate", B): (0, 2, 0.0),
    ("offered", "*"): (8, None, 8),
    ("answered", "*"): (4, None, 4),
    ("abandoned", "*"): (2, None, 2),
    ("short_abandoned", "*"): (1, None, 1),
    ("service_level", "*"): (2, 5, 0.4),
    ("abandonment_rate", "*"): (1, 7, 1 / 7),
    ("asa", "*"): (90, 4, 22.5),
    ("aht", "*"): (810, 4, 202.5),
    ("talk_time", "*"): (780, 4, 195),
    ("hold_time", "*"): (30, 4, 7.5),
    ("acw_time", "*"): (0, 4, 0.0),
    ("hold_rate", "*"): (1, 4, 0.25),
    ("transfer_rate", "*"): (0, 4, 0.0),
    ("blocked_rate", "*"): (1, 9, 1 / 9),
    ("outbound_connection_rate", "*"): (1, 1, 1.0),
    ("offered", "LON"): (8, None, 8),
    ("service_level", "LON"): (2, 5, 0.4),
    ("blocked_rate", "LON"): (1, 9, 1 / 9),
    ("outbound_connection_rate", "LON"): (1, 1, 1.0),
}


@pytest.fixture(scope="module")
def kpis(fs, tmp_path_factory):
    _, _, landing, _ = fs
    keep = {k: os.environ.get(k) for k in ("CCQ_HOME", "CCQ_NOW", "CCQ_DUCKDB_PATH")}
    home = tmp_path_factory.mktemp("freeswitch_pipeline_home")
    try:
        _, info = run_pipeline(home, landing, NOW)
    finally:
        for k, v in keep.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    con = duckdb.connect(info["snapshot"], read_only=True)
    rows = con.execute(
        """SELECT kpi, grain, strftime(period_start, '%Y-%m-%d %H:%M:%S'), scope_id, numerator, denominator, value
           FROM marts.kpi_values"""
    ).fetchall()
    con.close()
    shutil.rmtree(home, ignore_errors=True)
    return {(r[0], r[1], r[2], r[3]): r[4:] for r in rows}


@pytest.mark.parametrize("key", sorted(EXPECTED_KPIS), ids=lambda k: "-".join(k))
def test_kpi_matches_hand_computation(kpis, key):
    kpi, scope = key
    got = kpis.get((kpi, "day", f"{DAY} 00:00:00", scope))
    assert got is not None, f"missing KPI row {key}"
    numerator, denominator, value = EXPECTED_KPIS[key]
    assert got[0] == numerator
    assert (got[1] is None) if denominator is None else got[1] == denominator
    assert got[2] == pytest.approx(value, abs=1e-12)


def test_kpi_interval_booked_by_queue_entry(kpis):
    # Q_GENERAL 09:00-09:15: c01, c02, c03, c04 entered; c01 answered in 12 s, c02 in 35 s; c04 is short.
    assert kpis[("offered", "interval", f"{DAY} 09:00:00", G)][0] == 4
    assert kpis[("service_level", "interval", f"{DAY} 09:00:00", G)][:2] == (1, 3)
    # Q_GENERAL 09:15-09:30: c05 entered at 09:20 and left at max-wait-time: offered, neither answered nor abandoned.
    assert kpis[("offered", "interval", f"{DAY} 09:15:00", G)][0] == 1
    assert kpis[("answered", "interval", f"{DAY} 09:15:00", G)][0] == kpis[("abandoned", "interval", f"{DAY} 09:15:00", G)][0] == 0
