"""Nothing lost between ingests: files of the same day ingested one run at a time, in any
order, give what one ingest of their concatenation gives; the same file again changes
nothing; every source file keeps its own reconciliation record, keyed by name and content.

Fixture: tests/fixtures/asterisk/queue_log, one day (2026-01-14) in two rotated files. Call
1768384680.119 enters Q_GENERAL in queue_log.1 and completes in queue_log, so a run that sees
only queue_log cannot map its COMPLETECALLER (orphan) unless the earlier file is remembered.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from ccq.ingest import ensure_warehouse
from ccq.ingest.adapters import run_adapter

QUEUE_LOG = Path(__file__).parent / "fixtures" / "asterisk" / "queue_log"
DAY = "2026-01-14"
TABLES = ("acd_queue_events", "agent_state_events")


def _landing_bytes(landing: Path) -> dict[str, bytes]:
    return {p.relative_to(landing).as_posix(): p.read_bytes() for p in sorted(landing.rglob("*.csv"))}


def _ingest_one_by_one(tmp: Path, order: list[Path]) -> tuple[duckdb.DuckDBPyConnection, Path]:
    con = duckdb.connect(str(tmp / "ccq.duckdb"))
    ensure_warehouse(con)
    for path in order:
        run_adapter(con, "asterisk-queue-log", [path], tmp / "landing", "Europe/London")
    return con, tmp / "landing"


def test_same_day_files_in_separate_runs_give_the_concatenation_in_any_order(tmp_path):
    older, newer = QUEUE_LOG / "queue_log.1", QUEUE_LOG / "queue_log"
    concatenated = tmp_path / "concatenated" / "queue_log"
    concatenated.parent.mkdir()
    concatenated.write_bytes(older.read_bytes() + newer.read_bytes())
    one = duckdb.connect()
    run_adapter(one, "asterisk-queue-log", [concatenated], tmp_path / "one" / "landing", "Europe/London")
    expected = _landing_bytes(tmp_path / "one" / "landing")
    assert list(expected) == [f"{t}/{t}_{DAY}.asterisk-queue-log.csv" for t in TABLES]

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    con_a, landing_a = _ingest_one_by_one(tmp_path / "a", [older, newer])
    con_b, landing_b = _ingest_one_by_one(tmp_path / "b", [newer, older])
    assert _landing_bytes(landing_a) == expected
    assert _landing_bytes(landing_b) == expected

    # Both calls of the day are there: 47 queue events (not the second run's alone), and the
    # call that crossed the rotation completes instead of being quarantined as an orphan.
    events = duckdb.connect().execute(
        f"SELECT event_id, event_type FROM read_csv('{landing_a}/acd_queue_events/*.csv', all_varchar = true)").fetchall()
    assert len(events) == 47
    assert ("1768384870-1768384680.119-001", "COMPLETE") in events
    for con in (con_a, con_b):
        orphans = con.execute("SELECT count(*) FROM audit.quarantine WHERE rule = 'orphan'").fetchone()[0]
        assert orphans == 1  # call 1768384500.118's COMPLETECALLER: entered before both files
        read, mapped, quarantined = con.execute(
            "SELECT sum(rows_read), sum(rows_loaded), sum(rows_quarantined) FROM audit.load_files "
            "WHERE table_name = 'source:asterisk-queue-log'").fetchone()
        assert (read, mapped, quarantined) == (57, 50, 7)

    # The same file again (under another name too) changes nothing.
    records = con_a.execute("SELECT file_id, sha256, rows_read FROM audit.load_files ORDER BY 1").fetchall()
    again = run_adapter(con_a, "asterisk-queue-log", [newer, concatenated], landing_a, "Europe/London")
    assert again.known == [newer] and again.new == [concatenated]
    duplicates = con_a.execute(
        "SELECT count(*), count(DISTINCT rule) FROM audit.quarantine WHERE file_id LIKE '%concatenated%' "
        "OR source_file LIKE '%concatenated%'").fetchone()
    assert duplicates == (57, 1)  # every line of the concatenation was ingested before: counted once
    assert _landing_bytes(landing_a) == expected
    run_adapter(con_a, "asterisk-queue-log", [newer], landing_a, "Europe/London")
    assert _landing_bytes(landing_a) == expected
    assert con_a.execute("SELECT file_id, sha256, rows_read FROM audit.load_files ORDER BY 1").fetchall() == sorted(
        records + con_a.execute("SELECT file_id, sha256, rows_read FROM audit.load_files "
                                "WHERE source_file LIKE '%concatenated%'").fetchall())


def test_every_source_file_keeps_its_reconciliation_even_under_the_same_name(tmp_path):
    """Fifteen ingests of files all called queue_log: fifteen records and all their quarantine."""
    con = duckdb.connect(str(tmp_path / "ccq.duckdb"))
    ensure_warehouse(con)
    base_epoch = 1768384800
    for i in range(15):
        folder = tmp_path / f"night{i:02d}"
        folder.mkdir()
        epoch = base_epoch + i * 86_400
        (folder / "queue_log").write_text(
            f"{epoch}|NONE|NONE|NONE|QUEUESTART|\n"
            f"{epoch + 10}|{epoch}.{i}|Q_GENERAL|NONE|ENTERQUEUE||44770090{i:04d}|1\n"
            f"{epoch + 40}|{epoch}.{i}|Q_GENERAL|NONE|ABANDON|1|1|30\n",
            encoding="utf-8")
        run_adapter(con, "asterisk-queue-log", [folder / "queue_log"], tmp_path / "landing", "Europe/London")
    records = con.execute(
        "SELECT count(*), count(DISTINCT sha256), sum(rows_read), sum(rows_loaded), sum(rows_quarantined) "
        "FROM audit.load_files WHERE table_name = 'source:asterisk-queue-log'").fetchone()
    assert records == (15, 15, 45, 30, 15)
    assert con.execute("SELECT count(*), count(DISTINCT file_id) FROM audit.quarantine WHERE rule = 'housekeeping'"
                       ).fetchone() == (15, 15)
    # One landing file per day, each with its own call: none replaced another.
    landing = tmp_path / "landing" / "acd_queue_events"
    assert len(list(landing.glob("acd_queue_events_*.csv"))) == 15
    rows = duckdb.connect().execute(f"SELECT count(*) FROM read_csv('{landing}/*.csv', all_varchar = true)").fetchone()[0]
    assert rows == 30


def test_a_file_that_cannot_be_mapped_is_not_kept(tmp_path):
    """A wrong header stops that ingest with a message, and the next ingest is not blocked by it."""
    import pytest

    con = duckdb.connect(str(tmp_path / "ccq.duckdb"))
    ensure_warehouse(con)
    bad = tmp_path / "bad.txt"
    bad.write_text("vru+line\tcall_id\tsomething_else\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header is not the Anonymous Bank layout"):
        run_adapter(con, "anonymous-bank", [bad], tmp_path / "landing", "Asia/Jerusalem")
    assert con.execute("SELECT count(*) FROM audit.source_files").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM audit.source_lines").fetchone()[0] == 0
