"""The audit schema: what was loaded from where, what was quarantined and why, what was checked."""
from __future__ import annotations

import duckdb

from ccq.contract import RAW_SCHEMA, tables

AUDIT_DDL = [
    "CREATE SCHEMA IF NOT EXISTS audit",
    # One row per extract file: the reconciliation (rows_read = rows_loaded + rows_quarantined).
    """CREATE TABLE IF NOT EXISTS audit.load_files (
        file_id VARCHAR PRIMARY KEY,      -- <table>/<file name>: a re-delivery under the same name replaces the file;
                                          -- source:<format>/<file name>@<sha256>: one per source content, kept
        table_name VARCHAR NOT NULL,
        file_date DATE,                   -- the day (partition) the extract covers, from its name
        source_file VARCHAR NOT NULL,     -- path it was loaded from
        sha256 VARCHAR NOT NULL,
        bytes BIGINT NOT NULL,
        encoding VARCHAR NOT NULL,
        rows_read BIGINT NOT NULL,
        rows_loaded BIGINT NOT NULL,
        rows_quarantined BIGINT NOT NULL,
        loaded_at TIMESTAMP NOT NULL,
        load_seconds DOUBLE
    )""",
    # One row per (line, broken rule). A line counts once in rows_quarantined however many rules it broke.
    """CREATE TABLE IF NOT EXISTS audit.quarantine (
        file_id VARCHAR NOT NULL,
        table_name VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL,
        line_no BIGINT,
        field VARCHAR,
        rule VARCHAR NOT NULL,
        message VARCHAR NOT NULL,
        raw_text VARCHAR,
        quarantined_at TIMESTAMP NOT NULL
    )""",
    # Every source file an adapter ingested (`ccq ingest`), once per content: a file already
    # ingested under any name adds nothing. Its lines are kept (source_lines), so that each ingest
    # maps all the files of its format together: two files of the same day, or a call that
    # starts in one rotated log and ends in the next, give what one file with both would give.
    """CREATE TABLE IF NOT EXISTS audit.source_files (
        sha256 VARCHAR PRIMARY KEY,
        format VARCHAR NOT NULL,          -- asterisk-queue-log | asterisk-cdr | anonymous-bank
        time_zone VARCHAR NOT NULL,       -- the site time zone its local times were read in
        source_file VARCHAR NOT NULL,     -- path it was first ingested from
        bytes BIGINT NOT NULL,
        encoding VARCHAR NOT NULL,
        ingested_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS audit.source_lines (
        sha256 VARCHAR NOT NULL,
        line_no BIGINT NOT NULL,
        raw VARCHAR NOT NULL
    )""",
    # The site (and its time zone) each ingest read its files in, and the queues those files named:
    # a queue or site the seeds do not configure gets its calendar from here (int_reference__queues).
    # The latest ingest of a queue wins.
    """CREATE TABLE IF NOT EXISTS audit.ingested_sites (
        site_id VARCHAR PRIMARY KEY,
        time_zone VARCHAR NOT NULL,
        format VARCHAR NOT NULL,
        recorded_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS audit.ingested_queues (
        queue_id VARCHAR PRIMARY KEY,
        site_id VARCHAR NOT NULL,
        format VARCHAR NOT NULL,
        recorded_at TIMESTAMP NOT NULL
    )""",
    # Results of every validation (GX suites, table-level checks, dbt tests) the certification reads.
    """CREATE TABLE IF NOT EXISTS audit.check_results (
        run_id VARCHAR NOT NULL,
        check_kind VARCHAR NOT NULL,      -- gx_suite | dbt_test
        suite VARCHAR NOT NULL,
        check_name VARCHAR NOT NULL,
        target VARCHAR NOT NULL,          -- relation validated
        table_name VARCHAR,               -- raw table or model name whose lineage it guards
        partition_date DATE,              -- the day validated; NULL = whole relation
        success BOOLEAN NOT NULL,
        severity VARCHAR NOT NULL,        -- critical: a failure uncertifies; warning: reported only
        unexpected_count BIGINT,
        element_count BIGINT,
        details VARCHAR,
        checked_at TIMESTAMP NOT NULL
    )""",
]


def ensure_audit(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in AUDIT_DDL:
        con.execute(ddl)


def ensure_raw(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    for t in tables().values():
        con.execute(t.ddl())
