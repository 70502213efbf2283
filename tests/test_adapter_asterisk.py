"""Asterisk adapters (queue_log, CDR CSV) on hand-written fixtures in tests/fixtures/asterisk
(see its README for the calls). The queue_log output also runs once through the whole
pipeline, and the KPIs are checked against the hand computation below.

queue_log, Wednesday 2026-01-14, Europe/London in winter (local = UTC). Thresholds
(seeds/queue_parameters.csv): Q_GENERAL and Q_BILLING T = 20 s, Q_PREMIUM T = 10 s, short
abandon < 5 s. queue_log has no after-call work, so handle time = talk time.
  Q_GENERAL  c1  wait 12 answered, talk 180             within T
             c2  ring-no-answer, wait 25 answered, talk 240
             c3  abandoned after 30 s
             c4  abandoned after 3 s (short)
             c5  leg 1: overflow after 60 s (EXITWITHTIMEOUT)
             c8  leg 1: wait 8 answered, talk 120, blind transfer      within T
             c10 wait 0 (CONNECT logged before ENTERQUEUE, same second), talk 120   within T
             c11 wait 10 answered, talk 180; ends in the next rotated file         within T
      offered 8, answered 5, abandoned 2 (1 short)
      SL = 4 / (5 + 2 - 1) = 4/6; abandonment = (2 - 1) / (8 - 1) = 1/7
      ASA = (12 + 25 + 8 + 0 + 10) / 5 = 55/5; AHT = (180 + 240 + 120 + 120 + 180) / 5 = 840/5
  Q_PREMIUM  c5  leg 2: wait 6, talk 180                within T
             c8  leg 2: wait 4, talk 180                within T
             c12 wait 20, talk 300
      offered 3, answered 3; SL = 2/3; ASA = 30/3; AHT = 660/3
  Q_BILLING  c6  EXITEMPTY after 2 s; c7 EXITWITHKEY after 20 s (both overflow)
             c9  wait 15, talk 180, attended transfer   within T
      offered 3, answered 1; SL = 1/1; abandonment 0/3; ASA = 15/1; AHT = 180/1
  Centre: offered 14, answered 9; SL = 7/10; abandonment = 1/13; ASA = 100/9; AHT = 1680/9
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from ccq.ingest import load_landing
from ccq.ingest.adapters import run_adapter
from tests.conftest import assert_kpi, kpi_values_of, restored_env, run_pipeline, source_id

# One worker for the whole module, so the pipeline runs once.
pytestmark = pytest.mark.xdist_group("asterisk")

FIXTURES = Path(__file__).parent / "fixtures" / "asterisk"
QUEUE_LOG = FIXTURES / "queue_log"
CDR = FIXTURES / "cdr"
DAY = "2026-01-14"
NOW = "2026-01-15T12:00:00"  # the day after + 12 h


def _adapt(tmp: Path, fmt: str, sources: list[Path], encoding: str = "utf-8"):
    landing = tmp / "landing"
    con = duckdb.connect(str(tmp / "warehouse.duckdb"))
    result = run_adapter(con, fmt, sources, landing, "Europe/London", encoding)
    loads = load_landing(con, landing)
    return con, result, landing, loads


@pytest.fixture(scope="module")
def queue_log(tmp_path_factory):
    con, result, landing, loads = _adapt(tmp_path_factory.mktemp("asterisk_queue_log"), "asterisk-queue-log", [QUEUE_LOG])
    yield con, result, landing, loads
    con.close()


@pytest.fixture(scope="module")
def cdr(tmp_path_factory):
    con, result, landing, loads = _adapt(tmp_path_factory.mktemp("asterisk_cdr"), "asterisk-cdr", [CDR])
    yield con, result, landing, loads
    con.close()


# ---------------------------------------------------------------- queue_log -> acd_queue_events

E, R, C, X, T, CO, A, AB = "ENTERQUEUE", "RINGNOANSWER", "CONNECT", "EXITTIMEOUT", "TRANSFER", "COMPLETE", "ACWEND", "ABANDON"
G, P, B = "Q_GENERAL", "Q_PREMIUM", "Q_BILLING"
A1, A2, A3 = "Agent/1001", "PJSIP/1002", "Agent/1003"

# contact -> [(time, queue_leg, event_type, queue, agent, detail)], in time order
EXPECTED_EVENTS = {
    "1768381200.101": [  # c1 plain answered
        ("09:00:00", 1, E, G, None, None), ("09:00:12", 1, C, G, A1, None),
        ("09:03:12", 1, CO, G, A1, "caller"), ("09:03:12", 1, A, G, A1, None)],
    "1768381260.103": [  # c2 ring-no-answer before connect
        ("09:01:00", 1, E, G, None, None), ("09:01:15", 1, R, G, A2, None), ("09:01:25", 1, C, G, A3, None),
        ("09:05:25", 1, CO, G, A3, "agent"), ("09:05:25", 1, A, G, A3, None)],
    "1768381320.105": [("09:02:00", 1, E, G, None, None), ("09:02:30", 1, AB, G, None, None)],  # c3 (RINGCANCELED not mapped)
    "1768381360.106": [("09:02:40", 1, E, G, None, None), ("09:02:43", 1, AB, G, None, None)],  # c4 short abandon
    "1768381440.107": [  # c5 timeout in Q_GENERAL overflows into Q_PREMIUM (same second)
        ("09:04:00", 1, E, G, None, None), ("09:05:00", 1, X, G, None, "timeout"), ("09:05:00", 2, E, P, None, None),
        ("09:05:06", 2, C, P, A2, None), ("09:08:06", 2, CO, P, A2, "caller"), ("09:08:06", 2, A, P, A2, None)],
    "1768381560.109": [("09:06:00", 1, E, B, None, None), ("09:06:02", 1, X, B, None, "empty")],  # c6 EXITEMPTY
    "1768381620.110": [("09:07:00", 1, E, B, None, None), ("09:07:20", 1, X, B, None, "key:1")],  # c7 EXITWITHKEY
    "1768381800.111": [  # c8 blind transfer into Q_PREMIUM; ENTERQUEUE logged before BLINDTRANSFER
        ("09:10:00", 1, E, G, None, None), ("09:10:08", 1, C, G, A1, None),
        ("09:12:08", 1, T, G, A1, "Q_PREMIUM"), ("09:12:08", 1, A, G, A1, None), ("09:12:08", 2, E, P, None, None),
        ("09:12:12", 2, C, P, A3, None), ("09:15:12", 2, CO, P, A3, "agent"), ("09:15:12", 2, A, P, A3, None)],
    "1768382400.114": [  # c9 attended transfer (not into a queue: detail is method:data)
        ("09:20:00", 1, E, B, None, None), ("09:20:15", 1, C, B, A1, None),
        ("09:23:15", 1, T, B, A1, "BRIDGE:1768382580.116"), ("09:23:15", 1, A, B, A1, None)],
    "1768383000.117": [  # c10 CONNECT logged before ENTERQUEUE in the same second
        ("09:30:05", 1, E, G, None, None), ("09:30:05", 1, C, G, A3, None),
        ("09:32:05", 1, CO, G, A3, "caller"), ("09:32:05", 1, A, G, A3, None)],
    "1768384680.119": [  # c11 starts in queue_log.1, completes in queue_log
        ("09:58:00", 1, E, G, None, None), ("09:58:10", 1, C, G, A1, None),
        ("10:01:10", 1, CO, G, A1, "caller"), ("10:01:10", 1, A, G, A1, None)],
    "1768385100.121": [  # c12
        ("10:05:00", 1, E, P, None, None), ("10:05:20", 1, C, P, A3, None),
        ("10:10:20", 1, CO, P, A3, "agent"), ("10:10:20", 1, A, P, A3, None)],
}
RANK = "CASE event_type WHEN 'ENTERQUEUE' THEN 0 WHEN 'RINGNOANSWER' THEN 1 WHEN 'CONNECT' THEN 2 WHEN 'ABANDON' THEN 2 " \
       "WHEN 'EXITTIMEOUT' THEN 2 WHEN 'TRANSFER' THEN 3 WHEN 'COMPLETE' THEN 3 ELSE 4 END"


def test_queue_events_per_call(queue_log):
    con = queue_log[0]
    rows = con.execute(
        f"""SELECT contact_id, strftime(event_at, '%H:%M:%S'), queue_leg, event_type, queue_id, agent_id, detail
            FROM raw.acd_queue_events ORDER BY contact_id, event_at, queue_leg, {RANK}"""
    ).fetchall()
    got: dict[str, list] = {}
    for contact, *rest in rows:
        got.setdefault(contact, []).append(tuple(rest))
    assert got == EXPECTED_EVENTS
    assert con.execute("SELECT DISTINCT strftime(event_at, '%Y-%m-%d') FROM raw.acd_queue_events").fetchall() == [(DAY,)]


def test_caller_number_on_enterqueue_only(queue_log):
    con = queue_log[0]
    rows = con.execute(
        "SELECT contact_id, queue_leg, caller_number FROM raw.acd_queue_events WHERE caller_number IS NOT NULL ORDER BY 1, 2"
    ).fetchall()
    entries = con.execute("SELECT count(*) FROM raw.acd_queue_events WHERE event_type = 'ENTERQUEUE'").fetchone()[0]
    assert len(rows) == entries == 14
    assert all(num == "447700900" + contact[-3:] for contact, _, num in rows)
    assert con.execute("SELECT count(*) FROM raw.acd_queue_events WHERE customer_id IS NOT NULL").fetchone()[0] == 0


def test_agent_states(queue_log):
    con = queue_log[0]
    rows = con.execute(
        """SELECT agent_id, strftime(event_at, '%H:%M:%S'), state, reason FROM raw.agent_state_events
           ORDER BY agent_id, event_at, _line_no"""
    ).fetchall()
    assert rows == [
        ("Agent/1001", "08:55:00", "LOGIN", None),       # AGENTLOGIN, available at once
        ("Agent/1001", "08:55:00", "READY", None),
        ("Agent/1001", "09:40:00", "NOT_READY", "LUNCH"),  # PAUSE 'Lunch' in two queues: one change
        ("Agent/1001", "09:50:00", "READY", None),
        ("Agent/1001", "10:30:00", "LOGOUT", None),
        ("Agent/1003", "08:56:00", "LOGIN", None),
        ("Agent/1003", "08:56:00", "READY", None),
        ("PJSIP/1002", "08:55:30", "LOGIN", None),       # ADDMEMBER Q_GENERAL; Q_PREMIUM adds nothing
        ("PJSIP/1002", "08:55:30", "READY", None),
        ("PJSIP/1002", "09:45:00", "NOT_READY", "PERSONAL"),  # 'Coaching session' is no contract code
        ("PJSIP/1002", "09:52:00", "READY", None),       # UNPAUSEALL
        ("PJSIP/1002", "10:20:00", "LOGOUT", None),      # REMOVEMEMBER from the last of its queues
    ]


def test_queue_log_reconciles_and_quarantine_names_line_field_reason(queue_log):
    con, result, _, loads = queue_log
    by_name = {s.path.name: s for s in result.sources}
    assert [s.path.name for s in result.sources] == ["queue_log", "queue_log.1"]
    assert (by_name["queue_log.1"].rows_read, by_name["queue_log.1"].rows_mapped, by_name["queue_log.1"].rows_quarantined) == (49, 43, 6)
    assert (by_name["queue_log"].rows_read, by_name["queue_log"].rows_mapped, by_name["queue_log"].rows_quarantined) == (8, 7, 1)
    audit = con.execute(
        """SELECT file_id, rows_read, rows_loaded, rows_quarantined FROM audit.load_files
           WHERE table_name = 'source:asterisk-queue-log' ORDER BY 1"""
    ).fetchall()
    # Keyed by name and content: another file called queue_log later gets a record of its own.
    assert audit == [(source_id("asterisk-queue-log", QUEUE_LOG / "queue_log.1"), 49, 43, 6),
                     (source_id("asterisk-queue-log", QUEUE_LOG / "queue_log"), 8, 7, 1)]
    quarantine = con.execute(
        """SELECT source_file, line_no, field, rule, message FROM audit.quarantine
           WHERE table_name = 'source:asterisk-queue-log' ORDER BY source_file, line_no"""
    ).fetchall()
    assert [(Path(f).name, ln, field, rule) for f, ln, field, rule, _ in quarantine] == [
        ("queue_log", 1, "event", "housekeeping"),          # CONFIGRELOAD
        ("queue_log.1", 1, "event", "housekeeping"),        # QUEUESTART
        ("queue_log.1", 2, "event", "field_count"),         # not a queue_log line
        ("queue_log.1", 3, "callid", "orphan"),             # COMPLETECALLER of a call entered before these files
        ("queue_log.1", 14, "event", "not_mapped"),         # RINGCANCELED
        ("queue_log.1", 29, "event", "unknown_event"),      # NEWFEATURE
        ("queue_log.1", 37, "epoch", "type"),               # a date instead of epoch seconds
    ]
    for f, ln, _, _, message in quarantine:
        assert message.startswith(f"{Path(f).name} line {ln}: ")
    assert "NEWFEATURE" in quarantine[5][4] and "2026-01-14 09:16:00" in quarantine[6][4]
    # The contract files load without a quarantined row.
    assert all(l.reconciles and l.rows_quarantined == 0 for l in loads)
    assert sum(l.rows_loaded for l in loads) == result.written["acd_queue_events"] + result.written["agent_state_events"] == 47 + 12


def test_queue_log_output_is_stable(queue_log, tmp_path):
    """Files given one by one, newest first, give the same landing bytes (order is by first epoch)."""
    _, _, landing, _ = queue_log
    con = duckdb.connect()
    run_adapter(con, "asterisk-queue-log", [QUEUE_LOG / "queue_log", QUEUE_LOG / "queue_log.1"], tmp_path, "Europe/London")
    for table in ("acd_queue_events", "agent_state_events"):
        name = f"{table}_{DAY}.asterisk-queue-log.csv"
        assert (tmp_path / table / name).read_bytes() == (landing / table / name).read_bytes()
    ids = [r[0] for r in duckdb.connect().execute(
        f"SELECT event_id FROM read_csv('{landing}/acd_queue_events/*.csv', all_varchar = true)").fetchall()]
    assert len(ids) == len(set(ids)) == 47


def test_queue_log_gb18030_names_intact(tmp_path):
    con, result, _, loads = _adapt(tmp_path, "asterisk-queue-log", [FIXTURES / "gb18030"], encoding="gb18030")
    raw = (FIXTURES / "gb18030" / "queue_log-gb18030").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert result.sources[0].rows_quarantined == 0
    assert con.execute(
        "SELECT DISTINCT queue_id, agent_id FROM raw.acd_queue_events WHERE agent_id IS NOT NULL"
    ).fetchall() == [("综合咨询", "王芳")]
    assert con.execute(
        "SELECT agent_id, state, reason FROM raw.agent_state_events ORDER BY event_at, _line_no"
    ).fetchall() == [("王芳", "LOGIN", None), ("王芳", "READY", None), ("王芳", "NOT_READY", "LUNCH"), ("王芳", "NOT_READY", "PERSONAL")]
    con.close()

    # Read as UTF-8 the same bytes cannot be decoded: those lines are quarantined, not mangled.
    con2 = duckdb.connect()
    bad = run_adapter(con2, "asterisk-queue-log", [FIXTURES / "gb18030"], tmp_path / "utf8", "Europe/London", "utf-8")
    assert (bad.sources[0].rows_read, bad.sources[0].rows_quarantined) == (6, 6)
    assert {r[0] for r in con2.execute("SELECT rule FROM audit.quarantine").fetchall()} == {"encoding"}


# ---------------------------------------------------------------- KPIs through the pipeline

EXPECTED_KPIS = {
    ("offered", "Q_GENERAL"): (8, None, 8),
    ("answered", "Q_GENERAL"): (5, None, 5),
    ("abandoned", "Q_GENERAL"): (2, None, 2),
    ("service_level", "Q_GENERAL"): (4, 6, 4 / 6),
    ("abandonment_rate", "Q_GENERAL"): (1, 7, 1 / 7),
    ("asa", "Q_GENERAL"): (55, 5, 11),
    ("aht", "Q_GENERAL"): (840, 5, 168),
    ("offered", "Q_PREMIUM"): (3, None, 3),
    ("answered", "Q_PREMIUM"): (3, None, 3),
    ("abandoned", "Q_PREMIUM"): (0, None, 0),
    ("service_level", "Q_PREMIUM"): (2, 3, 2 / 3),
    ("asa", "Q_PREMIUM"): (30, 3, 10),
    ("aht", "Q_PREMIUM"): (660, 3, 220),
    ("offered", "Q_BILLING"): (3, None, 3),
    ("answered", "Q_BILLING"): (1, None, 1),
    ("abandoned", "Q_BILLING"): (0, None, 0),
    ("service_level", "Q_BILLING"): (1, 1, 1.0),
    ("abandonment_rate", "Q_BILLING"): (0, 3, 0.0),
    ("asa", "Q_BILLING"): (15, 1, 15),
    ("aht", "Q_BILLING"): (180, 1, 180),
    ("offered", "*"): (14, None, 14),
    ("answered", "*"): (9, None, 9),
    ("service_level", "*"): (7, 10, 0.7),
    ("abandonment_rate", "*"): (1, 13, 1 / 13),
    ("asa", "*"): (100, 9, 100 / 9),
    ("aht", "*"): (1680, 9, 1680 / 9),
}


@pytest.fixture(scope="module")
def kpis(queue_log, tmp_path_factory):
    _, _, landing, _ = queue_log
    home = tmp_path_factory.mktemp("asterisk_pipeline_home")
    with restored_env():
        _, info = run_pipeline(home, landing, NOW)
    values = kpi_values_of(info["snapshot"])
    shutil.rmtree(home, ignore_errors=True)
    return values


@pytest.mark.parametrize("key", sorted(EXPECTED_KPIS), ids=lambda k: "-".join(k))
def test_kpi_matches_hand_computation(kpis, key):
    kpi, scope = key
    assert_kpi(kpis.get((kpi, "day", f"{DAY} 00:00:00", scope)), EXPECTED_KPIS[key], key)


def test_kpi_interval_booked_by_queue_entry(kpis):
    # Q_GENERAL 09:00-09:15: c1 c2 c3 c4 c5 c8 entered; answered c1 (12 s) c2 (25 s) c8 (8 s); c4 short.
    assert kpis[("offered", "interval", f"{DAY} 09:00:00", "Q_GENERAL")][0] == 6
    assert kpis[("service_level", "interval", f"{DAY} 09:00:00", "Q_GENERAL")][:2] == (2, 4)
    # c11 entered 09:58 and completed after the rotation at 10:00: booked in 09:45.
    assert kpis[("aht", "interval", f"{DAY} 09:45:00", "Q_GENERAL")][:2] == (180, 1)


# ---------------------------------------------------------------- CDR -> pbx_call_legs


def _hashed(channel, start, src, dst, dstchannel):
    return "cdr-" + hashlib.md5("|".join([channel, start, src, dst, dstchannel]).encode()).hexdigest()[:16]


CONGESTION_ID = _hashed("PJSIP/1003-00000010", "2026-01-16 09:00:00", "1003", "441614960000", "PJSIP/trunk2-00000011")
FAILED_ID = _hashed("PJSIP/1003-00000012", "2026-01-16 09:01:00", "1003", "441614960001", "")
VOICEMAIL_ID = _hashed("PJSIP/1001-00000013", "2026-01-16 09:02:00", "1001", "*97", "")

# leg_id -> (call_id, direction, caller, dialled, trunk, site, agent, started, answered, ended, disposition), UTC
EXPECTED_LEGS = {
    # 18 columns (uniqueid, userfield)
    "1768381200.101": ("1768381200.101", "inbound", "447700900101", "08001234567", "trunk1", "LON", None,
                       "2026-01-14 09:00:00", "2026-01-14 09:00:00", "2026-01-14 09:03:12", "ANSWERED"),
    "1781514000.5": ("1781514000.5", "outbound", "1001", "02079460000", "trunk2", "LON", None,   # BST: local - 1 h
                     "2026-06-15 09:00:00", "2026-06-15 09:00:10", "2026-06-15 09:05:10", "ANSWERED"),
    "1768388400.7": ("1768388400.7", "internal", "1001", "1002", None, "LON", None,
                     "2026-01-14 11:00:00", None, "2026-01-14 11:00:03", "BUSY"),
    # clocks go forward 01:00 GMT -> 02:00 BST: 00:59:30 GMT to 02:00:30 BST is 60 s
    "1774745970.20": ("1774745970.20", "inbound", "447700900104", "08001234567", "trunk1", "LON", None,
                      "2026-03-29 00:59:30", "2026-03-29 00:59:40", "2026-03-29 01:00:30", "ANSWERED"),
    # 01:30 does not exist that night: DuckDB reads it with the offset before the change (GMT)
    "1774747800.22": ("1774747800.22", "inbound", "447700900105", "08001234567", "trunk1", "LON", None,
                      "2026-03-29 01:30:00", "2026-03-29 01:30:05", "2026-03-29 01:45:00", "ANSWERED"),
    # clocks go back 02:00 BST -> 01:00 GMT: 01:50 (first, BST) to 01:10 (second, GMT) is 1200 s = duration
    "1792889400.24": ("1792889400.24", "inbound", "447700900106", "08001234567", "trunk1", "LON", None,
                      "2026-10-25 00:50:00", "2026-10-25 00:50:10", "2026-10-25 01:10:00", "ANSWERED"),
    # 01:20 -> 01:25 both readings fit the duration: DuckDB's reading (the second, GMT) stays
    "1792891200.26": ("1792891200.26", "inbound", "447700900107", "08001234567", "trunk1", "LON", None,
                      "2026-10-25 01:20:00", None, "2026-10-25 01:25:00", "NO ANSWER"),
    # 17 columns (uniqueid)
    "1768471200.30": ("1768471200.30", "inbound", "447700900301", "08001234567", "DAHDI/1", "LON", None,
                      "2026-01-15 10:00:00", None, "2026-01-15 10:00:30", "NO ANSWER"),
    "1768471500.31": ("1768471500.31", "inbound", "447700900302", "08001234568", "carrierA", "LON", None,
                      "2026-01-15 10:05:00", "2026-01-15 10:05:04", "2026-01-15 10:07:04", "ANSWERED"),
    "1768471500.31#2": ("1768471500.31", "inbound", "447700900302", "08001234568", "carrierA", "LON", None,
                        "2026-01-15 10:05:00", None, "2026-01-15 10:05:04", "NO ANSWER"),
    # 16 columns (no uniqueid: a hash of channel, start, src, dst, dstchannel)
    CONGESTION_ID: (CONGESTION_ID, "outbound", "1003", "441614960000", "trunk2", "LON", None,
                    "2026-01-16 09:00:00", None, "2026-01-16 09:00:02", "CONGESTION"),
    FAILED_ID: (FAILED_ID, "outbound", "1003", "441614960001", None, "LON", None,
                "2026-01-16 09:01:00", None, "2026-01-16 09:01:00", "FAILED"),
    VOICEMAIL_ID: (VOICEMAIL_ID, "internal", "1001", "*97", None, "LON", None,
                   "2026-01-16 09:02:00", "2026-01-16 09:02:01", "2026-01-16 09:02:31", "ANSWERED"),
}


def test_cdr_legs(cdr):
    con = cdr[0]
    rows = con.execute(
        """SELECT leg_id, call_id, direction, caller_number, dialled_number, trunk_id, site_id, agent_id,
                  strftime(started_at, '%Y-%m-%d %H:%M:%S'), strftime(answered_at, '%Y-%m-%d %H:%M:%S'),
                  strftime(ended_at, '%Y-%m-%d %H:%M:%S'), disposition
           FROM raw.pbx_call_legs"""
    ).fetchall()
    assert {r[0]: r[1:] for r in rows} == EXPECTED_LEGS
    assert len(rows) == len(EXPECTED_LEGS)


def test_cdr_reconciles_and_quarantine_names_line_field_reason(cdr):
    con, result, _, loads = cdr
    assert [(s.path.name, s.rows_read, s.rows_mapped, s.rows_quarantined) for s in result.sources] == [
        ("Master-16col.csv", 7, 3, 4), ("Master-17col.csv", 5, 3, 2), ("Master-18col.csv", 7, 7, 0)]
    audit = con.execute(
        "SELECT file_id, rows_read, rows_loaded, rows_quarantined FROM audit.load_files WHERE table_name = 'source:asterisk-cdr' ORDER BY 1"
    ).fetchall()
    assert audit == [(source_id("asterisk-cdr", CDR / "Master-16col.csv"), 7, 3, 4),
                     (source_id("asterisk-cdr", CDR / "Master-17col.csv"), 5, 3, 2),
                     (source_id("asterisk-cdr", CDR / "Master-18col.csv"), 7, 7, 0)]
    quarantine = con.execute(
        """SELECT source_file, line_no, field, rule, message FROM audit.quarantine
           WHERE table_name = 'source:asterisk-cdr' ORDER BY file_id, line_no"""
    ).fetchall()
    assert [(Path(f).name, ln, field, rule) for f, ln, field, rule, _ in quarantine] == [
        ("Master-16col.csv", 4, "start", "type"),              # 2026-13-45 99:00:00
        ("Master-16col.csv", 5, "end", "range"),               # ends before it starts
        ("Master-16col.csv", 6, None, "parse"),                # unbalanced quotes: no field can be named
        ("Master-16col.csv", 7, "answer", "range"),            # answered after the end
        ("Master-17col.csv", 4, "disposition", "allowed_values"),
        ("Master-17col.csv", 5, None, "field_count"),          # truncated record: 6 columns
    ]
    for f, ln, _, _, message in quarantine:
        assert message.startswith(f"{Path(f).name} line {ln}: ")
    assert "2026-13-45 99:00:00" in quarantine[0][4] and "ANSWERED ELSEWHERE" in quarantine[4][4]
    assert all(l.reconciles and l.rows_quarantined == 0 for l in loads)


def test_cdr_layout_detected_per_file(tmp_path):
    # 17 columns whose last is not a uniqueid: userfield; 21 columns: newcdrcolumns' linkedid is the call.
    (tmp_path / "Master-userfield.csv").write_text(
        '"","1001","1002","from-internal","","PJSIP/1001-1","PJSIP/1002-2","Dial","PJSIP/1002","2026-01-14 09:00:00",'
        '"2026-01-14 09:00:02","2026-01-14 09:01:02",62,60,"ANSWERED","DOCUMENTATION","campaign-7"\n', encoding="utf-8")
    (tmp_path / "Master-new.csv").write_text(
        '"","447700900401","08001234567","from-trunk","","SIP/trunk1-3","SIP/1001-4","Queue","Q_GENERAL","2026-01-14 09:10:00",'
        '"2026-01-14 09:10:01","2026-01-14 09:12:01",121,120,"ANSWERED","DOCUMENTATION","1768381800.40","","","1768381790.39",3\n',
        encoding="utf-8")
    con = duckdb.connect()
    run_adapter(con, "asterisk-cdr", [tmp_path], tmp_path / "landing", "Europe/London")
    rows = duckdb.connect().execute(
        f"SELECT leg_id, call_id, direction FROM read_csv('{tmp_path}/landing/pbx_call_legs/*.csv', all_varchar = true) ORDER BY 1"
    ).fetchall()
    hashed = _hashed("PJSIP/1001-1", "2026-01-14 09:00:00", "1001", "1002", "PJSIP/1002-2")
    assert rows == [("1768381800.40", "1768381790.39", "inbound"), (hashed, hashed, "internal")]
