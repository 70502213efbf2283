"""FreeSWITCH CDRs on the hand-written fixture in tests/fixtures/freeswitch (see its README for the
calls): JSON CDRs (`freeswitch-json`: mod_json_cdr, mod_callcenter variables) and mod_cdr_csv
files (`freeswitch-csv`: the stock `example` template, and the `ccq` template with the
mod_callcenter variables). The landing files of both run once, together, through the whole
pipeline, and the KPIs are checked against the hand computation below.

JSON CDRs (json_cdr/, resend-2026-01-14.ndjson), Wednesday 2026-01-14, site LON, Europe/London in
winter (local = UTC). Thresholds (seeds/queue_parameters.csv): Q_GENERAL and Q_BILLING T = 20 s,
short abandon < 5 s. Wait = cc_queue_answered_epoch - cc_queue_joined_epoch; the CONNECT..COMPLETE span is talk + hold (hold
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

mod_cdr_csv (csv/), same day and site, read in Europe/London. csv/Master.csv, example template
(pbx legs only), 11:00-11:50:
  d21 inbound (context public) answered; d22 inbound, caller hung up ringing (ORIGINATOR_CANCEL:
  NO ANSWER, not blocked); d23 inbound NORMAL_CIRCUIT_CONGESTION (CONGESTION: blocked);
  d24 1003 -> 07700900124 (context default, external number: outbound) answered; d25 outbound
  USER_BUSY (BUSY); d26 outbound SWITCH_CONGESTION (CONGESTION: dialled, not connected; the
  blocked rate is inbound only); d27 outbound UNALLOCATED_NUMBER (FAILED); d28 1001 -> 1002
  internal; d29 stamps written 14/01/2026 (type); line 10 cut off mid-field (parse).
  -> inbound 3, blocked 1 (d23); outbound 4, connected 1 (d24).
csv/acd/Master.csv, ccq template (+ mod_callcenter variables), Q_GENERAL (T = 20 s, short < 5 s):
             d31  joined 12:00:05, answered 12:00:20 (wait 15, within T), bridge ends 12:03:20 (talk 180)
             d32  joined 12:05:05, answered 12:05:35 (wait 30), bridge ends 12:09:35 (talk 240); the
                  caller's channel lives on to 12:10:00, so COMPLETE detail `agent`
             e331 the agent leg mod_callcenter rang for d33 (cc_side agent): internal, no queue event
             d33  joined 12:10:05, BREAK_OUT 12:10:50 as the channel ends: abandon after 45 s
             d34  transferred out of public (context default, dialled 7001) from an external
                  number: inbound; joined 12:15:05, abandoned 12:15:08 (3 s: short)
             d36  an internal call without queue variables (24 fields, cc_* empty): pbx leg only
             line 7: a record of the `snom` template (20 fields): parse
      offered 4, answered 2, abandoned 2 (1 short), handled 2
      SL = 1 / (2 + 2 - 1) = 1/3; abandonment = (2 - 1) / (4 - 1) = 1/3; ASA = (15 + 30) / 2 = 45/2
      talk 420, hold 0 (no hold_events in a CSV), ACW 0, handle 420: AHT = 420/2, hold rate 0/2
  -> inbound 4 (d31-d34), blocked 0; outbound 0.

The pipeline sees both, so the day's KPIs are the sums of the parts:
  Q_GENERAL  offered 5 + 4 = 9, answered 4, abandoned 4 (2 short), handled 4
      SL = (1 + 1) / (3 + 3) = 2/6; abandonment = (1 + 1) / (4 + 3) = 2/7; ASA = (47 + 45) / 4 = 92/4
      talk 390 + 420 = 810, hold 30, handle 840: AHT = 840/4, talk 810/4, hold 30/4, ACW 0/4,
      hold rate 1/4, transfer rate 0/4
  Q_BILLING  unchanged (JSON only)
  Centre ('*') = site LON: offered 8 + 4 = 12, answered 6, abandoned 4 (2 short), handled 6
      SL = (2 + 1) / (5 + 3) = 3/8; abandonment = (1 + 1) / (7 + 3) = 2/10; ASA = (90 + 45) / 6 = 135/6
      talk 780 + 420 = 1200, hold 30, handle 1230: AHT = 1230/6, talk 1200/6, hold 30/6, ACW 0/6,
      hold rate 1/6, transfer rate 0/6
  PBX: blocked = (1 + 1 + 0) / (9 + 3 + 4) = 2/16; outbound connection = (1 + 1) / (1 + 4) = 2/5.
The CSV parts alone are also checked, on the warehouse's fct_queue_legs and fct_pbx_call_legs.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import unquote

import duckdb
import pytest

from ccq.ingest import load_landing
from ccq.ingest.adapters import run_adapter
from ccq.ingest.adapters.base import sql_list
from tests.conftest import assert_kpi, kpi_values_of, restored_env, run_pipeline, source_id

# One worker for the whole module, so the pipeline runs once.
pytestmark = pytest.mark.xdist_group("freeswitch")

FMT = "freeswitch-json"
ZONE = "Europe/London"
FIXTURES = Path(__file__).parent / "fixtures" / "freeswitch"
JSON_CDR = FIXTURES / "json_cdr"
RESEND = FIXTURES / "resend-2026-01-14.ndjson"
DAY = "2026-01-14"
NOW = "2026-01-15T12:00:00"  # the day after + 12 h
SUFFIX = ".freeswitch-json.Europe-London.csv"


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


def _state(con: duckdb.DuckDBPyConnection, landing: Path, fmt: str = FMT) -> tuple:
    files = {p.relative_to(landing).as_posix(): p.read_bytes() for p in sorted(landing.rglob("*.csv"))}
    audit = con.execute(
        f"""SELECT file_id, rows_read, rows_loaded, rows_quarantined FROM audit.load_files
            WHERE table_name = 'source:{fmt}' ORDER BY 1"""
    ).fetchall()
    quarantine = con.execute(
        f"SELECT file_id, line_no, field, rule, message FROM audit.quarantine WHERE table_name = 'source:{fmt}' ORDER BY 1, 2"
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
        "pbx_call_legs_2026-01-14.freeswitch-json.Asia-Shanghai.csv"]
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


# ---------------------------------------------------------------- mod_cdr_csv (freeswitch-csv)

CSV_FMT = "freeswitch-csv"
CSV_DIR = FIXTURES / "csv"
CSV_MASTER = CSV_DIR / "Master.csv"  # example template
CSV_ACD = CSV_DIR / "acd" / "Master.csv"  # ccq template
CSV_SUFFIX = ".freeswitch-csv.Europe-London.csv"
EXT = "+442079460100"


@pytest.fixture(scope="module")
def fs_csv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("freeswitch_csv")
    con = duckdb.connect(str(tmp / "warehouse.duckdb"))
    landing = tmp / "landing"
    result = run_adapter(con, CSV_FMT, [CSV_DIR], landing, ZONE)
    loads = load_landing(con, landing)
    yield con, result, landing, loads
    con.close()


# leg -> (call, direction, caller, dialled, started, answered, ended, disposition); trunk, agent: empty
CSV_LEGS = {
    uid("d", 21): (uid("d", 21), IN, "+447700900221", EXT, "11:00:00", "11:00:02", "11:04:02", "ANSWERED"),
    uid("d", 22): (uid("d", 22), IN, "+447700900222", EXT, "11:05:00", None, "11:05:25", "NO ANSWER"),
    uid("d", 23): (uid("d", 23), IN, "+447700900223", EXT, "11:10:00", None, "11:10:01", "CONGESTION"),
    uid("d", 24): (uid("d", 24), OUT, "1003", "07700900124", "11:15:00", "11:15:12", "11:18:12", "ANSWERED"),
    uid("d", 25): (uid("d", 25), OUT, "1003", "+447700900125", "11:20:00", None, "11:20:06", "BUSY"),
    uid("d", 26): (uid("d", 26), OUT, "1001", "07700900126", "11:25:00", None, "11:25:01", "CONGESTION"),
    uid("d", 27): (uid("d", 27), OUT, "1002", "07700900127", "11:30:00", None, "11:30:02", "FAILED"),
    uid("d", 28): (uid("d", 28), INT, "1001", "1002", "11:35:00", "11:35:04", "11:37:04", "ANSWERED"),
    uid("d", 31): (uid("d", 31), IN, "+447700900231", EXT, "12:00:00", "12:00:02", "12:03:20", "ANSWERED"),
    uid("d", 32): (uid("d", 32), IN, "+447700900232", EXT, "12:05:00", "12:05:02", "12:10:00", "ANSWERED"),
    uid("e", 33, 1): (uid("e", 33, 1), INT, "+447700900233", "1001", "12:10:30", None, "12:10:50", "NO ANSWER"),
    uid("d", 33): (uid("d", 33), IN, "+447700900233", EXT, "12:10:00", "12:10:02", "12:10:50", "ANSWERED"),
    uid("d", 34): (uid("d", 34), IN, "+447700900234", "7001", "12:15:00", "12:15:02", "12:15:08", "ANSWERED"),
    uid("d", 36): (uid("d", 36), INT, "1002", "1003", "12:20:00", None, "12:20:30", "NO ANSWER"),
}
A1G, A2G = "1001@default", "1002@default"
# contact -> [(time, queue_leg, event_type, queue, agent, caller_number, detail)]
CSV_EVENTS = {
    uid("d", 31): [("12:00:05", 1, E, G, None, "+447700900231", None), ("12:00:20", 1, C, G, A1G, None, None),
                   ("12:03:20", 1, CO, G, A1G, None, None), ("12:03:20", 1, A, G, A1G, None, None)],
    uid("d", 32): [("12:05:05", 1, E, G, None, "+447700900232", None), ("12:05:35", 1, C, G, A2G, None, None),
                   ("12:09:35", 1, CO, G, A2G, None, "agent"), ("12:09:35", 1, A, G, A2G, None, None)],
    uid("d", 33): [("12:10:05", 1, E, G, None, "+447700900233", None), ("12:10:50", 1, AB, G, None, None, None)],
    uid("d", 34): [("12:15:05", 1, E, G, None, "+447700900234", None), ("12:15:08", 1, AB, G, None, None, None)],
}


def _field(line: str, n: int, value: str) -> str:
    """A fixture record with its n-th field (1-based) replaced."""
    values = line[1:-1].split('","')
    values[n - 1] = value
    return '"' + '","'.join(values) + '"'


def _csv_legs(con) -> dict:
    rows = con.execute(
        """SELECT leg_id, call_id, direction, caller_number, dialled_number, strftime(started_at, '%H:%M:%S'),
                  strftime(answered_at, '%H:%M:%S'), strftime(ended_at, '%H:%M:%S'), disposition, trunk_id, site_id, agent_id,
                  strftime(started_at, '%Y-%m-%d')
           FROM raw.pbx_call_legs"""
    ).fetchall()
    assert {tuple(r[9:]) for r in rows} <= {(None, "LON", None, DAY)}
    return {r[0]: tuple(r[1:9]) for r in rows}


def _csv_events(con) -> dict:
    got: dict[str, list] = {}
    for contact, *rest in con.execute(
        f"""SELECT contact_id, strftime(event_at, '%H:%M:%S'), queue_leg, event_type, queue_id, agent_id, caller_number, detail
            FROM raw.acd_queue_events ORDER BY contact_id, event_at, {RANK}"""
    ).fetchall():
        got.setdefault(contact, []).append(tuple(rest))
    return got


def test_csv_pbx_call_legs(fs_csv):
    con, _, landing, _ = fs_csv
    assert _csv_legs(con) == CSV_LEGS
    assert sorted(p.name for p in (landing / "pbx_call_legs").iterdir()) == [f"pbx_call_legs_{DAY}{CSV_SUFFIX}"]


def test_csv_queue_events_from_the_ccq_template(fs_csv):
    con, _, landing, _ = fs_csv
    assert _csv_events(con) == CSV_EVENTS
    ids = [r[0] for r in con.execute("SELECT event_id FROM raw.acd_queue_events").fetchall()]
    assert len(ids) == len(set(ids)) == 12 and f"{uid('d', 33)}:ABANDON" in ids
    assert con.execute("SELECT count(*) FROM raw.acd_queue_events WHERE customer_id IS NOT NULL").fetchone()[0] == 0
    assert sorted(p.name for p in (landing / "acd_queue_events").iterdir()) == [f"acd_queue_events_{DAY}{CSV_SUFFIX}"]


def test_csv_reconciles_and_quarantine_names_line_field_reason(fs_csv):
    con, result, _, loads = fs_csv
    assert [(s.path, s.rows_read, s.rows_mapped, s.rows_quarantined) for s in result.sources] == [
        (CSV_MASTER, 10, 8, 2), (CSV_ACD, 7, 6, 1)]
    assert all(s.reconciles for s in result.sources)
    assert sorted(con.execute(
        f"SELECT file_id, rows_read, rows_loaded, rows_quarantined FROM audit.load_files WHERE table_name = 'source:{CSV_FMT}'"
    ).fetchall()) == sorted([(source_id(CSV_FMT, CSV_MASTER), 10, 8, 2), (source_id(CSV_FMT, CSV_ACD), 7, 6, 1)])
    quarantine = con.execute(
        f"""SELECT source_file, line_no, field, rule, message FROM audit.quarantine
            WHERE table_name = 'source:{CSV_FMT}' ORDER BY source_file, line_no"""
    ).fetchall()
    assert [(Path(f), ln, field, rule) for f, ln, field, rule, _ in quarantine] == [
        (CSV_MASTER, 9, "start_stamp", "type"),  # 14/01/2026 11:40:00
        (CSV_MASTER, 10, None, "parse"),         # cut off mid-field
        (CSV_ACD, 7, None, "parse"),             # 20 fields: the snom template
    ]
    messages = [m for *_, m in quarantine]
    assert messages[0] == (f"Master.csv line 9: leg {uid('d', 29)}: start_stamp '14/01/2026 11:40:00' is not "
                           "YYYY-MM-DD HH:MM:SS (Europe/London local time)")
    assert messages[1].startswith("Master.csv line 10: not a mod_cdr_csv record") and "cut off" in messages[1]
    assert messages[2] == ("Master.csv line 7: 20 fields: not a record of the example template (15 fields) or the ccq "
                           "template (24 fields); see docs/adapters/freeswitch.md")
    assert result.written == {"acd_queue_events": 12, "pbx_call_legs": 14}
    assert all(l.reconciles and l.rows_quarantined == 0 for l in loads)
    assert sum(l.rows_loaded for l in loads) == 12 + 14


def test_csv_same_files_again_change_nothing(fs_csv, tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    landing = tmp_path / "landing"
    run_adapter(con, CSV_FMT, [CSV_DIR], landing, ZONE)
    before = _state(con, landing, CSV_FMT)
    again = run_adapter(con, CSV_FMT, [CSV_MASTER, CSV_DIR], landing, ZONE)
    assert again.new == [] and len(again.known) == 3
    assert _state(con, landing, CSV_FMT) == before
    # the same bytes as the module's single ingest
    for table in ("acd_queue_events", "pbx_call_legs"):
        name = f"{table}/{table}_{DAY}{CSV_SUFFIX}"
        assert (landing / name).read_bytes() == (fs_csv[2] / name).read_bytes()
    con.close()


def test_csv_record_repeated_in_a_later_file_counts_once(tmp_path):
    """Master.csv grows and is ingested again (copied elsewhere): its old lines are duplicates word for
    word; a line with the same uuid but other text (re-exported) is a duplicate of the leg; the
    new record maps."""
    lines = CSV_MASTER.read_text().splitlines()
    later = tmp_path / "src" / "Master.csv.2026-01-14-23-59-59"
    later.parent.mkdir()
    retyped = lines[0].replace('"Alice Smith"', '"ALICE SMITH"')
    new = lines[7].replace(uid("d", 28), uid("d", 38)).replace("11:3", "13:3")
    later.write_text("\n".join([lines[1], retyped, new]) + "\n")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    landing = tmp_path / "landing"
    run_adapter(con, CSV_FMT, [CSV_MASTER], landing, ZONE)
    result = run_adapter(con, CSV_FMT, [later], landing, ZONE)
    load_landing(con, landing)
    assert [(s.path.name, s.rows_read, s.rows_mapped, s.rows_quarantined) for s in result.sources] == [
        ("Master.csv", 10, 8, 2), (later.name, 3, 1, 2)]
    rows = con.execute(
        "SELECT line_no, field, rule, message FROM audit.quarantine WHERE source_file = ? ORDER BY 1", [str(later)]).fetchall()
    assert [r[:3] for r in rows] == [(1, None, "duplicate"), (2, "uuid", "duplicate")]
    assert "line 2 of Master.csv" in rows[0][3] and f"leg {uid('d', 21)} again" in rows[1][3]
    legs = _csv_legs(con)
    assert len(legs) == 9 and legs[uid("d", 38)][4:] == ("13:35:00", "13:35:04", "13:37:04", "ANSWERED")
    assert legs[uid("d", 21)] == CSV_LEGS[uid("d", 21)]
    con.close()


def test_csv_bad_records_are_quarantined_with_the_field(tmp_path):
    example = CSV_MASTER.read_text().splitlines()[0]  # d21, answered
    member = CSV_ACD.read_text().splitlines()[0]      # d31, answered in Q_GENERAL

    field = _field

    def leg(line: str, n: int) -> str:
        return field(line, 11, f"bad-{n}")

    lines = [
        field(example, 11, ""),                                           # 1 no uuid
        field(leg(example, 2), 5, ""),                                    # 2 no start_stamp
        field(leg(example, 3), 7, "2026-01-14 10:59:00"),                 # 3 ends before it starts
        field(leg(example, 4), 6, "2026-01-14 11:00"),                    # 4 answer_stamp without seconds
        field(leg(example, 5), 6, "2026-01-14 11:05:00"),                 # 5 answered after the end
        field(leg(member, 6), 17, "2026-01-14 12:00:05"),                 # 6 joined epoch is a date
        field(leg(member, 7), 21, "transferred"),                         # 7 not a mod_callcenter cause
        field(leg(member, 8), 23, ""),                                    # 8 answered without an agent
        field(leg(example, 9), 1, "Caf\ufffd"),                           # 9 a byte not valid UTF-8
        leg(example, 10) + ',""',                                         # 10 16 fields
        leg(example, 11).replace('"Alice Smith"', '"Alice "Al" Smith"'),  # 11 a quote inside a value
        field(leg(example, 12), 10, "NEW_CAUSE"),                         # 12 unknown cause, answered: mapped
    ]
    src = tmp_path / "Master.csv"
    src.write_bytes("\n".join(lines).replace("\ufffd", "\x00").encode().replace(b"\x00", b"\xe9") + b"\n")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    result = run_adapter(con, CSV_FMT, [src], tmp_path / "landing", ZONE)
    assert (result.sources[0].rows_read, result.sources[0].rows_mapped, result.sources[0].rows_quarantined) == (12, 1, 11)
    assert con.execute("SELECT line_no, field, rule FROM audit.quarantine ORDER BY 1").fetchall() == [
        (1, "uuid", "required"),
        (2, "start_stamp", "required"),
        (3, "end_stamp", "range"),
        (4, "answer_stamp", "type"),
        (5, "answer_stamp", "range"),
        (6, "cc_queue_joined_epoch", "type"),
        (7, "cc_cause", "allowed_values"),
        (8, "cc_agent", "required"),
        (9, None, "encoding"),
        (10, None, "parse"),
        (11, None, "parse"),
    ]
    message = con.execute("SELECT message FROM audit.quarantine WHERE line_no = 10").fetchone()[0]
    assert "16 fields" in message and "example template (15 fields)" in message and "ccq template (24 fields)" in message
    con.close()


def test_csv_disposition_of_every_cause_and_the_clocks_going_back(tmp_path):
    """Unanswered legs by hangup_cause (any cause not listed is FAILED; an answered leg is ANSWERED
    whatever its cause), and stamps in the hour Europe/London repeats on 2026-10-25 (01:00-02:00
    local twice): the reading whose span matches duration/billsec wins."""
    example = CSV_MASTER.read_text().splitlines()[1]  # d22: inbound, unanswered
    causes = {"NORMAL_CLEARING": "NO ANSWER", "NO_ANSWER": "NO ANSWER", "NO_USER_RESPONSE": "NO ANSWER",
              "ORIGINATOR_CANCEL": "NO ANSWER", "USER_BUSY": "BUSY", "NORMAL_CIRCUIT_CONGESTION": "CONGESTION",
              "SWITCH_CONGESTION": "CONGESTION", "CALL_REJECTED": "FAILED", "RECOVERY_ON_TIMER_EXPIRE": "FAILED", "": "FAILED"}
    lines = [example.replace("ORIGINATOR_CANCEL", cause).replace(uid("d", 22), f"cause-{i}")
             for i, cause in enumerate(causes)]
    # 01:59:30 BST (00:59:30Z) -> 01:00:30 GMT (01:00:30Z): 60 s; answered at 01:59:50 BST
    lines.append('"","+447700900299","+442079460100","public","2026-10-25 01:59:30","2026-10-25 01:59:50",'
                 '"2026-10-25 01:00:30","60","40","NORMAL_CLEARING","dst-1","","","PCMA","PCMA"')
    src = tmp_path / "Master.csv"
    src.write_text("\n".join(lines) + "\n")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    landing = tmp_path / "landing"
    result = run_adapter(con, CSV_FMT, [src], landing, ZONE)
    assert result.sources[0].rows_mapped == len(lines)
    load_landing(con, landing)
    got = dict(con.execute("SELECT leg_id, disposition FROM raw.pbx_call_legs WHERE leg_id LIKE 'cause-%'").fetchall())
    assert got == {f"cause-{i}": d for i, d in enumerate(causes.values())}
    assert con.execute(
        """SELECT strftime(started_at, '%Y-%m-%dT%H:%M:%S'), strftime(answered_at, '%H:%M:%S'), strftime(ended_at, '%H:%M:%S')
           FROM raw.pbx_call_legs WHERE leg_id = 'dst-1'"""
    ).fetchall() == [("2026-10-25T00:59:30", "00:59:50", "01:00:30")]
    con.close()


def test_csv_direction_rules(tmp_path):
    """bleg_uuid (legs="ab"): the B-leg another record names is internal, in the A-leg's call; a
    caller's leg into a queue from an external number is inbound in any context."""
    a_leg = CSV_MASTER.read_text().splitlines()[3]  # d24: 1003 -> 07700900124, bleg e241
    b_leg = _field(_field(_field(a_leg, 11, uid("e", 24, 1)), 12, ""), 2, "+442079460100")
    member = CSV_ACD.read_text().splitlines()[0].replace('"public"', '"callcenter"')
    src = tmp_path / "Master.csv"
    src.write_text("\n".join([b_leg, a_leg, member]) + "\n")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    landing = tmp_path / "landing"
    run_adapter(con, CSV_FMT, [src], landing, ZONE)
    load_landing(con, landing)
    assert sorted(con.execute("SELECT leg_id, call_id, direction FROM raw.pbx_call_legs").fetchall()) == sorted([
        (uid("d", 24), uid("d", 24), OUT), (uid("e", 24, 1), uid("d", 24), INT), (uid("d", 31), uid("d", 31), IN)])
    con.close()


def test_csv_parts_of_the_kpis(pipeline):
    """The CSV legs' own parts in the warehouse, as in the docstring: Q_GENERAL offered 4, answered
    2, abandoned 2 (1 short), SL 1/3, wait 45 over 2 answered, handled 2 with talk 420, no hold,
    no ACW; pbx 14 legs, inbound 7 (blocked 1), outbound 4 (connected 1)."""
    parts = pipeline[1]
    assert parts["queue"] == (4, 2, 2, 1, 1, 3, 45, 2, 420, 0, 0, 0)
    assert parts["pbx"] == (14, 7, 1, 4, 1)


def test_csv_kpi_intervals(kpis):
    # Q_GENERAL 12:00-12:15: d31, d32, d33 entered; d31 answered in 15 s, d32 in 30 s, d33 abandoned after 45 s.
    assert kpis[("offered", "interval", f"{DAY} 12:00:00", G)][0] == 3
    assert kpis[("service_level", "interval", f"{DAY} 12:00:00", G)][:2] == (1, 3)
    # 12:15-12:30: d34 alone, a short abandon.
    assert [kpis[(k, "interval", f"{DAY} 12:15:00", G)][0] for k in ("offered", "abandoned", "short_abandoned")] == [1, 1, 1]


# ---------------------------------------------------------------- KPIs through the pipeline

# The day's values over both formats (the module docstring has the parts).
EXPECTED_KPIS = {
    ("offered", G): (9, None, 9),
    ("answered", G): (4, None, 4),
    ("abandoned", G): (4, None, 4),
    ("short_abandoned", G): (2, None, 2),
    ("service_level", G): (2, 6, 1 / 3),
    ("abandonment_rate", G): (2, 7, 2 / 7),
    ("asa", G): (92, 4, 23.0),
    ("aht", G): (840, 4, 210),
    ("talk_time", G): (810, 4, 202.5),
    ("hold_time", G): (30, 4, 7.5),
    ("acw_time", G): (0, 4, 0.0),
    ("hold_rate", G): (1, 4, 0.25),
    ("transfer_rate", G): (0, 4, 0.0),
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
    ("offered", "*"): (12, None, 12),
    ("answered", "*"): (6, None, 6),
    ("abandoned", "*"): (4, None, 4),
    ("short_abandoned", "*"): (2, None, 2),
    ("service_level", "*"): (3, 8, 0.375),
    ("abandonment_rate", "*"): (2, 10, 0.2),
    ("asa", "*"): (135, 6, 22.5),
    ("aht", "*"): (1230, 6, 205),
    ("talk_time", "*"): (1200, 6, 200),
    ("hold_time", "*"): (30, 6, 5.0),
    ("acw_time", "*"): (0, 6, 0.0),
    ("hold_rate", "*"): (1, 6, 1 / 6),
    ("transfer_rate", "*"): (0, 6, 0.0),
    ("blocked_rate", "*"): (2, 16, 0.125),
    ("outbound_connection_rate", "*"): (2, 5, 0.4),
    ("offered", "LON"): (12, None, 12),
    ("service_level", "LON"): (3, 8, 0.375),
    ("blocked_rate", "LON"): (2, 16, 0.125),
    ("outbound_connection_rate", "LON"): (2, 5, 0.4),
}


@pytest.fixture(scope="module")
def pipeline(fs, fs_csv, tmp_path_factory):
    """One pipeline run over the landing files of both formats: the KPI values of the snapshot,
    and the CSV legs' parts of them from the warehouse (fct_queue_legs, fct_pbx_call_legs)."""
    landing = tmp_path_factory.mktemp("freeswitch_landing")
    for part in (fs[2], fs_csv[2]):
        shutil.copytree(part, landing, dirs_exist_ok=True)
    home = tmp_path_factory.mktemp("freeswitch_pipeline_home")
    with restored_env():
        paths, info = run_pipeline(home, landing, NOW)
    values = kpi_values_of(info["snapshot"])
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    members = sql_list(sorted(CSV_EVENTS))
    legs = sql_list(sorted(CSV_LEGS))
    csv_parts = {
        "queue": con.execute(
            f"""SELECT count(*), sum(is_answered), sum(is_abandoned), sum(is_short_abandoned), sum(sl_met), sum(sl_offered),
                       sum(wait_seconds) FILTER (WHERE is_answered = 1), sum(is_handled), sum(talk_seconds), sum(hold_seconds),
                       sum(acw_seconds), sum(holds)
                FROM marts.fct_queue_legs WHERE list_contains({members}, contact_id)""").fetchone(),
        "pbx": con.execute(
            f"""SELECT count(*), sum(is_inbound_attempt), sum(is_inbound_blocked), sum(is_outbound_dialled), sum(is_outbound_connected)
                FROM marts.fct_pbx_call_legs WHERE list_contains({legs}, leg_id)""").fetchone(),
    }
    con.close()
    shutil.rmtree(home, ignore_errors=True)
    return values, csv_parts


@pytest.fixture(scope="module")
def kpis(pipeline):
    return pipeline[0]


@pytest.mark.parametrize("key", sorted(EXPECTED_KPIS), ids=lambda k: "-".join(k))
def test_kpi_matches_hand_computation(kpis, key):
    kpi, scope = key
    assert_kpi(kpis.get((kpi, "day", f"{DAY} 00:00:00", scope)), EXPECTED_KPIS[key], key)


def test_kpi_interval_booked_by_queue_entry(kpis):
    # Q_GENERAL 09:00-09:15: c01, c02, c03, c04 entered; c01 answered in 12 s, c02 in 35 s; c04 is short.
    assert kpis[("offered", "interval", f"{DAY} 09:00:00", G)][0] == 4
    assert kpis[("service_level", "interval", f"{DAY} 09:00:00", G)][:2] == (1, 3)
    # Q_GENERAL 09:15-09:30: c05 entered at 09:20 and left at max-wait-time: offered, neither answered nor abandoned.
    assert kpis[("offered", "interval", f"{DAY} 09:15:00", G)][0] == 1
    assert kpis[("answered", "interval", f"{DAY} 09:15:00", G)][0] == kpis[("abandoned", "interval", f"{DAY} 09:15:00", G)][0] == 0
