"""FreeSWITCH CDRs -> raw.acd_queue_events (calls that went through `mod_callcenter`) and
raw.pbx_call_legs (every call leg), in two formats:

- `freeswitch-json`: `mod_json_cdr`, one JSON object per line;
- `freeswitch-csv`: `mod_cdr_csv` with the stock `example` template (pbx legs only) or the `ccq`
  template (the example's 15 columns + 9 `mod_callcenter` variables: queue events as well).

The field-by-field mapping, what is left out and what is quarantined is in
docs/adapters/freeswitch.md. Everything runs in DuckDB over all the files ingested so far, so a
call leg delivered again in a later file counts once, and an agent leg maps with the caller's
leg whichever file brought each. Both formats share the queue rules (`_member_checks`,
`_queue_events_sql`), the classification (`_classify`) and the output (`_finish`).

About 500 lines on purpose: the two formats share the queue rules, the classification and
the output named above; one file keeps the two mappings side by side.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import duckdb

from ccq.ingest.adapters.base import (AdapterResult, Source, MAX_EPOCH, checks_case, quoted_head, read_lines,
                                      reconcile, site_for, sql_values, write_contract_files)

FORMAT = "freeswitch-json"
# mod_json_cdr writes `<uuid>.cdr.json` (`a_<uuid>.cdr.json` with prefix-a-leg); files
# concatenated or collected by an HTTP receiver are often .jsonl / .ndjson.
FOLDER_PATTERNS = ("*.json", "*.jsonl", "*.ndjson")
LOCAL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # start_stamp, answer_stamp, end_stamp: local time of the switch

# Channel variables read (url-decoded: mod_json_cdr's encode-values, on by default, URL-encodes them).
VARIABLES = (
    "uuid", "originating_leg_uuid", "direction", "sip_gateway", "sip_gateway_name", "hangup_cause",
    "sip_hangup_disposition", "hold_events",
    "start_uepoch", "start_epoch", "start_stamp", "answer_uepoch", "answer_epoch", "answer_stamp",
    "end_uepoch", "end_epoch", "end_stamp",
    "cc_side", "cc_queue", "cc_agent", "cc_member_session_uuid", "cc_queue_joined_epoch", "cc_queue_answered_epoch",
    "cc_queue_terminated_epoch", "cc_queue_canceled_epoch", "cc_cause", "cc_cancel_reason", "cc_exit_key",
)
# Caller profile of the call's first dialplan pass: the last element of the `callflow` array
# (newest first), or the `callflow` object of FreeSWITCH before 1.8, which repeated the key.
PROFILE = ("caller_id_number", "destination_number", "context")

# cc_cancel_reason -> detail of EXITTIMEOUT. BREAK_OUT (and NONE) is an abandon when the caller's
# channel hung up as it left the queue, else the dialplan took the call out (callcenter_break, a transfer).
CANCEL_REASONS = {"BREAK_OUT": "break_out", "NONE": "none", "TIMEOUT": "timeout",
                  "NO_AGENT_TIMEOUT": "no_agent_timeout", "EXIT_WITH_KEY": "key:"}
CC_CAUSES = ("answered", "cancel")
# Seconds between leaving the queue (or the end of the agent's bridge) and the end of the caller's
# channel within which the caller's hang-up ended the queue leg (ABANDON, COMPLETE by the caller).
HANGUP_TOLERANCE_S = 1
# An agent leg mod_callcenter rang that ended unanswered with one of these causes is a
# RINGNOANSWER; ORIGINATOR_CANCEL (the caller left, another agent won the ring-all), LOSE_RACE
# and the like are not the agent's.
RING_NO_ANSWER_CAUSES = ("NO_ANSWER", "NO_USER_RESPONSE", "USER_BUSY", "CALL_REJECTED")
# Unanswered legs: hangup_cause -> pbx disposition; any other cause is FAILED.
DISPOSITIONS = {
    "USER_BUSY": "BUSY",
    "NORMAL_CIRCUIT_CONGESTION": "CONGESTION", "SWITCH_CONGESTION": "CONGESTION",
    "NORMAL_CLEARING": "NO ANSWER", "NO_ANSWER": "NO ANSWER", "NO_USER_RESPONSE": "NO ANSWER",
    "ORIGINATOR_CANCEL": "NO ANSWER", "LOSE_RACE": "NO ANSWER", "PICKED_OFF": "NO ANSWER",
    "ALLOTTED_TIMEOUT": "NO ANSWER",
}
# An inbound-direction leg (the switch did not originate it) is a call from outside when it came
# from a gateway (`sip_gateway`) or its first dialplan context is one of these (vanilla: public).
INBOUND_CONTEXTS = ("public",)
HOLD_EVENT = r"\{([0-9]+),([0-9]+)\}"
CC_TIMES = ("joined", "answered", "terminated", "canceled")  # cc_queue_<t>_epoch
# A caller's leg through mod_callcenter (cc_side member, or cc_queue without cc_side); an agent leg.
CC_SIDES = ("cc_side = 'agent' AS is_agent, "
            "coalesce(cc_side = 'member', cc_side IS NULL AND cc_queue IS NOT NULL) AS is_member")

CSV_FORMAT = "freeswitch-csv"
# mod_cdr_csv writes <log-base>/cdr-csv/Master.csv (renamed Master.csv.<Y-m-d-H-M-S> on rotation)
# and, unless master-file-only, <accountcode>.csv repeating Master.csv's records: skipped in a folder.
CSV_FOLDER_PATTERNS = ("Master.csv*",)
# The stock `example` template of conf/vanilla/autoload_configs/cdr_csv.conf.xml, in order.
EXAMPLE_COLUMNS = ("caller_id_name", "caller_id_number", "destination_number", "context", "start_stamp",
                   "answer_stamp", "end_stamp", "duration", "billsec", "hangup_cause", "uuid", "bleg_uuid",
                   "accountcode", "read_codec", "write_codec")
# The `ccq` template (docs/adapters/freeswitch.md): the example's columns, then mod_callcenter's.
CCQ_COLUMNS = EXAMPLE_COLUMNS + ("cc_queue", "cc_queue_joined_epoch", "cc_queue_answered_epoch",
                                 "cc_queue_terminated_epoch", "cc_queue_canceled_epoch", "cc_cause",
                                 "cc_cancel_reason", "cc_agent", "cc_side")
# A number dialled to (or calling from) outside: 7 digits or more, optionally with +.
EXTERNAL_NUMBER = r"^\+?[0-9]{7,}$"
# Every field double-quoted (`""` inside a value is a quote), separated by commas.
CSV_FIELD = r'"((?:[^"]|"")*)"'
CSV_RECORD = r'^"(?:[^"]|"")*"(?:[ \t]*,[ \t]*"(?:[^"]|"")*")*$'


def _in(values) -> str:
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def _paths() -> dict[str, str]:
    paths = {f"v_{v}": f"$.variables.{v}" for v in VARIABLES}
    for p in PROFILE:
        paths[f"cf_{p}"] = f"$.callflow[#-1].caller_profile.{p}"
        paths[f"cfo_{p}"] = f"$.callflow.caller_profile.{p}"
    return paths


def _leg(msg: str) -> str:
    return "'leg ' || uuid || " + msg


def _cc_times() -> str:
    """joined_s .. canceled_s (mod_callcenter's cc_queue_*_epoch, UTC seconds) and their times."""
    out = []
    for t in CC_TIMES:
        s = f"try_cast(cc_queue_{t}_epoch AS BIGINT)"
        out.append(f"{s} AS {t}_s, CASE WHEN {s} BETWEEN 1 AND {MAX_EPOCH} THEN make_timestamp({s} * 1000000) END AS {t}_cc_at")
    return ", ".join(out)


def _member_checks(var: Callable[[str], str]) -> list[tuple[str, str, str | None, str]]:
    """A caller's leg through mod_callcenter: every queue variable it needs, readable and in
    order. `var` names the field of a variable (`variables.cc_queue`, or the CSV column)."""
    member_epochs = [("joined", "true"), ("answered", "cc_cause = 'answered'"), ("terminated", "cc_cause = 'answered'"),
                     ("canceled", "cc_cause = 'cancel'")]
    checks = [
        ("is_member AND cc_queue IS NULL", "required", var("cc_queue"), _leg("': cc_side member without cc_queue'")),
        ("is_member AND cc_queue_joined_epoch IS NULL", "required", var("cc_queue_joined_epoch"),
         _leg("' in queue ' || cc_queue || ' without cc_queue_joined_epoch'")),
        ("is_member AND cc_cause IS NULL", "required", var("cc_cause"),
         _leg("' in queue ' || cc_queue || ' without cc_cause (answered or cancel)'")),
        (f"is_member AND cc_cause NOT IN {_in(CC_CAUSES)}", "allowed_values", var("cc_cause"),
         _leg("': cc_cause ' || " + quoted_head("cc_cause") + " || ' (allowed: answered, cancel)'")),
    ]
    for t, when in member_epochs:
        name = var(f"cc_queue_{t}_epoch")
        checks.append((f"is_member AND {when} AND cc_queue_{t}_epoch IS NULL", "required", name,
                       _leg(f"' in queue ' || cc_queue || ' (' || cc_cause || ') without cc_queue_{t}_epoch'")))
        checks.append((f"is_member AND {when} AND {t}_s IS NULL", "type", name,
                       _leg(f"': cc_queue_{t}_epoch ' || " + quoted_head(f"cc_queue_{t}_epoch") + " || ' is not a whole number of seconds'")))
        checks.append((f"is_member AND {when} AND {t}_cc_at IS NULL", "range", name,
                       _leg(f"': cc_queue_{t}_epoch ' || {t}_s || ' is out of range'")))
    checks += [
        ("is_member AND cc_cause = 'answered' AND cc_agent IS NULL", "required", var("cc_agent"),
         _leg("' answered in queue ' || cc_queue || ' without cc_agent'")),
        ("is_member AND cc_cause = 'answered' AND answered_s < joined_s", "range", var("cc_queue_answered_epoch"),
         _leg("': answered (' || answered_s || ') before it joined queue ' || cc_queue || ' (' || joined_s || ')'")),
        ("is_member AND cc_cause = 'answered' AND terminated_s < answered_s", "range", var("cc_queue_terminated_epoch"),
         _leg("': agent bridge ended (' || terminated_s || ') before it was answered (' || answered_s || ')'")),
        ("is_member AND cc_cause = 'cancel' AND canceled_s < joined_s", "range", var("cc_queue_canceled_epoch"),
         _leg("': left queue ' || cc_queue || ' (' || canceled_s || ') before it joined it (' || joined_s || ')'")),
        (f"is_member AND cc_cause = 'cancel' AND coalesce(cc_cancel_reason, '') NOT IN {_in(CANCEL_REASONS)}",
         "allowed_values", var("cc_cancel_reason"),
         _leg("': cc_cancel_reason ' || " + quoted_head("coalesce(cc_cancel_reason, '(none)')")
              + f" || ' (allowed: {', '.join(CANCEL_REASONS)})'")),
    ]
    return checks


def _classify(con: duckdb.DuckDBPyConnection, files: list[Source], checks: list[tuple[str, str, str | None, str]],
              uuid_field: str) -> None:
    """_fs_parsed -> _fs_class (rule, field, message; NULL rule: mapped) and _fs_kept. A field
    ending in `_field` is a column naming the variable that was read. A leg delivered again (same
    uuid) counts once: of the readable versions, the one ingested first."""
    rule, _, message = checks_case(checks)
    field = "CASE " + " ".join(
        f"WHEN {c} THEN " + ("NULL" if f is None else f if f.endswith("_field") else f"'{f}'")
        for c, _, f, _ in checks) + " END"
    names = sql_values([(i, f.name) for i, f in enumerate(files)], "n(file_idx, name)")
    kept_names = sql_values([(i, f.name) for i, f in enumerate(files)], "k(file_idx, name)")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _fs_class AS
        WITH checked AS (
            SELECT p.*, n.name AS dup_name, {rule} AS rule, {field} AS field, {message} AS message
            FROM _fs_parsed p LEFT JOIN {names} ON n.file_idx = p.dup_file_idx
        ), ranked AS (
            SELECT *, CASE WHEN rule IS NULL THEN row_number() OVER (
                          PARTITION BY rule IS NULL, uuid ORDER BY file_idx, line_no) END AS version_rank
            FROM checked
        )
        SELECT r.* EXCLUDE (rule, field, message),
               CASE WHEN r.version_rank > 1 THEN 'duplicate' ELSE r.rule END AS rule,
               CASE WHEN r.version_rank > 1 THEN '{uuid_field}' ELSE r.field END AS field,
               CASE WHEN r.version_rank > 1
                    THEN 'leg ' || r.uuid || ' again: the same call leg as line ' || w.line_no || ' of ' || k.name
                         || ', delivered first: one call leg, counted once'
                    ELSE r.message END AS message
        FROM ranked r
        LEFT JOIN ranked w ON r.version_rank > 1 AND w.version_rank = 1 AND w.uuid = r.uuid
        LEFT JOIN {kept_names} ON k.file_idx = w.file_idx"""
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _fs_kept AS SELECT * FROM _fs_class WHERE rule IS NULL")


def _queue_events_sql(con: duckdb.DuckDBPyConnection) -> str:
    """_fs_members and _fs_holds from _fs_kept, and the SQL of the acd_queue_events rows.

    Queue legs: one per caller's leg through mod_callcenter (its variables hold the last queue
    it was in), with the agent legs mod_callcenter rang for it. _fs_kept needs: uuid, is_member,
    is_agent, cc_queue, cc_agent, cc_cause, cc_cancel_reason, cc_exit_key, cc_member_session_uuid,
    hold_events, sip_hangup_disposition, hangup_cause, answer_at, end_at, <t>_cc_at,
    profile_caller_id_number (NULL where a format does not have them)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _fs_members AS
        SELECT *,
               cc_cause = 'answered' AS answered,
               cc_cause = 'cancel' AND cc_cancel_reason IN ('BREAK_OUT', 'NONE')
                   AND end_at <= canceled_cc_at + INTERVAL {HANGUP_TOLERANCE_S} SECOND AS abandoned,
               CASE WHEN cc_cause = 'answered' THEN answered_cc_at ELSE canceled_cc_at END AS left_queue_at,
               CASE WHEN cc_cancel_reason = 'EXIT_WITH_KEY' THEN 'key:' || coalesce(cc_exit_key, '')
                    ELSE lower(cc_cancel_reason) END AS exit_detail,
               CASE WHEN end_at > terminated_cc_at + INTERVAL {HANGUP_TOLERANCE_S} SECOND THEN 'agent'
                    WHEN sip_hangup_disposition IN ('recv_bye', 'recv_cancel') THEN 'caller'
                    WHEN sip_hangup_disposition IN ('send_bye', 'send_cancel') THEN 'agent' END AS hang_up_side
        FROM _fs_kept WHERE is_member"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _fs_holds AS
        WITH sources AS (
            -- hold_events is kept by the channel whose phone put the other party on hold: the
            -- caller's leg (uuid_hold from a desktop) or, else, the answered agent leg.
            SELECT m.uuid, m.hold_events AS events, 0 AS pref
            FROM _fs_members m WHERE m.answered AND m.hold_events IS NOT NULL
            UNION ALL
            SELECT m.uuid, a.hold_events, 1
            FROM _fs_members m JOIN _fs_kept a
              ON a.is_agent AND a.cc_member_session_uuid = m.uuid AND a.cc_queue = m.cc_queue
             AND a.answer_at BETWEEN m.joined_cc_at AND m.terminated_cc_at
            WHERE m.answered AND a.hold_events IS NOT NULL
        ), chosen AS (
            SELECT * FROM sources QUALIFY pref = min(pref) OVER (PARTITION BY uuid)
        ), periods AS (
            -- {{{{on,off}},...}}: microseconds since the epoch, newest first
            SELECT uuid, CAST(unnest(regexp_extract_all(events, '{HOLD_EVENT}', 1)) AS BIGINT) AS on_us,
                   CAST(unnest(regexp_extract_all(events, '{HOLD_EVENT}', 2)) AS BIGINT) AS off_us
            FROM chosen
        ), clipped AS (
            -- within the talk; a hold not released (off 0) lasts to the end of the talk
            SELECT p.uuid, greatest(make_timestamp((on_us // 1000000) * 1000000), m.answered_cc_at) AS hold_at,
                   CASE WHEN off_us = 0 THEN m.terminated_cc_at
                        ELSE least(make_timestamp((off_us // 1000000) * 1000000), m.terminated_cc_at) END AS unhold_at
            FROM periods p JOIN _fs_members m USING (uuid)
        )
        SELECT uuid, hold_at, unhold_at, row_number() OVER (PARTITION BY uuid ORDER BY hold_at, unhold_at) AS n
        FROM clipped WHERE hold_at < unhold_at"""
    )
    return f"""
        SELECT uuid || ':ENTERQUEUE' AS event_id, uuid AS contact_id, 1 AS queue_leg, joined_cc_at AS event_at,
               'ENTERQUEUE' AS event_type, cc_queue AS queue_id, CAST(NULL AS VARCHAR) AS agent_id,
               profile_caller_id_number AS caller_number, CAST(NULL AS VARCHAR) AS customer_id, CAST(NULL AS VARCHAR) AS detail
        FROM _fs_members
        UNION ALL
        SELECT a.uuid || ':RINGNOANSWER', m.uuid, 1, a.end_at, 'RINGNOANSWER', m.cc_queue, a.cc_agent, NULL, NULL, NULL
        FROM _fs_members m JOIN _fs_kept a
          ON a.is_agent AND a.cc_member_session_uuid = m.uuid AND a.cc_queue = m.cc_queue
        WHERE a.answer_at IS NULL AND a.cc_agent IS NOT NULL AND a.hangup_cause IN {_in(RING_NO_ANSWER_CAUSES)}
          AND a.end_at BETWEEN m.joined_cc_at AND m.left_queue_at
        UNION ALL
        SELECT uuid || ':CONNECT', uuid, 1, answered_cc_at, 'CONNECT', cc_queue, cc_agent, NULL, NULL, NULL
        FROM _fs_members WHERE answered
        UNION ALL
        SELECT h.uuid || ':HOLD:' || h.n, h.uuid, 1, h.hold_at, 'HOLD', m.cc_queue, m.cc_agent, NULL, NULL, NULL
        FROM _fs_holds h JOIN _fs_members m USING (uuid)
        UNION ALL
        SELECT h.uuid || ':UNHOLD:' || h.n, h.uuid, 1, h.unhold_at, 'UNHOLD', m.cc_queue, m.cc_agent, NULL, NULL, NULL
        FROM _fs_holds h JOIN _fs_members m USING (uuid)
        UNION ALL
        -- mod_callcenter's wrap-up time is not in the CDR: after-call work ends with the talk (ACW 0).
        SELECT uuid || ':' || e.t, uuid, 1, terminated_cc_at, e.t, cc_queue, cc_agent, NULL, NULL,
               CASE WHEN e.t = 'COMPLETE' THEN hang_up_side END
        FROM _fs_members, (VALUES ('COMPLETE'), ('ACWEND')) AS e(t) WHERE answered
        UNION ALL
        SELECT uuid || CASE WHEN abandoned THEN ':ABANDON' ELSE ':EXITTIMEOUT' END, uuid, 1, canceled_cc_at,
               CASE WHEN abandoned THEN 'ABANDON' ELSE 'EXITTIMEOUT' END, cc_queue, NULL, NULL, NULL,
               CASE WHEN NOT abandoned THEN exit_detail END
        FROM _fs_members WHERE NOT answered"""


def _disposition() -> str:
    """answered -> ANSWERED, else by hangup_cause (DISPOSITIONS), any other cause FAILED."""
    unanswered = " ".join(f"WHEN hangup_cause = '{c}' THEN '{d}'" for c, d in DISPOSITIONS.items())
    return f"CASE WHEN answer_at IS NOT NULL THEN 'ANSWERED' {unanswered} ELSE 'FAILED' END"


def _finish(con: duckdb.DuckDBPyConnection, fmt: str, files: list[Source], outputs: list[tuple[str, str, str]],
            landing: Path, suffix: str, progress: Callable[[str], None], temp_tables: tuple[str, ...]) -> AdapterResult:
    """Write the contract files of (table, sql, day column), reconcile every source from _fs_class
    (over _fs_lines), drop the temporary tables."""
    files_out: list[Path] = []
    written: dict[str, int] = {}
    for table, sql, day in outputs:
        paths_out, n = write_contract_files(con, table, sql, day, landing, suffix)
        files_out += paths_out
        written[table] = n
        progress(f"{fmt}: {n} {table} rows in {len(paths_out)} landing file(s)")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _fs_status AS
        SELECT file_idx, line_no, rule IS NULL AS mapped, field, rule, message FROM _fs_class"""
    )
    result = AdapterResult(fmt, reconcile(con, fmt, files, "_fs_lines", "_fs_status"), written, files_out)
    for t in ("_fs_lines", *temp_tables, "_fs_parsed", "_fs_class", "_fs_kept", "_fs_members", "_fs_holds", "_fs_status"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return result


def freeswitch_json(
    con: duckdb.DuckDBPyConnection,
    files: list[Source],
    landing: Path,
    suffix: str,
    site_time_zone: str,
    progress: Callable[[str], None],
) -> AdapterResult:
    read_lines(con, files, "_fs_lines")
    progress(f"{FORMAT}: {con.execute('SELECT count(*) FROM _fs_lines').fetchone()[0]} lines in {len(files)} file(s)")
    tz = site_time_zone.replace("'", "''")
    site_id = site_for(site_time_zone).replace("'", "''")

    paths = _paths()
    path_list = "[" + ", ".join(f"'{p}'" for p in paths.values()) + "]"

    def decoded(i: int, name: str) -> str:
        raw = f"nullif(v[{i + 1}], '')"
        if name.startswith("v_"):
            return f"coalesce(try(url_decode({raw})), {raw}) AS {name[2:]}"
        return f"{raw} AS {name}"

    extracted = ", ".join(decoded(i, n) for i, n in enumerate(paths))
    profile = ", ".join(f"coalesce(cf_{p}, cfo_{p}) AS profile_{p}" for p in PROFILE)
    # Lines that are not JSON objects are read as '{}', so the extraction never fails on them.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _fs_fields AS
        WITH checked AS (
            SELECT file_idx, line_no, encoding, dup_file_idx, dup_line_no, raw,
                   contains(raw, chr(65533)) AS bad_encoding,
                   coalesce(json_valid(raw), false) AND starts_with(ltrim(raw), '{{') AS is_object
            FROM _fs_lines
        ), fields AS (
            SELECT *, json_extract_string(CASE WHEN is_object AND NOT bad_encoding THEN raw ELSE '{{}}' END, {path_list}) AS v
            FROM checked
        ), named AS (
            SELECT file_idx, line_no, encoding, dup_file_idx, dup_line_no, bad_encoding, is_object,
                   left(raw, 60) AS head, {extracted}
            FROM fields
        )
        SELECT * EXCLUDE ({', '.join(f'cf_{p}, cfo_{p}' for p in PROFILE)}), {profile} FROM named"""
    )

    # Times: the channel's *_uepoch (microseconds), else *_epoch (seconds), else *_stamp (local
    # time in the site's zone); mod_callcenter's cc_queue_*_epoch are seconds.
    def channel_time(t: str) -> str:
        return f"""
            CASE WHEN {t}_uepoch IS NOT NULL THEN 'variables.{t}_uepoch' WHEN {t}_epoch IS NOT NULL THEN 'variables.{t}_epoch'
                 WHEN {t}_stamp IS NOT NULL THEN 'variables.{t}_stamp' END AS {t}_field,
            coalesce({t}_uepoch, {t}_epoch, {t}_stamp) AS {t}_text,
            CASE WHEN {t}_uepoch IS NOT NULL THEN try_cast({t}_uepoch AS BIGINT) // 1000000
                 WHEN {t}_epoch IS NOT NULL THEN try_cast({t}_epoch AS BIGINT) END AS {t}_s,
            CASE WHEN {t}_uepoch IS NULL AND {t}_epoch IS NULL
                 THEN CAST(timezone('{tz}', try_strptime({t}_stamp, '{LOCAL_TIME_FORMAT}')) AS TIMESTAMP) END AS {t}_local_utc"""

    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _fs_parsed AS
        WITH t AS (
            SELECT *, {channel_time('start')}, {channel_time('answer')}, {channel_time('end')}, {_cc_times()}, {CC_SIDES}
            FROM _fs_fields
        )
        SELECT *,
               CASE WHEN start_s BETWEEN 1 AND {MAX_EPOCH} THEN make_timestamp(start_s * 1000000) ELSE start_local_utc END AS start_at,
               CASE WHEN answer_s BETWEEN 1 AND {MAX_EPOCH} THEN make_timestamp(answer_s * 1000000) ELSE answer_local_utc END AS answer_at,
               CASE WHEN end_s BETWEEN 1 AND {MAX_EPOCH} THEN make_timestamp(end_s * 1000000) ELSE end_local_utc END AS end_at
        FROM t"""
    )

    checks: list[tuple[str, str, str | None, str]] = [
        ("bad_encoding", "encoding", None, "'bytes that are not valid ' || encoding || ' (shown as U+FFFD)'"),
        ("dup_file_idx IS NOT NULL", "duplicate", None,
         "'the same line as line ' || dup_line_no || ' of ' || dup_name || ', ingested before: one call leg, counted once'"),
        ("NOT is_object", "parse", None,
         "'not a JSON object on one line (mod_json_cdr writes one per line; compact pretty-printed files with jq -c): ' || "
         + quoted_head("head")),
        ("uuid IS NULL", "required", "variables.uuid", "'a CDR without variables.uuid'"),
    ]
    for t in ("start", "end"):
        checks.append((f"{t}_text IS NULL", "required", f"variables.{t}_epoch",
                       _leg(f"' without {t}_uepoch, {t}_epoch or {t}_stamp'")))
    for t in ("start", "answer", "end"):
        checks.append((f"({t}_field <> 'variables.{t}_stamp' AND {t}_s IS NULL)", "type", f"{t}_field",
                       _leg(f"': ' || {t}_field || ' ' || " + quoted_head(f"{t}_text") + " || ' is not a whole number'")))
        checks.append((f"({t}_field = 'variables.{t}_stamp' AND {t}_local_utc IS NULL)", "type", f"{t}_field",
                       _leg(f"': {t}_stamp ' || " + quoted_head(f"{t}_text") + " || ' is not YYYY-MM-DD HH:MM:SS'")))
        low = 0 if t == "answer" else 1  # answer_epoch 0: never answered
        checks.append((f"({t}_s NOT BETWEEN {low} AND {MAX_EPOCH})", "range", f"{t}_field",
                       _leg(f"': ' || {t}_field || ' ' || {t}_text || ' is out of range'")))
    checks += [
        ("end_at < start_at", "range", "variables.end_epoch",
         _leg("': ends (' || strftime(end_at, '%Y-%m-%dT%H:%M:%SZ') || ') before it starts (' || strftime(start_at, '%Y-%m-%dT%H:%M:%SZ') || ')'")),
        ("(answer_at < start_at OR answer_at > end_at)", "range", "answer_field",
         _leg("': answered (' || strftime(answer_at, '%Y-%m-%dT%H:%M:%SZ') || ') outside its start to end'")),
    ]
    checks += _member_checks(lambda name: f"variables.{name}")
    _classify(con, files, checks, "variables.uuid")

    legs_sql = f"""
        SELECT uuid AS leg_id,
               CASE WHEN is_member THEN uuid
                    WHEN is_agent THEN coalesce(cc_member_session_uuid, uuid)
                    ELSE coalesce(originating_leg_uuid, uuid) END AS call_id,
               CASE WHEN sip_gateway_name IS NOT NULL THEN 'outbound'
                    WHEN coalesce(direction, 'inbound') = 'inbound'
                         AND (sip_gateway IS NOT NULL OR lower(profile_context) IN {_in(INBOUND_CONTEXTS)}) THEN 'inbound'
                    ELSE 'internal' END AS direction,
               profile_caller_id_number AS caller_number, profile_destination_number AS dialled_number,
               coalesce(sip_gateway_name, sip_gateway) AS trunk_id,
               '{site_id}' AS site_id, CAST(NULL AS VARCHAR) AS agent_id,
               start_at AS started_at, answer_at AS answered_at, end_at AS ended_at,
               {_disposition()} AS disposition
        FROM _fs_kept"""
    outputs = [("acd_queue_events", _queue_events_sql(con), "event_at"), ("pbx_call_legs", legs_sql, "started_at")]
    return _finish(con, FORMAT, files, outputs, landing, suffix, progress, ("_fs_fields",))


def freeswitch_csv(
    con: duckdb.DuckDBPyConnection,
    files: list[Source],
    landing: Path,
    suffix: str,
    site_time_zone: str,
    progress: Callable[[str], None],
) -> AdapterResult:
    read_lines(con, files, "_fs_lines")
    progress(f"{CSV_FORMAT}: {con.execute('SELECT count(*) FROM _fs_lines').fetchone()[0]} lines in {len(files)} file(s)")
    tz = site_time_zone.replace("'", "''")
    site_id = site_for(site_time_zone).replace("'", "''")

    # Fields by position: the example template's 15, the ccq template's 9 more (NULL otherwise).
    # `${var}` of a variable the channel does not have expands to nothing: empty is NULL.
    columns = ", ".join(f"nullif(v[{i + 1}], '') AS {c}" for i, c in enumerate(CCQ_COLUMNS))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _fs_fields AS
        WITH split AS (
            SELECT file_idx, line_no, encoding, dup_file_idx, dup_line_no, left(raw, 60) AS head,
                   contains(raw, chr(65533)) AS bad_encoding,
                   regexp_full_match(raw, '{CSV_RECORD}') AS well_formed,
                   list_transform(regexp_extract_all(raw, '{CSV_FIELD}', 1), lambda x: replace(x, '""', '"')) AS v
            FROM _fs_lines
        )
        SELECT * EXCLUDE (v), len(v) AS ncols, {columns} FROM split"""
    )

    # Local stamps -> UTC in the site's zone. Where the clocks go back a local time has two
    # readings (DuckDB's, the later one, and the earlier one): start is the one whose span to end
    # matches `duration`, end the one closest to start + duration, answer the one closest to
    # end - billsec (ties: the later reading).
    def readings(t: str) -> str:
        local = f"try_strptime({t}_stamp, '{LOCAL_TIME_FORMAT}')"
        later = f"CAST(timezone('{tz}', {local}) AS TIMESTAMP)"
        alt = f"CAST(timezone('{tz}', {local} - INTERVAL 1 DAY) AS TIMESTAMP) + INTERVAL 1 DAY"
        earlier = f"CASE WHEN timezone('{tz}', CAST({alt} AS TIMESTAMPTZ)) = {local} THEN {alt} ELSE {later} END"
        return f"{later} AS {t}_1, {earlier} AS {t}_2"

    def closest(a: str, b: str, target: str) -> str:
        return f"CASE WHEN abs(epoch({b}) - {target}) < abs(epoch({a}) - {target}) THEN {b} ELSE {a} END"

    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _fs_parsed AS
        WITH r AS (
            SELECT *, {readings('start')}, {readings('answer')}, {readings('end')},
                   coalesce(try_cast(duration AS BIGINT), 0) AS duration_s, try_cast(billsec AS BIGINT) AS billsec_s,
                   {_cc_times()}, {CC_SIDES}
            FROM _fs_fields
        ), s AS (
            SELECT *, {closest('start_1', 'start_2', 'epoch(end_1) - duration_s')} AS start_at FROM r
        ), e AS (
            SELECT *, {closest('end_1', 'end_2', 'epoch(start_at) + duration_s')} AS end_at FROM s
        )
        SELECT * EXCLUDE (start_1, start_2, answer_1, answer_2, end_1, end_2),
               CASE WHEN billsec_s IS NULL THEN answer_1 ELSE {closest('answer_1', 'answer_2', 'epoch(end_at) - billsec_s')} END AS answer_at,
               caller_id_number AS profile_caller_id_number, CAST(NULL AS VARCHAR) AS cc_exit_key,
               CAST(NULL AS VARCHAR) AS cc_member_session_uuid, CAST(NULL AS VARCHAR) AS hold_events,
               CAST(NULL AS VARCHAR) AS sip_hangup_disposition
        FROM e"""
    )

    def stamp(t: str) -> str:
        return f"try_strptime({t}_stamp, '{LOCAL_TIME_FORMAT}')"

    templates = f"the example template ({len(EXAMPLE_COLUMNS)} fields) or the ccq template ({len(CCQ_COLUMNS)} fields)"
    checks: list[tuple[str, str, str | None, str]] = [
        ("bad_encoding", "encoding", None, "'bytes that are not valid ' || encoding || ' (shown as U+FFFD)'"),
        ("dup_file_idx IS NOT NULL", "duplicate", None,
         "'the same line as line ' || dup_line_no || ' of ' || dup_name || ', ingested before: one call leg, counted once'"),
        ("NOT well_formed", "parse", None,
         "'not a mod_cdr_csv record (every field in double quotes, separated by commas): a record cut off, or a quote "
         "inside a value: ' || " + quoted_head("head")),
        (f"ncols NOT IN ({len(EXAMPLE_COLUMNS)}, {len(CCQ_COLUMNS)})", "parse", None,
         f"ncols || ' fields: not a record of {templates}; see docs/adapters/freeswitch.md'"),
        ("uuid IS NULL", "required", "uuid", "'a record without uuid'"),
    ]
    for t in ("start", "end"):
        checks.append((f"{t}_stamp IS NULL", "required", f"{t}_stamp", _leg(f"' without {t}_stamp'")))
    for t in ("start", "answer", "end"):
        checks.append((f"({t}_stamp IS NOT NULL AND {stamp(t)} IS NULL)", "type", f"{t}_stamp",
                       _leg(f"': {t}_stamp ' || " + quoted_head(f"{t}_stamp") + f" || ' is not YYYY-MM-DD HH:MM:SS ({tz} local time)'")))
    checks += [
        ("end_at < start_at", "range", "end_stamp",
         _leg(f"': ends (' || end_stamp || ') before it starts (' || start_stamp || ', {tz} local time)'")),
        ("(answer_at < start_at OR answer_at > end_at)", "range", "answer_stamp",
         _leg("': answered (' || answer_stamp || ') outside its start (' || start_stamp || ') to end (' || end_stamp || ')'")),
    ]
    checks += _member_checks(lambda name: name)
    _classify(con, files, checks, "uuid")

    # Direction (docs/adapters/freeswitch.md): the leg of a bridge whose other leg's record names
    # it (bleg_uuid, with legs="ab") and mod_callcenter's agent legs are internal; a leg in an
    # inbound context (`public`) is inbound, and so is a caller's leg into a queue from an
    # external number (a dialplan that transferred it out of public); a leg dialling an external
    # number is outbound; everything else is internal.
    legs_sql = f"""
        WITH a_legs AS (
            SELECT bleg_uuid, arg_min(uuid, (file_idx, line_no)) AS a_uuid
            FROM _fs_kept WHERE bleg_uuid IS NOT NULL AND bleg_uuid <> uuid GROUP BY bleg_uuid
        )
        SELECT k.uuid AS leg_id, CASE WHEN k.is_member THEN k.uuid ELSE coalesce(a.a_uuid, k.uuid) END AS call_id,
               CASE WHEN (a.a_uuid IS NOT NULL AND NOT k.is_member) OR coalesce(k.is_agent, false) THEN 'internal'
                    WHEN lower(k.context) IN {_in(INBOUND_CONTEXTS)} THEN 'inbound'
                    WHEN k.is_member AND regexp_full_match(k.caller_id_number, '{EXTERNAL_NUMBER}') THEN 'inbound'
                    WHEN regexp_full_match(k.destination_number, '{EXTERNAL_NUMBER}') THEN 'outbound'
                    ELSE 'internal' END AS direction,
               k.caller_id_number AS caller_number, k.destination_number AS dialled_number,
               CAST(NULL AS VARCHAR) AS trunk_id, '{site_id}' AS site_id, CAST(NULL AS VARCHAR) AS agent_id,
               k.start_at AS started_at, k.answer_at AS answered_at, k.end_at AS ended_at,
               {_disposition()} AS disposition
        FROM _fs_kept k LEFT JOIN a_legs a ON a.bleg_uuid = k.uuid"""
    outputs = [("acd_queue_events", _queue_events_sql(con), "event_at"), ("pbx_call_legs", legs_sql, "started_at")]
    return _finish(con, CSV_FORMAT, files, outputs, landing, suffix, progress, ("_fs_fields",))
