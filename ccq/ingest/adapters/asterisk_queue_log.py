"""Asterisk `queue_log` -> raw.acd_queue_events + raw.agent_state_events.

The field-by-field mapping, what is left out and what is quarantined is in
docs/adapters/asterisk.md. Everything runs in DuckDB over all the files given at once, so
a call that starts in one rotated file and ends in the next is one call.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import duckdb

from ccq.ingest.adapters.base import (AdapterResult, Source, MAX_EPOCH, read_lines, reconcile, sql_values,
                                      write_contract_files)

FORMAT = "asterisk-queue-log"
FOLDER_PATTERNS = ("queue_log*",)

# Asterisk event -> contract event_type (raw.acd_queue_events).
CALL_EVENTS = {
    "ENTERQUEUE": "ENTERQUEUE",
    "RINGNOANSWER": "RINGNOANSWER",
    "CONNECT": "CONNECT",
    "COMPLETECALLER": "COMPLETE",
    "COMPLETEAGENT": "COMPLETE",
    "ABANDON": "ABANDON",
    "EXITWITHTIMEOUT": "EXITTIMEOUT",
    "EXITEMPTY": "EXITTIMEOUT",
    "EXITWITHKEY": "EXITTIMEOUT",
    "TRANSFER": "TRANSFER",
    "BLINDTRANSFER": "TRANSFER",
    "ATTENDEDTRANSFER": "TRANSFER",
}
# Order of contract events logged in the same second (ENTERQUEUE first), for leg assignment.
EVENT_RANK = {"ENTERQUEUE": 0, "RINGNOANSWER": 1, "CONNECT": 2, "ABANDON": 2, "EXITTIMEOUT": 2, "COMPLETE": 3, "TRANSFER": 3}

# Asterisk event -> agent action. ADD/REMOVE are queue memberships: the agent is logged in
# while a member of at least one queue.
AGENT_EVENTS = {
    "AGENTLOGIN": "LOGIN",
    "AGENTCALLBACKLOGIN": "LOGIN",
    "AGENTLOGOFF": "LOGOUT",
    "AGENTCALLBACKLOGOFF": "LOGOUT",
    "ADDMEMBER": "ADD",
    "REMOVEMEMBER": "REMOVE",
    "PAUSE": "NOT_READY",
    "PAUSEALL": "NOT_READY",
    "UNPAUSE": "READY",
    "UNPAUSEALL": "READY",
}

# Pause reason (case-insensitive, trimmed) -> contract reason code. Any other non-empty reason
# becomes PERSONAL; an empty reason stays empty. Extend per site.
PAUSE_REASONS = {
    "break": "BREAK", "coffee": "BREAK", "休息": "BREAK",
    "lunch": "LUNCH", "午餐": "LUNCH", "午休": "LUNCH",
    "training": "TRAINING", "培训": "TRAINING",
    "meeting": "MEETING", "会议": "MEETING",
    "system": "SYSTEM", "系统": "SYSTEM",
    "personal": "PERSONAL", "私事": "PERSONAL",
}
UNKNOWN_PAUSE_REASON = "PERSONAL"

# Known events that are not mapped, quarantined with rule `housekeeping` or `not_mapped`.
HOUSEKEEPING = {
    "QUEUESTART": "queue system started; carries no contact or agent data",
    "CONFIGRELOAD": "configuration reloaded; carries no contact or agent data",
}
NOT_MAPPED = {
    "RINGCANCELED": "the caller hung up while an agent was ringing; the ABANDON that follows records the outcome",
    "AGENTDUMP": "agent hung up during the queue announcement; the contract has no event for it",
    "SYSCOMPAT": "agent answered but the channels were incompatible; the contract has no event for it",
    "DID": "dialled number of the call; the contract has no field for it",
    "INFO": "free-text information; the contract has no field for it",
}

NULL_IDS = ("NONE", "REALTIME", "")


# Epoch seconds carry no local time: files ingested with any --time-zone map together.
def asterisk_queue_log(
    con: duckdb.DuckDBPyConnection,
    files: list[Source],
    landing: Path,
    suffix: str,
    site_time_zone: str,
    progress: Callable[[str], None],
) -> AdapterResult:
    read_lines(con, files, "_aq_lines")
    progress(f"{FORMAT}: {con.execute('SELECT count(*) FROM _aq_lines').fetchone()[0]} lines in {len(files)} file(s)")

    null_ids = ", ".join(f"'{v}'" for v in NULL_IDS)

    def ident(expr: str) -> str:
        return f"CASE WHEN upper(trim({expr})) IN ({null_ids}) OR {expr} IS NULL THEN NULL ELSE trim({expr}) END"

    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _aq_parsed AS
        WITH split AS (
            SELECT file_idx, line_no, string_split(raw, '|') AS f, contains(raw, chr(65533)) AS bad_encoding,
                   encoding, dup_file_idx, dup_line_no
            FROM _aq_lines
        ), typed AS (
            SELECT file_idx, line_no, bad_encoding, encoding, dup_file_idx, dup_line_no, len(f) AS n_fields, f[1] AS epoch_text,
                   try_cast(trim(f[1]) AS BIGINT) AS epoch,
                   {ident('f[2]')} AS callid, {ident('f[3]')} AS queue, {ident('f[4]')} AS agent,
                   upper(trim(f[5])) AS event,
                   nullif(trim(f[6]), '') AS d1, nullif(trim(f[7]), '') AS d2
            FROM split
        ), files AS (
            -- Rotated files are processed in the order of their first event, whatever their names.
            SELECT file_idx, row_number() OVER (ORDER BY min(epoch) FILTER (WHERE epoch IS NOT NULL) NULLS LAST, file_idx) AS file_rank
            FROM typed GROUP BY file_idx
        )
        SELECT t.*, fl.file_rank,
               row_number() OVER (ORDER BY t.epoch, fl.file_rank, t.line_no) AS ord
        FROM typed t JOIN files fl USING (file_idx)"""
    )

    call_map = sql_values([(k, v, EVENT_RANK[v]) for k, v in CALL_EVENTS.items()], "c(event, event_type, rank)")
    agent_map = sql_values(list(AGENT_EVENTS.items()), "a(event, action)")
    names = sql_values([(i, f.name) for i, f in enumerate(files)], "n(file_idx, name)")
    skip_map = sql_values(
        [(k, "housekeeping", v) for k, v in HOUSEKEEPING.items()] + [(k, "not_mapped", v) for k, v in NOT_MAPPED.items()],
        "s(event, rule, note)",
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _aq_class AS
        SELECT p.*, c.event_type, c.rank, a.action,
            CASE
                WHEN p.bad_encoding THEN 'encoding'
                WHEN p.dup_file_idx IS NOT NULL THEN 'duplicate'
                WHEN p.n_fields < 5 THEN 'field_count'
                WHEN p.epoch IS NULL THEN 'type'
                WHEN p.epoch NOT BETWEEN 0 AND {MAX_EPOCH} THEN 'range'
                WHEN s.rule IS NOT NULL THEN s.rule
                WHEN c.event_type IS NULL AND a.action IS NULL THEN 'unknown_event'
                WHEN c.event_type IS NOT NULL AND p.callid IS NULL THEN 'required'
                WHEN c.event_type IS NOT NULL AND p.queue IS NULL THEN 'required'
                WHEN a.action IS NOT NULL AND p.agent IS NULL THEN 'required'
            END AS rule,
            CASE
                WHEN p.bad_encoding OR p.dup_file_idx IS NOT NULL THEN NULL
                WHEN p.n_fields < 5 THEN 'event'
                WHEN p.epoch IS NULL OR p.epoch NOT BETWEEN 0 AND {MAX_EPOCH} THEN 'epoch'
                WHEN s.rule IS NOT NULL OR (c.event_type IS NULL AND a.action IS NULL) THEN 'event'
                WHEN c.event_type IS NOT NULL AND p.callid IS NULL THEN 'callid'
                WHEN c.event_type IS NOT NULL AND p.queue IS NULL THEN 'queue'
                WHEN a.action IS NOT NULL AND p.agent IS NULL THEN 'agent'
            END AS field,
            CASE
                WHEN p.bad_encoding THEN 'bytes that are not valid ' || p.encoding || ' (shown as U+FFFD)'
                WHEN p.dup_file_idx IS NOT NULL THEN 'the same line as line ' || p.dup_line_no || ' of ' || n.name
                    || ', ingested before: one event, counted once'
                WHEN p.n_fields < 5 THEN p.n_fields || ' field(s); a queue_log line has at least 5 (epoch|callid|queue|agent|event)'
                WHEN p.epoch IS NULL THEN 'epoch ''' || left(p.epoch_text, 40) || ''' is not a whole number of seconds'
                WHEN p.epoch NOT BETWEEN 0 AND {MAX_EPOCH} THEN 'epoch ' || p.epoch || ' is out of range'
                WHEN s.rule IS NOT NULL THEN p.event || ': ' || s.note
                WHEN c.event_type IS NULL AND a.action IS NULL THEN 'unknown event ''' || left(p.event, 40) || ''''
                WHEN c.event_type IS NOT NULL AND p.callid IS NULL THEN p.event || ' without a call unique id'
                WHEN c.event_type IS NOT NULL AND p.queue IS NULL THEN p.event || ' without a queue name'
                WHEN a.action IS NOT NULL AND p.agent IS NULL THEN p.event || ' without an agent'
            END AS message
        FROM _aq_parsed p
        LEFT JOIN {call_map} ON c.event = p.event
        LEFT JOIN {agent_map} ON a.event = p.event
        LEFT JOIN {skip_map} ON s.event = p.event
        LEFT JOIN {names} ON n.file_idx = p.dup_file_idx"""
    )

    # Queue legs: every ENTERQUEUE of a call opens the next leg; any other event belongs to the
    # latest leg the call entered in the same queue at or before it (ties in a second by rank).
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _aq_calls AS
        WITH calls AS (
            SELECT *, CASE WHEN event_type = 'ENTERQUEUE'
                           THEN row_number() OVER (PARTITION BY callid, event_type = 'ENTERQUEUE' ORDER BY epoch, file_rank, line_no)
                      END AS enter_leg
            FROM _aq_class WHERE rule IS NULL AND event_type IS NOT NULL
        ), legged AS (
            SELECT *, last_value(enter_leg IGNORE NULLS) OVER (
                        PARTITION BY callid, queue ORDER BY epoch, rank, file_rank, line_no
                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS queue_leg,
                   row_number() OVER (PARTITION BY epoch, callid ORDER BY file_rank, line_no) AS k
            FROM calls
        )
        SELECT l.*, nxt.queue AS next_queue
        FROM legged l
        LEFT JOIN calls nxt ON nxt.callid = l.callid AND nxt.enter_leg = l.queue_leg + 1"""
    )

    # Agent membership: ADDMEMBER is a login only when the agent was in no other queue,
    # REMOVEMEMBER a logout only when it leaves the last one.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _aq_agents AS
        WITH agent_lines AS (
            SELECT *, row_number() OVER (PARTITION BY epoch, agent ORDER BY file_rank, line_no) AS k
            FROM _aq_class WHERE rule IS NULL AND action IS NOT NULL
        ), members AS (
            SELECT file_idx, line_no, agent, coalesce(queue, '') AS queue, ord, action = 'ADD' AS is_add
            FROM agent_lines WHERE action IN ('ADD', 'REMOVE')
        ), latest_elsewhere AS (
            SELECT a.file_idx, a.line_no, b.is_add,
                   row_number() OVER (PARTITION BY a.file_idx, a.line_no, b.queue ORDER BY b.ord DESC) AS rn
            FROM members a JOIN members b ON a.agent = b.agent AND b.queue <> a.queue AND b.ord < a.ord
        ), elsewhere AS (
            SELECT file_idx, line_no, count(*) FILTER (WHERE is_add) AS active_elsewhere
            FROM latest_elsewhere WHERE rn = 1 GROUP BY ALL
        )
        SELECT l.*, coalesce(e.active_elsewhere, 0) AS active_elsewhere
        FROM agent_lines l LEFT JOIN elsewhere e USING (file_idx, line_no)"""
    )

    # One status row per line: mapped, or quarantined with its reason.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _aq_status AS
        SELECT file_idx, line_no, false AS mapped, field, rule, message FROM _aq_class WHERE rule IS NOT NULL
        UNION ALL
        SELECT file_idx, line_no, queue_leg IS NOT NULL, CASE WHEN queue_leg IS NULL THEN 'callid' END,
               CASE WHEN queue_leg IS NULL THEN 'orphan' END,
               CASE WHEN queue_leg IS NULL THEN event || ' of call ' || callid || ' in queue ' || queue
                    || ' has no ENTERQUEUE in that queue at or before it in the files given (earlier rotated file missing?)' END
        FROM _aq_calls
        UNION ALL
        SELECT file_idx, line_no, true, NULL, NULL, NULL FROM _aq_agents"""
    )

    queue_events_sql = """
        WITH mapped AS (
            SELECT printf('%d-%s-%03d', epoch, callid, k) AS event_id, callid AS contact_id,
                   CAST(queue_leg AS INTEGER) AS queue_leg, make_timestamp(epoch * 1000000) AS event_at,
                   event_type, queue AS queue_id,
                   CASE WHEN event_type IN ('ENTERQUEUE', 'ABANDON', 'EXITTIMEOUT') THEN NULL ELSE agent END AS agent_id,
                   CASE WHEN event_type = 'ENTERQUEUE' THEN d2 END AS caller_number,
                   CAST(NULL AS VARCHAR) AS customer_id,
                   CASE event
                       WHEN 'COMPLETECALLER' THEN 'caller'
                       WHEN 'COMPLETEAGENT' THEN 'agent'
                       WHEN 'EXITWITHTIMEOUT' THEN 'timeout'
                       WHEN 'EXITEMPTY' THEN 'empty'
                       WHEN 'EXITWITHKEY' THEN 'key:' || coalesce(d1, '')
                       WHEN 'ATTENDEDTRANSFER' THEN coalesce(next_queue, concat_ws(':', d1, d2))
                       WHEN 'TRANSFER' THEN coalesce(next_queue, concat_ws('@', d1, d2))
                       WHEN 'BLINDTRANSFER' THEN coalesce(next_queue, concat_ws('@', d1, d2))
                   END AS detail
            FROM _aq_calls WHERE queue_leg IS NOT NULL
        )
        SELECT * FROM mapped
        UNION ALL
        -- queue_log has no after-call-work event: work ends when talk ends (ACW = 0).
        SELECT event_id || ':ACWEND', contact_id, queue_leg, event_at, 'ACWEND', queue_id, agent_id,
               NULL, NULL, NULL
        FROM mapped WHERE event_type IN ('COMPLETE', 'TRANSFER')"""

    reasons = sql_values(list(PAUSE_REASONS.items()), "r(reason_lc, code)")
    # The agent field may be a person's name (a member name): the id carries a digest of it, not the name.
    agent_states_sql = f"""
        WITH states AS (
            SELECT printf('%d-%s-%03d', epoch, left(md5(agent), 12), k) AS event_id, agent AS agent_id,
                   make_timestamp(epoch * 1000000) AS event_at,
                   CASE action WHEN 'ADD' THEN 'LOGIN' WHEN 'REMOVE' THEN 'LOGOUT' ELSE action END AS state,
                   CASE WHEN action = 'NOT_READY' AND d1 IS NOT NULL THEN coalesce(r.code, '{UNKNOWN_PAUSE_REASON}') END AS reason,
                   ord, 0 AS sub
            FROM _aq_agents a LEFT JOIN {reasons} ON r.reason_lc = lower(a.d1)
            WHERE NOT (action IN ('ADD', 'REMOVE') AND active_elsewhere > 0)
            UNION ALL
            -- A login makes the agent available at once.
            SELECT printf('%d-%s-%03d', epoch, left(md5(agent), 12), k) || ':READY', agent, make_timestamp(epoch * 1000000),
                   'READY', NULL, ord, 1
            FROM _aq_agents
            WHERE action = 'LOGIN' OR (action = 'ADD' AND active_elsewhere = 0)
        ), changes AS (
            -- The same state logged once per queue in the same second (PAUSE per queue, PAUSEALL) is one change.
            SELECT *, lag(event_at) OVER w = event_at AND lag(state) OVER w = state
                      AND lag(reason) OVER w IS NOT DISTINCT FROM reason AS repeated
            FROM states WINDOW w AS (PARTITION BY agent_id ORDER BY ord, sub)
        )
        SELECT event_id, agent_id, event_at, state, reason FROM changes WHERE NOT coalesce(repeated, false)"""

    files_out: list[Path] = []
    written: dict[str, int] = {}
    for table, sql in (("acd_queue_events", queue_events_sql), ("agent_state_events", agent_states_sql)):
        paths, n = write_contract_files(con, table, sql, "event_at", landing, suffix)
        files_out += paths
        written[table] = n
        progress(f"{FORMAT}: {n} {table} rows in {len(paths)} landing file(s)")

    result = AdapterResult(FORMAT, reconcile(con, FORMAT, files, "_aq_lines", "_aq_status"), written, files_out)
    for t in ("_aq_lines", "_aq_parsed", "_aq_class", "_aq_calls", "_aq_agents", "_aq_status"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return result
