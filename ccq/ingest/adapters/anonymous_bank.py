"""The "Anonymous Bank" call records (Technion SEE laboratory, 1999) onto the raw contract.

One tab-separated row per call that entered the bank's VRU becomes one raw.ivr_sessions row;
calls that reached an agent or the agent queue also become a queue leg in
raw.acd_queue_events; the agents seen make a daily raw.hr_roster snapshot. PHANTOM rows and
rows that cannot be read are quarantined. The mapping, and where each quirk of the data stays
visible, is in docs/adapters/anonymous_bank.md.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import duckdb

from ccq.ingest.adapters.base import (AdapterResult, Source, SourceFile, read_lines, record_source,
                                      write_contract_files, write_header_only)

FORMAT = "anonymous-bank"
SITE_ID = "AB"
TEAM_ID = "AB-T1"
NO_SERVER = "NO_SERVER"
FIELDS = ("vru+line", "call_id", "customer_id", "priority", "type", "date", "vru_entry", "vru_exit", "vru_time",
          "q_start", "q_exit", "q_time", "outcome", "ser_start", "ser_exit", "ser_time", "server")
TIME_FIELDS = ("vru_entry", "vru_exit", "q_start", "q_exit", "ser_start", "ser_exit")
SERVICE_TYPES = ("PS", "PE", "IN", "NE", "NW", "TT")
PRIORITIES = ("0", "1", "2")
OUTCOMES = ("AGENT", "HANG", "PHANTOM")
# A clock time more than 12 hours before the VRU entry belongs to the next day (a call that
# crosses midnight); nothing in a call lasts that long, and the VRU clock, a few minutes off
# at worst, is not taken for a new day.
NEXT_DAY_BEFORE_ENTRY_SECONDS = 12 * 3600


def _field(i: int) -> str:
    return f"trim(f[{i + 1}])"


def _seconds(expr: str) -> str:
    return (f"CASE WHEN regexp_full_match({expr}, '[0-9]{{1,2}}:[0-5][0-9]:[0-5][0-9]') "
            f"THEN CAST(epoch(try_cast({expr} AS TIME)) AS INTEGER) END")


def _sql_text(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _check_header(con: duckdb.DuckDBPyConnection, src: int, path: Path) -> int:
    """Line number of the header (0 when the file has none); a wrong header stops the file."""
    row = con.execute(
        "SELECT line_no, line FROM _ab_lines WHERE src = ? AND trim(coalesce(line, '')) <> '' ORDER BY line_no LIMIT 1",
        [src],
    ).fetchone()
    if row is None or not row[1].lstrip("\ufeff").startswith(FIELDS[0]):
        return 0
    got = tuple(h.strip() for h in row[1].lstrip("\ufeff").split("\t"))
    if got != FIELDS:
        raise ValueError(f"{path}: header is not the Anonymous Bank layout: expected {' '.join(FIELDS)}, got {' '.join(got)}")
    return int(row[0])


def _stage_rows(con: duckdb.DuckDBPyConnection) -> None:
    idx = {name: i for i, name in enumerate(FIELDS)}
    cols = [
        f"{_field(idx['vru+line'])} AS vru_line",
        f"{_field(idx['call_id'])} AS call_id",
        f"{_field(idx['customer_id'])} AS customer_id",
        f"{_field(idx['priority'])} AS priority",
        f"{_field(idx['type'])} AS service_type",
        f"{_field(idx['date'])} AS date_text",
        f"CAST(try_strptime({_field(idx['date'])}, '%y%m%d') AS DATE) AS call_date",
        f"{_field(idx['outcome'])} AS outcome",
        f"{_field(idx['server'])} AS server",
    ]
    for name in TIME_FIELDS:
        cols += [f"{_field(idx[name])} AS {name}", f"{_seconds(_field(idx[name]))} AS {name}_s"]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ab_rows AS
        SELECT src, line_no, line AS raw_text, len(f) AS n_fields, {', '.join(cols)}
        FROM (SELECT l.*, string_split(l.line, chr(9)) AS f
              FROM _ab_lines l LEFT JOIN _ab_headers h USING (src)
              WHERE trim(coalesce(l.line, '')) <> '' AND l.line_no <> coalesce(h.header_line, 0))""")


def _stage_quarantine(con: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    """One row per (line, broken rule): the loader's convention for audit.quarantine."""
    checks = [
        (None, "parse", f"n_fields <> {len(FIELDS)}",
         f"'expected {len(FIELDS)} tab-separated fields, found ' || n_fields"),
        (None, "encoding", "contains(raw_text, chr(65533))", "'bytes that are not valid in the file''s encoding'"),
        ("vru+line", "required", "vru_line = ''", "'vru+line is required but empty'"),
        ("call_id", "required", "call_id = ''", "'call_id is required but empty'"),
        ("date", "type", "call_date IS NULL", "'date: cannot read ''' || left(date_text, 60) || ''' as YYMMDD'"),
        ("type", "allowed_values", f"service_type NOT IN ({', '.join(map(_sql_text, SERVICE_TYPES))})",
         f"'type: unknown service type ''' || left(service_type, 60) || ''' (allowed: {', '.join(SERVICE_TYPES)})'"),
        ("priority", "allowed_values", f"priority NOT IN ({', '.join(map(_sql_text, PRIORITIES))})",
         f"'priority: unknown code ''' || left(priority, 60) || ''' (allowed: {', '.join(PRIORITIES)})'"),
        ("outcome", "allowed_values", f"outcome NOT IN ({', '.join(map(_sql_text, OUTCOMES))})",
         f"'outcome: unknown code ''' || left(outcome, 60) || ''' (allowed: {', '.join(OUTCOMES)})'"),
        ("server", "required", "outcome = 'AGENT' AND server = ''", "'server is required on an AGENT call but empty'"),
        ("outcome", "phantom", "outcome = 'PHANTOM'",
         "'PHANTOM call (vanished, not a real call): ignored as a call, kept here to be counted'"),
    ]
    for name in TIME_FIELDS:
        checks.append((name, "type", f"{name}_s IS NULL", f"'{name}: cannot read ''' || left({name}, 60) || ''' as H:MM:SS'"))
    well_formed = f"n_fields = {len(FIELDS)}"
    parts = []
    for field, rule, cond, msg in checks:
        guard = cond if rule in ("parse", "encoding") else f"{well_formed} AND ({cond})"
        parts.append(f"SELECT src, line_no, {_sql_text(field) if field else 'NULL'} AS field, '{rule}' AS rule, "
                     f"{msg} AS message, raw_text FROM _ab_rows WHERE {guard}")
    con.execute("CREATE OR REPLACE TEMP TABLE _ab_bad AS " + " UNION ALL ".join(parts))
    # A call delivered twice (same vru+line, call_id and date) would silently replace itself
    # downstream; the first occurrence is mapped, the repeats are shown here.
    con.execute(f"""
        INSERT INTO _ab_bad
        SELECT src, line_no, 'call_id', 'duplicate',
               'same vru+line, call_id and date as line ' || first_line
               || CASE WHEN first_src <> src THEN ' of ' || list_extract(?, first_src + 1) ELSE '' END, raw_text
        FROM (SELECT *, row_number() OVER w AS nth,
                     first_value(line_no) OVER w AS first_line, first_value(src) OVER w AS first_src
              FROM _ab_rows WHERE {well_formed} AND vru_line <> '' AND call_id <> ''
              WINDOW w AS (PARTITION BY vru_line, call_id, date_text ORDER BY src, line_no))
        WHERE nth > 1""", [names])


def _stage_calls(con: duckdb.DuckDBPyConnection, tz: str) -> None:
    def utc(name: str) -> str:
        s = f"{name}_s"
        local = (f"(call_date + to_seconds({s} + CASE WHEN {s} < vru_entry_s - {NEXT_DAY_BEFORE_ENTRY_SECONDS} "
                 f"THEN 86400 ELSE 0 END))")
        return f"timezone('UTC', timezone({_sql_text(tz)}, {local}))"

    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ab_calls AS
        WITH mapped AS (
            SELECT r.* FROM _ab_rows r ANTI JOIN _ab_bad b ON r.src = b.src AND r.line_no = b.line_no
        ),
        times AS (
            SELECT *,
                vru_line || '-' || call_id || '-' || date_text AS contact_id,
                CASE WHEN ltrim(customer_id, '0') = '' THEN NULL ELSE customer_id END AS customer_id_out,
                'AB_' || service_type AS queue_id,
                CASE WHEN server = '{NO_SERVER}' THEN 'AB-{NO_SERVER}' ELSE 'AB-' || left(md5(server), 8) END AS agent_id,
                outcome = 'AGENT' AS served,
                -- q_start 0:00:00 means "never queued" unless the queue exit says it started at midnight.
                q_start_s <> 0 OR q_exit_s <> 0 AS queued,
                ser_start_s <> 0 OR ser_exit_s <> 0 AS has_service,
                {utc('vru_entry')} AS vru_in, {utc('vru_exit')} AS vru_out,
                CAST(vru_exit_s < vru_entry_s AS INTEGER) * (vru_entry_s - vru_exit_s) AS vru_entry_late_s,
                {utc('q_start')} AS q_in, {utc('q_exit')} AS q_out,
                {utc('ser_start')} AS s_in, {utc('ser_exit')} AS s_out
            FROM mapped
        ),
        legs AS (
            SELECT *,
                CASE WHEN queued THEN q_in ELSE vru_out END AS entry_raw,
                CASE WHEN NOT served THEN NULL WHEN has_service THEN s_in WHEN queued THEN q_out ELSE vru_out END AS connect_at
            FROM times
        )
        SELECT *,
            -- Service can start a moment before the recorded queue entry (clocks not in step):
            -- the entry moves back to the service start, so a wait is never negative.
            CASE WHEN served THEN least(entry_raw, connect_at) ELSE entry_raw END AS entry_at,
            CASE WHEN served THEN date_diff('second', least(entry_raw, connect_at), entry_raw) ELSE 0 END AS entry_moved_s,
            CASE WHEN NOT served AND queued THEN greatest(q_out, q_in) END AS abandon_at
        FROM legs""")


def _ivr_sql() -> str:
    # A VRU entry recorded after the VRU exit (the exit agrees with the queue start; the entry
    # clock is off) starts the session at the exit: a session never lasts less than 0 s.
    return """
        SELECT contact_id AS session_id, contact_id, CAST(NULL AS VARCHAR) AS caller_number,
               customer_id_out AS customer_id, least(vru_in, vru_out) AS entered_at, vru_out AS exited_at,
               service_type AS menu_path,
               CASE WHEN served OR queued THEN 'TO_AGENT' ELSE 'HANGUP' END AS outcome
        FROM _ab_calls"""


def _acd_sql() -> str:
    def event(kind: str, at: str, agent: str, customer: str, detail: str, where: str) -> str:
        return f"""
        SELECT contact_id || ':{kind}' AS event_id, contact_id, 1 AS queue_leg, {at} AS event_at,
               '{kind}' AS event_type, queue_id, {agent} AS agent_id, CAST(NULL AS VARCHAR) AS caller_number,
               {customer} AS customer_id, {detail} AS detail
        FROM _ab_calls WHERE {where}"""

    null = "CAST(NULL AS VARCHAR)"
    enter_detail = ("concat_ws(';', 'priority=' || priority, CASE WHEN NOT queued THEN 'no_queue' END, "
                    "CASE WHEN entry_moved_s > 0 THEN 'entry_moved_back=' || entry_moved_s || 's' END, "
                    "CASE WHEN vru_entry_late_s > 0 THEN 'vru_entry_after_exit=' || vru_entry_late_s || 's' END)")
    return " UNION ALL ".join([
        event("ENTERQUEUE", "entry_at", null, "customer_id_out", enter_detail, "served OR queued"),
        event("CONNECT", "connect_at", "agent_id", null,
              f"CASE WHEN NOT has_service THEN 'no_service_times' ELSE {null} END", "served"),
        event("COMPLETE", "s_out", "agent_id", null, null, "served AND has_service"),
        event("ACWEND", "s_out", "agent_id", null, null, "served AND has_service"),
        event("ABANDON", "abandon_at", null, null,
              f"CASE WHEN has_service THEN 'service_times_ignored' ELSE {null} END", "NOT served AND queued"),
    ])


def _roster_sql() -> str:
    # Every month ingested is mapped together, so an agent's first day is their first call in any of them.
    return f"""
        WITH agents AS (
            SELECT agent_id, min(server) AS agent_name, min(call_date) AS first_day
            FROM _ab_calls WHERE served GROUP BY agent_id
        ),
        days AS (SELECT DISTINCT call_date AS snapshot_date FROM _ab_calls)
        SELECT a.agent_id, a.agent_name, '{TEAM_ID}' AS team_id, CAST(NULL AS VARCHAR) AS supervisor_id,
               '{SITE_ID}' AS site_id, a.first_day AS hire_date, CAST(NULL AS DATE) AS leave_date,
               CAST(NULL AS VARCHAR) AS employment_type, CAST(NULL AS DOUBLE) AS weekly_hours, d.snapshot_date
        FROM agents a JOIN days d ON a.first_day <= d.snapshot_date"""


def _empty_days(con, table_name: str, tz: str, landing: Path, suffix: str) -> list[Path]:
    """A header-only extract for every UTC day the source's local days touch without a row
    (the centre is closed at night): the source was delivered for that day and had nothing,
    which is not the same as an extract that never came."""
    first, last = con.execute(f"""
        SELECT CAST(timezone('UTC', timezone({_sql_text(tz)}, CAST(min(call_date) AS TIMESTAMP))) AS DATE),
               CAST(timezone('UTC', timezone({_sql_text(tz)}, CAST(max(call_date) + 1 AS TIMESTAMP))) - INTERVAL 1 SECOND AS DATE)
        FROM _ab_calls""").fetchone()
    if first is None:
        return []
    out = []
    for (day,) in con.execute("SELECT CAST(unnest(range(?::DATE, ?::DATE + 1, INTERVAL 1 DAY)) AS DATE)", [first, last]).fetchall():
        path = landing / table_name / f"{table_name}_{day.isoformat()}{suffix}.csv"
        if not path.is_file() or path.is_symlink():
            write_header_only(path, table_name)
            out.append(path)
    return out


def _notes(con: duckdb.DuckDBPyConnection, src: int) -> tuple[str, ...]:
    counts = con.execute(f"""
        SELECT
            (SELECT count(DISTINCT line_no) FROM _ab_bad WHERE src = $1 AND rule = 'phantom'),
            count(*) FILTER (WHERE served AND server = '{NO_SERVER}'),
            count(*) FILTER (WHERE served AND NOT queued),
            count(*) FILTER (WHERE served AND NOT has_service),
            count(*) FILTER (WHERE NOT served AND NOT queued),
            count(*) FILTER (WHERE NOT served AND queued),
            count(*) FILTER (WHERE NOT served AND queued AND has_service),
            count(*) FILTER (WHERE served AND has_service AND ser_exit_s < ser_start_s),
            count(*) FILTER (WHERE entry_moved_s > 0),
            coalesce(max(entry_moved_s), 0),
            count(*) FILTER (WHERE vru_exit_s < vru_entry_s),
            count(*) FILTER (WHERE queued AND q_start_s = 0)
        FROM _ab_calls WHERE src = $1""", [src]).fetchone()
    labels = [
        "PHANTOM rows quarantined (rule phantom), not mapped",
        "AGENT calls served by NO_SERVER, mapped to agent AB-NO_SERVER",
        "AGENT calls with no queue record (q_start 0:00:00), queue entry at VRU exit",
        "AGENT calls without service times: CONNECT only, no COMPLETE (detail no_service_times)",
        "HANG calls that left in the VRU: ivr_sessions HANGUP, no queue events",
        "HANG calls that abandoned the queue: ABANDON at q_exit",
        "HANG calls in the queue with service times, ignored (detail service_times_ignored)",
        "services that run past midnight (ser_exit on the next day)",
        "queue entries moved back to the service start, never a negative wait (detail entry_moved_back)",
        "largest such move, seconds",
        "calls whose VRU exit is before the VRU entry (negative vru_time): IVR entry taken at the exit "
        "(detail vru_entry_after_exit)",
        "queues that start at exactly midnight (q_start 0:00:00 with a queue exit), kept as queued",
    ]
    return tuple(f"{label}: {n}" for label, n in zip(labels, counts))


def anonymous_bank(
    con: duckdb.DuckDBPyConnection,
    paths: list[Source],
    landing: Path,
    suffix: str,
    site_time_zone: str,
    progress: Callable[[str], None],
) -> AdapterResult:
    result = AdapterResult(format=FORMAT)
    if not paths:
        return result
    try:
        con.execute("SELECT timezone(?, TIMESTAMP '2000-01-01')", [site_time_zone])
    except duckdb.Error as e:
        raise ValueError(f"unknown site time zone {site_time_zone!r}") from e
    landing = Path(landing)

    con.execute("CREATE OR REPLACE TEMP TABLE _ab_headers (src INTEGER, header_line BIGINT)")
    try:
        progress(f"anonymous-bank: reading {', '.join(p.name for p in paths)}")
        read_lines(con, paths, "_ab_raw_lines")
        con.execute("CREATE OR REPLACE TEMP TABLE _ab_lines AS SELECT file_idx AS src, line_no, raw AS line FROM _ab_raw_lines")
        for i, path in enumerate(paths):
            con.execute("INSERT INTO _ab_headers VALUES (?, ?)", [i, _check_header(con, i, path)])
        _stage_rows(con)
        _stage_quarantine(con, [p.name for p in paths])
        _stage_calls(con, site_time_zone)

        # Every month ingested so far is mapped again together, into files of this adapter's own
        # (the suffix): another source's extracts for the same days stay as they are.
        for table_name, sql, day_expr in (
            ("ivr_sessions", _ivr_sql(), "entered_at"),
            ("acd_queue_events", _acd_sql(), "event_at"),
            ("hr_roster", _roster_sql(), "snapshot_date"),
        ):
            files, n = write_contract_files(con, table_name, sql, day_expr, landing, suffix)
            if table_name != "hr_roster":
                files += _empty_days(con, table_name, site_time_zone, landing, suffix)
            result.files += files
            result.written[table_name] = n
            progress(f"anonymous-bank: {n:,} {table_name} rows in {len(files)} landing files")

        for i, path in enumerate(paths):
            read, quarantined = con.execute(
                "SELECT (SELECT count(*) FROM _ab_rows WHERE src = $1), "
                "(SELECT count(DISTINCT line_no) FROM _ab_bad WHERE src = $1)", [i]).fetchone()
            mapped = con.execute("SELECT count(*) FROM _ab_calls WHERE src = ?", [i]).fetchone()[0]
            src = SourceFile(path, int(read), int(mapped), int(quarantined), _notes(con, i))
            record_source(con, FORMAT, src,
                          "SELECT line_no, field, rule, message, raw_text FROM _ab_bad WHERE src = ?", [i])
            result.sources.append(src)
            progress(f"anonymous-bank: {path.name}: {read:,} rows read = {mapped:,} mapped + {quarantined:,} quarantined")
            for note in src.notes:
                progress(f"anonymous-bank: {path.name}: {note}")
    finally:
        for t in ("_ab_raw_lines", "_ab_lines", "_ab_headers", "_ab_rows", "_ab_bad", "_ab_calls"):
            con.execute(f"DROP TABLE IF EXISTS {t}")
    return result
