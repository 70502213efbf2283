"""Asterisk CDR CSV (`cdr_csv`, Master.csv) -> raw.pbx_call_legs.

The field-by-field mapping, what is left out and what is quarantined is in
docs/adapters/asterisk.md.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import duckdb

from ccq.ingest.adapters.base import (AdapterResult, Source, read_lines, reconcile, site_for, sql_values,
                                      write_contract_files)

FORMAT = "asterisk-cdr"
# Per-account files repeat Master.csv's records, so a folder contributes only its Master files.
FOLDER_PATTERNS = ("Master*.csv*",)
DISPOSITIONS = ("ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# Direction from the destination context (dcontext), by prefix, case-insensitive:
# calls arriving in an inbound context came from a trunk; calls from an internal context are
# outbound when they left by a trunk (dstchannel is a trunk, or no dstchannel and the
# dialled number looks external); everything else is internal.
INBOUND_CONTEXT_PREFIXES = ("from-external", "from-trunk", "from-pstn", "from-did", "from-sip-external")
OUTBOUND_CONTEXT_PREFIXES = ("from-internal",)
EXTERNAL_NUMBER = r"^\+?[0-9]{7,}$"
# A channel `TECH/peer-suffix` is a trunk when its peer is not a plain extension number;
# hardware line technologies are always trunks, local/agent channels never are.
EXTENSION_PEER = r"^[0-9]+$"
ALWAYS_TRUNK_TECHS = ("DAHDI", "ZAP", "DONGLE")
NEVER_TRUNK_TECHS = ("LOCAL", "AGENT", "CONSOLE", "MULTICAST")
# Asterisk uniqueid: `<epoch>.<sequence>`, optionally prefixed by `<systemname>-`. Tells a
# 17th column that is uniqueid from one that is userfield.
UNIQUEID = r"^([A-Za-z0-9_.]+-)?[0-9]+\.[0-9]+$"

# cdr_csv layout: 16 fixed columns, then uniqueid (loguniqueid) and userfield (loguserfield),
# then peeraccount, linkedid, sequence (newcdrcolumns).
BASE_COLUMNS = 16
LAYOUTS = range(16, 22)


def _prefix_test(expr: str, prefixes: tuple[str, ...]) -> str:
    return "(" + " OR ".join(f"starts_with(lower({expr}), '{p}')" for p in prefixes) + ")"


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def asterisk_cdr(
    con: duckdb.DuckDBPyConnection,
    files: list[Source],
    landing: Path,
    suffix: str,
    site_time_zone: str,
    progress: Callable[[str], None],
) -> AdapterResult:
    read_lines(con, files, "_cdr_lines")
    progress(f"{FORMAT}: {con.execute('SELECT count(*) FROM _cdr_lines').fetchone()[0]} lines in {len(files)} file(s)")
    site_id = site_for(site_time_zone)

    # CSV fields by regex: every match consumes its leading comma, so empty fields are kept;
    # a line whose fields do not add back up to its length has broken quoting.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _cdr_split AS
        SELECT file_idx, line_no, raw, encoding, dup_file_idx, dup_line_no, f,
               list_sum(list_transform(f, lambda x: length(x))) + len(f) - 1 = length(raw) AS well_formed,
               list_transform(f, lambda x: CASE WHEN starts_with(x, '"') THEN replace(x[2:-2], '""', '"') ELSE x END) AS v
        FROM (SELECT *, regexp_extract_all(',' || raw, ',("(?:[^"]|"")*"|[^,"]*)', 1) AS f FROM _cdr_lines)"""
    )
    # Per file: the most common column count is its layout.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _cdr_layout AS
        WITH counts AS (
            SELECT file_idx, len(v) AS ncols, count(*) AS n FROM _cdr_split WHERE well_formed GROUP BY ALL
        ), layout AS (
            -- ties: a cdr_csv layout first, then the wider one
            SELECT file_idx, arg_max(ncols, (ncols BETWEEN {LAYOUTS.start} AND {LAYOUTS.stop - 1})::BIGINT * 1e12 + n * 1000 + ncols) AS ncols
            FROM counts GROUP BY file_idx
        ), shape AS (
            SELECT file_idx, ncols, ncols >= {BASE_COLUMNS + 3} AS new_columns,
                   ncols - {BASE_COLUMNS} - CASE WHEN ncols >= {BASE_COLUMNS + 3} THEN 3 ELSE 0 END AS extra
            FROM layout
        ), extra_is_uniqueid AS (
            SELECT s.file_idx,
                   bool_and(regexp_full_match(v[{BASE_COLUMNS + 1}], '{UNIQUEID}')) FILTER (WHERE v[{BASE_COLUMNS + 1}] <> '') AS looks_like_uniqueid
            FROM _cdr_split s JOIN shape USING (file_idx)
            WHERE s.well_formed AND len(s.v) = shape.ncols AND shape.extra = 1
            GROUP BY s.file_idx
        )
        SELECT s.file_idx, s.ncols, s.ncols BETWEEN {LAYOUTS.start} AND {LAYOUTS.stop - 1} AS known,
               CASE WHEN s.extra = 2 OR (s.extra = 1 AND coalesce(u.looks_like_uniqueid, true)) THEN {BASE_COLUMNS + 1} END AS uniqueid_pos,
               CASE WHEN s.new_columns THEN {BASE_COLUMNS} + s.extra + 2 END AS linkedid_pos
        FROM shape s LEFT JOIN extra_is_uniqueid u USING (file_idx)"""
    )

    tz = site_time_zone.replace("'", "''")
    names = sql_values([(i, f.name) for i, f in enumerate(files)], "n(dup_idx, dup_name)")

    def utc(local: str) -> str:
        return f"CAST(timezone('{tz}', {local}) AS TIMESTAMP)"

    def earlier_reading(local: str) -> str:
        # The UTC offset in force a day earlier: the first of the two readings of a local time
        # repeated when the clocks go back. Valid only if it reads back as the same local time.
        alt = f"CAST(timezone('{tz}', {local} - INTERVAL 1 DAY) AS TIMESTAMP) + INTERVAL 1 DAY"
        return f"CASE WHEN timezone('{tz}', CAST({alt} AS TIMESTAMPTZ)) = {local} THEN {alt} ELSE {utc(local)} END"

    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _cdr_parsed AS
        SELECT s.file_idx, s.line_no, s.raw, s.encoding, s.dup_file_idx, s.dup_line_no, s.well_formed, len(s.v) AS ncols, l.ncols AS layout_ncols,
               coalesce(l.known, false) AS known_layout, s.v[2] AS src, s.v[3] AS dst, s.v[4] AS dcontext, s.v[6] AS channel, s.v[7] AS dstchannel,
               s.v[10] AS start_text, s.v[11] AS answer_text, s.v[12] AS end_text,
               try_cast(s.v[13] AS BIGINT) AS duration, try_cast(s.v[14] AS BIGINT) AS billsec,
               s.v[15] AS disposition,
               nullif(list_extract(s.v, l.uniqueid_pos), '') AS uniqueid,
               nullif(list_extract(s.v, l.linkedid_pos), '') AS linkedid,
               try_strptime(s.v[10], '{TIME_FORMAT}') AS start_local,
               try_strptime(s.v[11], '{TIME_FORMAT}') AS answer_local,
               try_strptime(s.v[12], '{TIME_FORMAT}') AS end_local
        FROM _cdr_split s LEFT JOIN _cdr_layout l USING (file_idx)"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _cdr_class AS
        SELECT *,
            CASE
                WHEN contains(raw, chr(65533)) THEN 'encoding'
                WHEN dup_file_idx IS NOT NULL THEN 'duplicate'
                WHEN NOT well_formed THEN 'parse'
                WHEN NOT known_layout THEN 'field_count'
                WHEN ncols <> layout_ncols THEN 'field_count'
                WHEN start_text = '' THEN 'required'
                WHEN start_local IS NULL THEN 'type'
                WHEN end_text = '' THEN 'required'
                WHEN end_local IS NULL THEN 'type'
                WHEN answer_text <> '' AND answer_local IS NULL THEN 'type'
                WHEN disposition NOT IN {_in(DISPOSITIONS)} THEN 'allowed_values'
            END AS rule,
            CASE
                WHEN contains(raw, chr(65533)) OR dup_file_idx IS NOT NULL OR NOT well_formed OR NOT known_layout OR ncols <> layout_ncols THEN NULL
                WHEN start_text = '' OR start_local IS NULL THEN 'start'
                WHEN end_text = '' OR end_local IS NULL THEN 'end'
                WHEN answer_text <> '' AND answer_local IS NULL THEN 'answer'
                WHEN disposition NOT IN {_in(DISPOSITIONS)} THEN 'disposition'
            END AS field,
            CASE
                WHEN contains(raw, chr(65533)) THEN 'bytes that are not valid ' || encoding || ' (shown as U+FFFD)'
                WHEN dup_file_idx IS NOT NULL THEN 'the same record as line ' || dup_line_no || ' of ' || n.dup_name
                    || ', ingested before: one call, counted once'
                WHEN NOT well_formed THEN 'unbalanced quotes: the line cannot be split into fields'
                WHEN NOT known_layout THEN ncols || ' columns: not a cdr_csv layout (16 to 21 columns)'
                WHEN ncols <> layout_ncols THEN ncols || ' columns where this file has ' || layout_ncols
                WHEN start_text = '' THEN 'start is required but empty'
                WHEN start_local IS NULL THEN 'start: cannot read ''' || left(start_text, 40) || ''' as YYYY-MM-DD HH:MM:SS'
                WHEN end_text = '' THEN 'end is required but empty'
                WHEN end_local IS NULL THEN 'end: cannot read ''' || left(end_text, 40) || ''' as YYYY-MM-DD HH:MM:SS'
                WHEN answer_text <> '' AND answer_local IS NULL THEN 'answer: cannot read ''' || left(answer_text, 40) || ''' as YYYY-MM-DD HH:MM:SS'
                WHEN disposition NOT IN {_in(DISPOSITIONS)} THEN 'disposition: unknown code ''' || left(disposition, 40) || ''' (allowed: {', '.join(DISPOSITIONS)})'
            END AS message
        FROM _cdr_parsed LEFT JOIN {names} ON n.dup_idx = dup_file_idx"""
    )

    # Local -> UTC. Where the clocks went back a local time has two readings; of the pairs of
    # readings of start and end, the one whose length matches `duration` wins (DuckDB's own
    # reading, the later one, on a tie); answer is read the way closest to end - billsec.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _cdr_times AS
        WITH readings AS (
            SELECT file_idx, line_no, duration, billsec,
                   {utc('start_local')} AS s1, {earlier_reading('start_local')} AS s2,
                   {utc('end_local')} AS e1, {earlier_reading('end_local')} AS e2,
                   {utc('answer_local')} AS a1, {earlier_reading('answer_local')} AS a2
            FROM _cdr_class WHERE rule IS NULL
        ), scored AS (
            SELECT *,
                   abs(epoch(e1) - epoch(s1) - coalesce(duration, 0)) AS d11,
                   abs(epoch(e1) - epoch(s2) - coalesce(duration, 0)) AS d21,
                   abs(epoch(e2) - epoch(s1) - coalesce(duration, 0)) AS d12,
                   abs(epoch(e2) - epoch(s2) - coalesce(duration, 0)) AS d22
            FROM readings
        ), chosen AS (
            SELECT file_idx, line_no, billsec, a1, a2,
                   CASE WHEN duration IS NULL OR d11 <= least(d21, d12, d22) THEN s1
                        WHEN d21 <= least(d12, d22) THEN s2
                        WHEN d12 <= d22 THEN s1 ELSE s2 END AS started_at,
                   CASE WHEN duration IS NULL OR d11 <= least(d21, d12, d22) THEN e1
                        WHEN d21 <= least(d12, d22) THEN e1
                        WHEN d12 <= d22 THEN e2 ELSE e2 END AS ended_at
            FROM scored
        )
        , answered AS (
            SELECT file_idx, line_no, started_at, ended_at,
                   CASE WHEN billsec IS NULL
                             OR abs(epoch(ended_at) - epoch(a1) - billsec) <= abs(epoch(ended_at) - epoch(a2) - billsec)
                        THEN a1 ELSE a2 END AS answered_at
            FROM chosen
        )
        SELECT *, CASE WHEN ended_at < started_at THEN 'end'
                       WHEN answered_at < started_at OR answered_at > ended_at THEN 'answer' END AS range_field
        FROM answered"""
    )

    def peer(ch: str) -> str:
        return f"regexp_replace(regexp_replace({ch}, '^[^/]*/', ''), '-[^-]*$', '')"

    def tech(ch: str) -> str:
        return f"upper(split_part({ch}, '/', 1))"

    def is_trunk(ch: str) -> str:
        return (
            f"({ch} LIKE '%/%' AND {tech(ch)} NOT IN {_in(NEVER_TRUNK_TECHS)} "
            f"AND ({tech(ch)} IN {_in(ALWAYS_TRUNK_TECHS)} OR NOT regexp_full_match({peer(ch)}, '{EXTENSION_PEER}')))"
        )

    def trunk_id(ch: str) -> str:
        return f"CASE WHEN {tech(ch)} IN {_in(ALWAYS_TRUNK_TECHS)} THEN split_part({ch}, '/', 1) || '/' || {peer(ch)} ELSE {peer(ch)} END"

    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _cdr_legs AS
        WITH checked AS (
            SELECT c.*, t.started_at, t.answered_at, t.ended_at, t.range_field
            FROM _cdr_class c JOIN _cdr_times t USING (file_idx, line_no)
        ), directed AS (
            SELECT *,
                   CASE WHEN {_prefix_test('dcontext', INBOUND_CONTEXT_PREFIXES)} THEN 'inbound'
                        WHEN {_prefix_test('dcontext', OUTBOUND_CONTEXT_PREFIXES)}
                             AND ({is_trunk('dstchannel')}
                                  OR (dstchannel = '' AND regexp_full_match(dst, '{EXTERNAL_NUMBER}'))) THEN 'outbound'
                        ELSE 'internal' END AS direction
            FROM checked WHERE range_field IS NULL
        )
        SELECT *,
               CASE direction
                   WHEN 'inbound' THEN CASE WHEN {is_trunk('channel')} THEN {trunk_id('channel')} END
                   WHEN 'outbound' THEN CASE WHEN {is_trunk('dstchannel')} THEN {trunk_id('dstchannel')} END
               END AS trunk_id,
               -- Asterisk 12+ writes several records per calling channel (one per party dialled):
               -- the first (answered before unanswered) keeps the uniqueid, the others get #2, #3, ...;
               -- identical lines share one id.
               CASE WHEN uniqueid IS NULL THEN 'cdr-' || left(md5(concat_ws('|', channel, start_text, src, dst, dstchannel)), 16)
                    WHEN dense_rank() OVER same_uniqueid = 1 THEN uniqueid
                    ELSE uniqueid || '#' || dense_rank() OVER same_uniqueid
               END AS leg_id
        FROM directed
        WINDOW same_uniqueid AS (PARTITION BY uniqueid ORDER BY started_at, answered_at NULLS LAST, ended_at, dstchannel, raw)"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _cdr_status AS
        SELECT file_idx, line_no, false AS mapped, field, rule, message FROM _cdr_class WHERE rule IS NOT NULL
        UNION ALL
        SELECT c.file_idx, c.line_no, false, t.range_field, 'range',
               CASE t.range_field
                   WHEN 'end' THEN 'end ' || c.end_text || ' is before start ' || c.start_text || ' ({tz} local time)'
                   ELSE 'answer ' || c.answer_text || ' is outside start ' || c.start_text || ' to end ' || c.end_text END
        FROM _cdr_class c JOIN _cdr_times t USING (file_idx, line_no)
        WHERE t.range_field IS NOT NULL
        UNION ALL
        SELECT file_idx, line_no, true, NULL, NULL, NULL FROM _cdr_legs"""
    )

    legs_sql = f"""
        SELECT leg_id, coalesce(linkedid, uniqueid, leg_id) AS call_id, direction,
               nullif(src, '') AS caller_number, nullif(dst, '') AS dialled_number, trunk_id,
               '{site_id.replace("'", "''")}' AS site_id, CAST(NULL AS VARCHAR) AS agent_id,
               started_at, answered_at, ended_at, disposition
        FROM _cdr_legs"""
    files_out, n = write_contract_files(con, "pbx_call_legs", legs_sql, "started_at", landing, suffix)
    progress(f"{FORMAT}: {n} pbx_call_legs rows in {len(files_out)} landing file(s)")
    result = AdapterResult(
        FORMAT, reconcile(con, FORMAT, files, "_cdr_lines", "_cdr_status"), {"pbx_call_legs": n}, files_out
    )
    for t in ("_cdr_lines", "_cdr_split", "_cdr_layout", "_cdr_parsed", "_cdr_class", "_cdr_times", "_cdr_legs", "_cdr_status"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return result
