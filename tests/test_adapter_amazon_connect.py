"""Amazon Connect contact records on the hand-written fixture in tests/fixtures/amazon_connect
(see its README for the contacts). The output also runs once through the whole pipeline, and the
KPIs are checked against the hand computation below.

Wednesday 2026-01-14, UTC = Europe/London in winter. Thresholds (seeds/queue_parameters.csv):
Q_GENERAL and Q_BILLING T = 20 s, Q_PREMIUM T = 10 s, short abandon < 5 s. Talk = the CTR's
AgentInteractionDuration, hold = CustomerHoldDuration, ACW = AfterContactWorkDuration; handle
= talk + hold + ACW.
  Q_GENERAL  01  wait 12 answered, talk 180, ACW 30                    within T
             02  wait 35 answered, talk 240, hold 60 (2 holds), ACW 45
             03  abandoned after 40 s
             04  abandoned after 3 s (short)
             07  leg 1: wait 10 answered, talk 120, ACW 15, transferred   within T
             10  leg 1: moved to Q_PREMIUM by the flow after 60 s (EXITTIMEOUT: offered, not answered, not abandoned)
      offered 6, answered 3, abandoned 2 (1 short), handled 3
      SL = 2 / (3 + 2 - 1) = 2/4; abandonment = (2 - 1) / (6 - 1) = 1/5; ASA = (12 + 35 + 10) / 3 = 57/3
      talk 540, hold 60, ACW 90, handle 690: AHT = 690/3, talk time 540/3, hold time 60/3, ACW time 90/3
      hold rate 1/3 (02); transfer rate 1/3 (07)
  Q_PREMIUM  05  wait 8, talk 300, hold 20 (1 hold), ACW 60            within T
             06  wait 15, talk 200, ACW 0
             11  (leg 2 of 10) wait 6, talk 180, ACW 10               within T
      offered 3, answered 3, handled 3; SL = 2/3; abandonment 0/3; ASA = 29/3
      talk 680, hold 20, ACW 70, handle 770: AHT = 770/3; hold rate 1/3; transfer rate 0/3
  Q_BILLING  08  (leg 2 of 07) wait 18, talk 240, hold 30 (1 hold), ACW 20   within T
             09  wait 25, talk 150, ACW 30 (the later of its two deliveries)
      offered 2, answered 2, handled 2; SL = 1/2; abandonment 0/2; ASA = 43/2
      talk 390, hold 30, ACW 50, handle 470: AHT = 470/2; hold rate 1/2; transfer rate 0/2
  Centre ('*'): offered 11, answered 8, abandoned 2, short 1, handled 8
      SL = (2 + 2 + 1) / (8 + 2 - 1) = 5/9; abandonment = 1/10; ASA = (57 + 29 + 43) / 8 = 129/8
      talk 1610, hold 110, ACW 210, handle 1930: AHT = 1930/8; hold rate 3/8; transfer rate 1/8
Not queue legs: 12 (OUTBOUND), 13 (CHAT); quarantined: 14 (bad time), the earlier delivery
of 09, a line that is not JSON, a record without ContactId. Every line is mapped or quarantined:
17 read = 11 mapped + 6 quarantined.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from ccq.ingest import load_landing
from ccq.ingest.adapters import run_adapter
from tests.conftest import assert_kpi, kpi_values_of, restored_env, run_pipeline, source_id

# One worker for the whole module, so the pipeline runs once.
pytestmark = pytest.mark.xdist_group("amazon_connect")

FMT = "amazon-connect"
FIXTURES = Path(__file__).parent / "fixtures" / "amazon_connect"
CTR = FIXTURES / "connect-ctr-stream-1-2026-01-14-10-30-00-5c1e9a7b"
DAY = "2026-01-14"
NOW = "2026-01-15T12:00:00"  # the day after + 12 h


def cid(n: int) -> str:
    return f"5f0c{n:04d}-0000-4000-8000-00000000{n:04d}"


def _adapt(tmp: Path, sources: list[Path], landing: Path | None = None):
    landing = landing or tmp / "landing"
    con = duckdb.connect(str(tmp / "warehouse.duckdb"))
    result = run_adapter(con, FMT, sources, landing)
    loads = load_landing(con, landing)
    return con, result, landing, loads


@pytest.fixture(scope="module")
def ctr(tmp_path_factory):
    con, result, landing, loads = _adapt(tmp_path_factory.mktemp("amazon_connect"), [FIXTURES])
    yield con, result, landing, loads
    con.close()


# ---------------------------------------------------------------- contact records -> acd_queue_events

E, C, H, U, T, CO, A, AB, X = ("ENTERQUEUE", "CONNECT", "HOLD", "UNHOLD", "TRANSFER", "COMPLETE", "ACWEND", "ABANDON",
                               "EXITTIMEOUT")
G, P, B = "Q_GENERAL", "Q_PREMIUM", "Q_BILLING"
A1, A2, A3 = "agent1001", "agent1002", "agent1003"

# contact -> [(time, queue_leg, event_type, queue, agent, detail)], in time order
EXPECTED_EVENTS = {
    cid(1): [("09:00:00", 1, E, G, None, None), ("09:00:12", 1, C, G, A1, None),
             ("09:03:12", 1, CO, G, A1, "caller"), ("09:03:42", 1, A, G, A1, None)],
    # talk 240 in three gaps of 80 around two holds of 30: 80, hold, 80, hold, 80
    cid(2): [("09:05:00", 1, E, G, None, None), ("09:05:35", 1, C, G, A2, None),
             ("09:06:55", 1, H, G, A2, None), ("09:07:25", 1, U, G, A2, None),
             ("09:08:45", 1, H, G, A2, None), ("09:09:15", 1, U, G, A2, None),
             ("09:10:35", 1, CO, G, A2, "agent"), ("09:11:20", 1, A, G, A2, None)],
    cid(3): [("09:10:00", 1, E, G, None, None), ("09:10:40", 1, AB, G, None, None)],
    cid(4): [("09:12:00", 1, E, G, None, None), ("09:12:03", 1, AB, G, None, None)],
    cid(5): [("09:15:00", 1, E, P, None, None), ("09:15:08", 1, C, P, A2, None),
             ("09:17:38", 1, H, P, A2, None), ("09:17:58", 1, U, P, A2, None),
             ("09:20:28", 1, CO, P, A2, "caller"), ("09:21:28", 1, A, P, A2, None)],
    cid(6): [("09:20:00", 1, E, P, None, None), ("09:20:15", 1, C, P, A3, None),
             ("09:23:35", 1, CO, P, A3, "agent"), ("09:23:35", 1, A, P, A3, None)],
    # records 07 and 08 are one contact (07's id), two legs
    cid(7): [("09:30:00", 1, E, G, None, None), ("09:30:10", 1, C, G, A1, None),
             ("09:32:10", 1, T, G, A1, "Q_BILLING"), ("09:32:10", 2, E, B, None, None),
             ("09:32:25", 1, A, G, A1, None), ("09:32:28", 2, C, B, A2, None),
             ("09:34:28", 2, H, B, A2, None), ("09:34:58", 2, U, B, A2, None),
             ("09:36:58", 2, CO, B, A2, "caller"), ("09:37:18", 2, A, B, A2, None)],
    cid(9): [("09:40:00", 1, E, B, None, None), ("09:40:25", 1, C, B, A3, None),
             ("09:42:55", 1, CO, B, A3, "caller"), ("09:43:25", 1, A, B, A3, None)],
    # records 10 and 11: moved from Q_GENERAL to Q_PREMIUM before an answer
    cid(10): [("09:50:00", 1, E, G, None, None), ("09:51:00", 1, X, G, None, "transfer:Q_PREMIUM"),
              ("09:51:00", 2, E, P, None, None), ("09:51:06", 2, C, P, A1, None),
              ("09:54:06", 2, CO, P, A1, "caller"), ("09:54:16", 2, A, P, A1, None)],
}
RANK = ("CASE event_type WHEN 'ENTERQUEUE' THEN 0 WHEN 'CONNECT' THEN 1 WHEN 'ABANDON' THEN 1 WHEN 'EXITTIMEOUT' THEN 1 "
        "WHEN 'HOLD' THEN 2 WHEN 'UNHOLD' THEN 3 WHEN 'TRANSFER' THEN 4 WHEN 'COMPLETE' THEN 4 ELSE 5 END")


def test_queue_events_per_contact(ctr):
    con = ctr[0]
    rows = con.execute(
        f"""SELECT contact_id, strftime(event_at, '%H:%M:%S'), queue_leg, event_type, queue_id, agent_id, detail
            FROM raw.acd_queue_events ORDER BY contact_id, event_at, queue_leg, {RANK}"""
    ).fetchall()
    got: dict[str, list] = {}
    for contact, *rest in rows:
        got.setdefault(contact, []).append(tuple(rest))
    assert got == EXPECTED_EVENTS
    assert con.execute("SELECT DISTINCT strftime(event_at, '%Y-%m-%d') FROM raw.acd_queue_events").fetchall() == [(DAY,)]


def test_event_ids_name_the_contact_record(ctr):
    con, _, landing, _ = ctr
    ids = [r[0] for r in con.execute("SELECT event_id FROM raw.acd_queue_events").fetchall()]
    assert len(ids) == len(set(ids)) == 46
    # The transfer leg's events keep the id of their own record (08), the chain's contact id is 07's.
    assert con.execute(
        f"SELECT event_id FROM raw.acd_queue_events WHERE contact_id = '{cid(7)}' AND queue_leg = 2 AND event_type = 'HOLD'"
    ).fetchall() == [(f"{cid(8)}:HOLD:1",)]
    assert sorted(p.name for p in (landing / "acd_queue_events").iterdir()) == [f"acd_queue_events_{DAY}.amazon-connect.csv"]


def test_caller_number_on_enterqueue_only(ctr):
    """CustomerEndpoint.Address of each record, on its leg's ENTERQUEUE (both records of a
    transfer chain carry the caller's number)."""
    con = ctr[0]
    rows = con.execute(
        "SELECT contact_id, queue_leg, event_type, caller_number FROM raw.acd_queue_events WHERE caller_number IS NOT NULL"
    ).fetchall()
    assert {r[2] for r in rows} == {"ENTERQUEUE"}
    assert sorted((c, leg, num) for c, leg, _, num in rows) == sorted(
        [(cid(n), 1, f"+447700900{100 + n}") for n in (1, 2, 3, 4, 5, 6, 7, 9, 10)]
        + [(cid(7), 2, "+447700900107"), (cid(10), 2, "+447700900110")])
    assert con.execute("SELECT count(*) FROM raw.acd_queue_events WHERE customer_id IS NOT NULL").fetchone()[0] == 0


def test_hold_totals_are_the_records(ctr):
    """Hold positions are synthetic; per leg, sum(UNHOLD - HOLD) and the number of holds are the CTR's."""
    con = ctr[0]
    rows = con.execute(
        """SELECT contact_id, queue_leg, count(*) FILTER (WHERE event_type = 'HOLD'),
                  sum(CASE event_type WHEN 'UNHOLD' THEN epoch(event_at) WHEN 'HOLD' THEN -epoch(event_at) END)
           FROM raw.acd_queue_events WHERE event_type IN ('HOLD', 'UNHOLD') GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    assert rows == [(cid(2), 1, 2, 60), (cid(5), 1, 1, 20), (cid(7), 2, 1, 30)]


def test_reconciles_and_quarantine_names_line_field_reason(ctr):
    con, result, _, loads = ctr
    assert [(s.path.name, s.rows_read, s.rows_mapped, s.rows_quarantined) for s in result.sources] == [(CTR.name, 17, 11, 6)]
    assert con.execute(
        f"SELECT file_id, rows_read, rows_loaded, rows_quarantined FROM audit.load_files WHERE table_name = 'source:{FMT}'"
    ).fetchall() == [(source_id(FMT, CTR), 17, 11, 6)]
    quarantine = con.execute(
        f"""SELECT source_file, line_no, field, rule, message, raw_text FROM audit.quarantine
            WHERE table_name = 'source:{FMT}' ORDER BY line_no"""
    ).fetchall()
    assert [(Path(f).name, ln, field, rule) for f, ln, field, rule, _, _ in quarantine] == [
        (CTR.name, 5, None, "parse"),                           # cut off mid-object
        (CTR.name, 13, "InitiationMethod", "not_mapped"),       # OUTBOUND
        (CTR.name, 14, "Channel", "not_mapped"),                # CHAT
        (CTR.name, 15, "Queue.EnqueueTimestamp", "type"),       # 25:61:00
        (CTR.name, 16, "LastUpdateTimestamp", "superseded"),    # the earlier delivery of 09
        (CTR.name, 17, "ContactId", "required"),
    ]
    lines = CTR.read_text().splitlines()
    for f, ln, _, _, message, raw_text in quarantine:
        assert message.startswith(f"{Path(f).name} line {ln}: ")
        assert raw_text == lines[ln - 1]  # the evidence is the line itself
    messages = {ln: m for _, ln, _, _, m, _ in quarantine}
    assert "not a JSON object" in messages[5]
    assert "OUTBOUND" in messages[13] and "CHAT" in messages[14]
    assert cid(14) in messages[15] and "Queue.EnqueueTimestamp '2026-01-14T25:61:00Z'" in messages[15]
    assert cid(9) in messages[16] and "09:43:00Z" in messages[16]
    assert f"line 10 of {CTR.name}" in messages[16] and "2026-01-14T09:43:40Z" in messages[16]
    assert "without ContactId" in messages[17]
    assert all(l.reconciles and l.rows_quarantined == 0 for l in loads)
    assert sum(l.rows_loaded for l in loads) == result.written["acd_queue_events"] == 46
    # No agent states can be derived from contact records: the adapter writes none.
    assert set(result.written) == {"acd_queue_events"}


def test_output_is_stable_and_file_order_does_not_matter(ctr, tmp_path):
    _, _, landing, _ = ctr
    name = f"acd_queue_events/acd_queue_events_{DAY}.amazon-connect.csv"
    reversed_copy = tmp_path / "src" / "ctr-reversed.jsonl"
    reversed_copy.parent.mkdir()
    reversed_copy.write_text("\n".join(reversed(CTR.read_text().splitlines())) + "\n")
    con = duckdb.connect()
    run_adapter(con, FMT, [reversed_copy], tmp_path / "landing")
    assert (tmp_path / "landing" / name).read_bytes() == (landing / name).read_bytes()


def test_redelivery_in_a_later_object_replaces_the_contact(tmp_path):
    """A later Firehose object with a newer version of contact 04 (it waited 30 s, not 3) and an
    older version of 01: 04's events change, the old 01 is quarantined naming the line that won."""
    lines = {json.loads(l)["ContactId"]: json.loads(l) for l in CTR.read_text().splitlines()[:4]}
    newer = lines[cid(4)]
    newer["Queue"].update({"DequeueTimestamp": "2026-01-14T09:12:30Z", "Duration": 30})
    newer.update({"DisconnectTimestamp": "2026-01-14T09:12:30Z", "LastUpdateTimestamp": "2026-01-14T09:13:00Z"})
    older = lines[cid(1)]
    older.update({"LastUpdateTimestamp": "2026-01-14T09:03:20Z", "Agent": None})
    later = tmp_path / "src" / "connect-ctr-stream-1-2026-01-14-11-00-00-0a1b2c3d"
    later.parent.mkdir()
    later.write_text(json.dumps(newer) + "\n" + json.dumps(older) + "\n")

    landing = tmp_path / "landing"
    con, first, _, _ = _adapt(tmp_path, [CTR], landing)
    result = run_adapter(con, FMT, [later], landing)
    load_landing(con, landing)
    assert [(s.path.name, s.rows_read, s.rows_mapped, s.rows_quarantined) for s in result.sources] == [
        (CTR.name, 17, 10, 7), (later.name, 2, 1, 1)]
    assert con.execute(
        f"""SELECT Path, line_no, rule FROM (SELECT parse_filename(source_file) AS Path, line_no, rule FROM audit.quarantine
            WHERE table_name = 'source:{FMT}' AND rule = 'superseded') ORDER BY ALL"""
    ).fetchall() == [(CTR.name, 4, "superseded"), (CTR.name, 16, "superseded"), (later.name, 2, "superseded")]
    messages = dict(con.execute(
        "SELECT parse_filename(source_file) || ':' || line_no, message FROM audit.quarantine WHERE rule = 'superseded'"
    ).fetchall())
    assert f"line 1 of {later.name}" in messages[f"{CTR.name}:4"]  # the newer 04 won
    assert f"line 1 of {CTR.name}" in messages[f"{later.name}:2"]  # the older 01 lost
    assert con.execute(
        f"SELECT strftime(event_at, '%H:%M:%S'), event_type FROM raw.acd_queue_events WHERE contact_id = '{cid(4)}' ORDER BY 1"
    ).fetchall() == [("09:12:00", "ENTERQUEUE"), ("09:12:30", "ABANDON")]
    assert con.execute(f"SELECT count(*) FROM raw.acd_queue_events WHERE contact_id = '{cid(1)}'").fetchone()[0] == 4
    con.close()


def test_same_file_again_changes_nothing(tmp_path):
    """The same object ingested again, under its name or another, is known: the landing file keeps
    its bytes, the loader skips it, and raw and audit rows stay as they were."""
    landing = tmp_path / "landing"
    con, _, _, _ = _adapt(tmp_path, [CTR], landing)
    csv = landing / "acd_queue_events" / f"acd_queue_events_{DAY}.amazon-connect.csv"

    def state():
        return (
            csv.read_bytes(),
            con.execute("SELECT * EXCLUDE (_file_id, _source_file, _line_no, _loaded_at) FROM raw.acd_queue_events "
                        "ORDER BY ALL").fetchall(),
            con.execute("SELECT * EXCLUDE (loaded_at, load_seconds) FROM audit.load_files ORDER BY ALL").fetchall(),
            con.execute("SELECT * EXCLUDE (quarantined_at) FROM audit.quarantine ORDER BY ALL").fetchall(),
            con.execute("SELECT count(*) FROM audit.source_lines").fetchone(),
        )

    before = state()
    renamed = tmp_path / "again" / "connect-ctr-stream-1-2026-01-14-10-30-00-5c1e9a7b.json"
    renamed.parent.mkdir()
    renamed.write_bytes(CTR.read_bytes())
    result = run_adapter(con, FMT, [CTR, renamed], landing)
    assert (result.new, result.known) == ([], [CTR, renamed])
    assert result.written == {"acd_queue_events": 46}
    assert [l.skipped for l in load_landing(con, landing)] == [True]
    assert state() == before
    con.close()


def test_outbound_external_transfer_and_disconnect_flow(tmp_path):
    """Variants of the fixture's records for what the fixture does not show: an outbound call
    that carries the agent's outbound queue, and an API (StartOutboundVoiceContact) call that was
    queued, are not ACD legs; a call the agent transferred to an outside number is TRANSFER
    (`external`), not COMPLETE; a queued call the flow sent to an outside number left the queue
    (EXITTIMEOUT), it was not abandoned; a call whose NextContactId is a contact its disconnect
    flow started was completed, not transferred."""
    lines = CTR.read_text().splitlines()
    by_id = {r["ContactId"]: r for r in (json.loads(lines[i]) for i in range(15) if i != 4)}  # lines 1-15 but 5

    def variant(n: int, new: int, **changes) -> dict:
        record = json.loads(json.dumps(by_id[cid(n)]))
        record.update(ContactId=cid(new), **changes)
        return record

    external = {"Address": "+442079460000", "Type": "TELEPHONE_NUMBER"}
    records = [
        variant(12, 21, Queue={"ARN": "arn:aws:connect:::queue/basic", "Name": "Q_GENERAL", "EnqueueTimestamp": None}),
        variant(1, 22, InitiationMethod="API"),
        variant(6, 23, TransferredToEndpoint=external, DisconnectReason="THIRD_PARTY_DISCONNECT"),
        variant(3, 24, TransferredToEndpoint=external),
        variant(5, 25, NextContactId=cid(26)),
        variant(12, 26, InitiationMethod="DISCONNECT", PreviousContactId=cid(25), InitialContactId=cid(25),
                Agent=None, Queue=None),
    ]
    src = tmp_path / "src" / "connect-ctr-stream-1-2026-01-14-12-00-00-0f0e0d0c"
    src.parent.mkdir()
    src.write_text("".join(json.dumps(r) + "\n" for r in records))
    con, result, _, _ = _adapt(tmp_path, [src])
    assert [(s.rows_read, s.rows_mapped, s.rows_quarantined) for s in result.sources] == [(6, 3, 3)]
    assert con.execute(
        f"SELECT line_no, field, rule FROM audit.quarantine WHERE table_name = 'source:{FMT}' ORDER BY line_no"
    ).fetchall() == [(1, "InitiationMethod", "not_mapped"), (2, "InitiationMethod", "not_mapped"), (6, "Queue", "not_mapped")]
    rows = con.execute(
        """SELECT contact_id, strftime(event_at, '%H:%M:%S'), event_type, detail FROM raw.acd_queue_events
            WHERE event_type IN ('TRANSFER', 'COMPLETE', 'ABANDON', 'EXITTIMEOUT') ORDER BY ALL"""
    ).fetchall()
    assert rows == [(cid(23), "09:23:35", T, "external"), (cid(24), "09:10:40", X, "transfer:external"),
                    (cid(25), "09:20:28", CO, "caller")]
    con.close()


def test_records_run_on_without_line_breaks(tmp_path):
    """A Firehose object written without its new line delimiter holds the records back to back on
    one line: one parse quarantine that says so, and nothing mapped from it."""
    first, second = CTR.read_text().splitlines()[:2]
    src = tmp_path / "connect-ctr-stream-1-2026-01-14-12-05-00-1a2b3c4d"
    src.write_text(first + second)
    con, result, _, _ = _adapt(tmp_path, [src])
    assert [(s.rows_read, s.rows_mapped, s.rows_quarantined) for s in result.sources] == [(1, 0, 1)]
    (field, rule, message), = con.execute(
        f"SELECT field, rule, message FROM audit.quarantine WHERE table_name = 'source:{FMT}'").fetchall()
    assert (field, rule) == (None, "parse") and "without a line break" in message and "new line delimiter" in message
    assert result.written == {"acd_queue_events": 0}
    con.close()


def test_empty_folder_is_an_error_naming_it(tmp_path):
    (tmp_path / "empty").mkdir()
    con = duckdb.connect()
    with pytest.raises(ValueError, match=f"{tmp_path / 'empty'}: no amazon-connect files there"):
        run_adapter(con, FMT, [tmp_path / "empty"], tmp_path / "landing")
    assert not (tmp_path / "landing").exists()
    con.close()


# ---------------------------------------------------------------- KPIs through the pipeline

EXPECTED_KPIS = {
    ("offered", G): (6, None, 6),
    ("answered", G): (3, None, 3),
    ("abandoned", G): (2, None, 2),
    ("short_abandoned", G): (1, None, 1),
    ("service_level", G): (2, 4, 0.5),
    ("abandonment_rate", G): (1, 5, 0.2),
    ("asa", G): (57, 3, 19),
    ("aht", G): (690, 3, 230),
    ("talk_time", G): (540, 3, 180),
    ("hold_time", G): (60, 3, 20),
    ("acw_time", G): (90, 3, 30),
    ("hold_rate", G): (1, 3, 1 / 3),
    ("transfer_rate", G): (1, 3, 1 / 3),
    ("offered", P): (3, None, 3),
    ("answered", P): (3, None, 3),
    ("abandoned", P): (0, None, 0),
    ("short_abandoned", P): (0, None, 0),
    ("service_level", P): (2, 3, 2 / 3),
    ("abandonment_rate", P): (0, 3, 0.0),
    ("asa", P): (29, 3, 29 / 3),
    ("aht", P): (770, 3, 770 / 3),
    ("talk_time", P): (680, 3, 680 / 3),
    ("hold_time", P): (20, 3, 20 / 3),
    ("acw_time", P): (70, 3, 70 / 3),
    ("hold_rate", P): (1, 3, 1 / 3),
    ("transfer_rate", P): (0, 3, 0.0),
    ("offered", B): (2, None, 2),
    ("answered", B): (2, None, 2),
    ("abandoned", B): (0, None, 0),
    ("short_abandoned", B): (0, None, 0),
    ("service_level", B): (1, 2, 0.5),
    ("abandonment_rate", B): (0, 2, 0.0),
    ("asa", B): (43, 2, 21.5),
    ("aht", B): (470, 2, 235),
    ("talk_time", B): (390, 2, 195),
    ("hold_time", B): (30, 2, 15),
    ("acw_time", B): (50, 2, 25),
    ("hold_rate", B): (1, 2, 0.5),
    ("transfer_rate", B): (0, 2, 0.0),
    ("offered", "*"): (11, None, 11),
    ("answered", "*"): (8, None, 8),
    ("abandoned", "*"): (2, None, 2),
    ("short_abandoned", "*"): (1, None, 1),
    ("service_level", "*"): (5, 9, 5 / 9),
    ("abandonment_rate", "*"): (1, 10, 0.1),
    ("asa", "*"): (129, 8, 129 / 8),
    ("aht", "*"): (1930, 8, 1930 / 8),
    ("talk_time", "*"): (1610, 8, 1610 / 8),
    ("hold_time", "*"): (110, 8, 110 / 8),
    ("acw_time", "*"): (210, 8, 210 / 8),
    ("hold_rate", "*"): (3, 8, 3 / 8),
    ("transfer_rate", "*"): (1, 8, 1 / 8),
}


@pytest.fixture(scope="module")
def kpis(ctr, tmp_path_factory):
    _, _, landing, _ = ctr
    home = tmp_path_factory.mktemp("amazon_connect_pipeline_home")
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
    # Q_GENERAL 09:00-09:15: 01, 02, 03, 04 entered; 01 answered in 12 s, 02 in 35 s; 04 is short.
    assert kpis[("offered", "interval", f"{DAY} 09:00:00", G)][0] == 4
    assert kpis[("service_level", "interval", f"{DAY} 09:00:00", G)][:2] == (1, 3)
    # Q_BILLING 09:30-09:45: the transfer leg of 07 (entered 09:32:10, handle 240 + 30 + 20) and 09
    # (entered 09:40, handle 150 + 30), booked by queue entry, not by the entry of the contact.
    assert kpis[("aht", "interval", f"{DAY} 09:30:00", B)][:2] == (470, 2)
    # Q_GENERAL 09:45-10:00: 10 entered at 09:50 and left for Q_PREMIUM: offered, neither answered nor abandoned.
    assert kpis[("offered", "interval", f"{DAY} 09:45:00", G)][0] == 1
    assert kpis[("answered", "interval", f"{DAY} 09:45:00", G)][0] == kpis[("abandoned", "interval", f"{DAY} 09:45:00", G)][0] == 0
