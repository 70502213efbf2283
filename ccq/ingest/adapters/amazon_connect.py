"""Amazon Connect contact records (CTRs, one JSON object per line) -> raw.acd_queue_events.

The field-by-field mapping, what is left out and what is quarantined is in
docs/adapters/amazon_connect.md. Everything runs in DuckDB over all the files ingested so far,
so a contact delivered again in a later Firehose object replaces its earlier version, and the
records of one transfer chain map together whichever objects brought them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import duckdb

from ccq.ingest.adapters.base import (AdapterResult, Source, checks_case, quoted_head, read_lines, reconcile,
                                      sql_list, sql_values, write_contract_files)

FORMAT = "amazon-connect"
# Firehose names its objects `<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<random>`, without an
# extension; a plain "*" would also take READMEs and manifests lying beside them.
FOLDER_PATTERNS = ("*.json", "*.jsonl", "*.ndjson",
                   "*-[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]-[0-9][0-9]-[0-9][0-9]-[0-9][0-9]-*")

# column -> JSON path in the contact record (the CTR data model's names)
FIELDS = {
    "contact_id": "$.ContactId",
    "initial_id": "$.InitialContactId",
    "previous_id": "$.PreviousContactId",
    "next_id": "$.NextContactId",
    "channel": "$.Channel",
    "method": "$.InitiationMethod",
    "initiation_text": "$.InitiationTimestamp",
    "disconnect_text": "$.DisconnectTimestamp",
    "disconnect_reason": "$.DisconnectReason",
    "last_update_text": "$.LastUpdateTimestamp",
    "caller": "$.CustomerEndpoint.Address",
    "transferred_to": "$.TransferredToEndpoint.Address",
    "queue_name": "$.Queue.Name",
    "enqueue_text": "$.Queue.EnqueueTimestamp",
    "dequeue_text": "$.Queue.DequeueTimestamp",
    "queue_duration_text": "$.Queue.Duration",
    "agent": "$.Agent.Username",
    "connected_text": "$.Agent.ConnectedToAgentTimestamp",
    "interaction_text": "$.Agent.AgentInteractionDuration",
    "hold_total_text": "$.Agent.CustomerHoldDuration",
    "holds_text": "$.Agent.NumberOfHolds",
    "acw_start_text": "$.Agent.AfterContactWorkStartTimestamp",
    "acw_end_text": "$.Agent.AfterContactWorkEndTimestamp",
    "acw_duration_text": "$.Agent.AfterContactWorkDuration",
}
# Checked on the version of a contact that is kept, in this order: the first failure names the field.
TIMESTAMPS = {
    "initiation": "InitiationTimestamp",
    "disconnect": "DisconnectTimestamp",
    "enqueue": "Queue.EnqueueTimestamp",
    "dequeue": "Queue.DequeueTimestamp",
    "connected": "Agent.ConnectedToAgentTimestamp",
    "acw_start": "Agent.AfterContactWorkStartTimestamp",
    "acw_end": "Agent.AfterContactWorkEndTimestamp",
}
SECONDS = {
    "queue_duration": "Queue.Duration",
    "interaction": "Agent.AgentInteractionDuration",
    "hold_total": "Agent.CustomerHoldDuration",
    "holds": "Agent.NumberOfHolds",
    "acw_duration": "Agent.AfterContactWorkDuration",
}
# DisconnectReason -> detail of COMPLETE (the contract's hang-up side); other reasons leave it empty.
HANG_UP_SIDE = {"CUSTOMER_DISCONNECT": "caller", "AGENT_DISCONNECT": "agent"}
# InitiationMethods of contacts that reach the ACD as a customer's call. The others are
# outbound (OUTBOUND, API = StartOutboundVoiceContact, CAMPAIGN_PREVIEW, EXTERNAL_OUTBOUND),
# supervisors (MONITOR) or other channels; an outbound call carries the agent's outbound queue in
# Queue, so a queue alone does not make a contact an offered one. A method Amazon adds later is
# quarantined (not_mapped) until it is listed here.
QUEUED_METHODS = ("INBOUND", "TRANSFER", "QUEUE_TRANSFER", "CALLBACK", "WEBRTC_API", "DISCONNECT")
MIN_TS, MAX_TS = "1970-01-01", "3000-01-01"


def amazon_connect(
    con: duckdb.DuckDBPyConnection,
    files: list[Source],
    landing: Path,
    suffix: str,
    site_time_zone: str,
    progress: Callable[[str], None],
) -> AdapterResult:
    read_lines(con, files, "_ac_lines")
    progress(f"{FORMAT}: {con.execute('SELECT count(*) FROM _ac_lines').fetchone()[0]} lines in {len(files)} file(s)")

    paths = list(FIELDS.values())
    extracted = ", ".join(f"nullif(trim(v[{i + 1}]), '') AS {name}" for i, name in enumerate(FIELDS))

    def ts(name: str) -> str:
        return f"date_trunc('second', CAST(try_cast({name}_text AS TIMESTAMPTZ) AS TIMESTAMP))"

    # Versions are ordered by LastUpdateTimestamp at its full precision (the whole second elsewhere).
    typed_ts = ", ".join(f"{ts(n)} AS {n}_at" for n in ["last_update", *TIMESTAMPS]) + \
        ", CAST(try_cast(last_update_text AS TIMESTAMPTZ) AS TIMESTAMP) AS last_update_exact"
    typed_int = ", ".join(f"try_cast({n}_text AS BIGINT) AS {n}" for n in SECONDS)
    # Lines that are not JSON objects are read as '{}', so the extraction never fails on them.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _ac_parsed AS
        WITH checked AS (
            SELECT file_idx, line_no, encoding, dup_file_idx, dup_line_no, raw,
                   contains(raw, chr(65533)) AS bad_encoding,
                   coalesce(json_valid(raw), false) AND starts_with(ltrim(raw), '{{') AS is_object,
                   regexp_matches(raw, '\\}}\\s*\\{{') AS run_on
            FROM _ac_lines
        ), fields AS (
            SELECT *, json_extract_string(CASE WHEN is_object AND NOT bad_encoding THEN raw ELSE '{{}}' END,
                                          {sql_list(paths)}) AS v
            FROM checked
        ), named AS (
            SELECT file_idx, line_no, encoding, dup_file_idx, dup_line_no, bad_encoding, is_object, run_on,
                   left(raw, 60) AS head,
                   {extracted}
            FROM fields
        )
        SELECT *, {typed_ts}, {typed_int} FROM named"""
    )

    def bad_ts(n: str) -> str:
        return f"({n}_text IS NOT NULL AND ({n}_at IS NULL OR NOT isfinite({n}_at)))"

    def out_of_range(n: str) -> str:
        return f"({n}_at < TIMESTAMP '{MIN_TS}' OR {n}_at >= TIMESTAMP '{MAX_TS}')"

    names = sql_values([(i, f.name) for i, f in enumerate(files)], "n(file_idx, name)")
    kept_names = sql_values([(i, f.name) for i, f in enumerate(files)], "k(file_idx, name)")
    # Checks that decide whether a line can take part in deduplication at all.
    early = [
        ("bad_encoding", "encoding", None, "'bytes that are not valid ' || encoding || ' (shown as U+FFFD)'"),
        ("dup_file_idx IS NOT NULL", "duplicate", None,
         "'the same line as line ' || dup_line_no || ' of ' || dup_name || ', ingested before: one record, counted once'"),
        # Firehose writes records back to back unless its new line delimiter is on: one line, many records.
        ("NOT is_object AND run_on", "parse", None,
         "'not one JSON object: records run on without a line break (turn on the Firehose stream''s new line "
         "delimiter): ' || " + quoted_head("head")),
        ("NOT is_object", "parse", None, "'not a JSON object: ' || " + quoted_head("head")),
        ("contact_id IS NULL", "required", "ContactId", "'a contact record without ContactId'"),
        ("last_update_text IS NULL", "required", "LastUpdateTimestamp",
         "'contact ' || contact_id || ' without LastUpdateTimestamp: its versions cannot be ordered'"),
        (bad_ts("last_update"), "type", "LastUpdateTimestamp",
         "'contact ' || contact_id || ': LastUpdateTimestamp ' || " + quoted_head("last_update_text") + " || ' is not an ISO 8601 time'"),
        (out_of_range("last_update"), "range", "LastUpdateTimestamp",
         "'contact ' || contact_id || ': LastUpdateTimestamp ' || last_update_text || ' is out of range'"),
    ]
    early_rule, early_field, early_message = checks_case(early)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _ac_versions AS
        WITH early AS (
            SELECT p.*, n.name AS dup_name, {early_rule} AS rule, {early_field} AS field, {early_message} AS message
            FROM _ac_parsed p LEFT JOIN {names} ON n.file_idx = p.dup_file_idx
        ), ranked AS (
            -- The latest LastUpdateTimestamp wins; on a tie, the version delivered last.
            SELECT *, CASE WHEN rule IS NULL THEN row_number() OVER (
                          PARTITION BY rule IS NULL, contact_id ORDER BY last_update_exact DESC, file_idx DESC, line_no DESC)
                      END AS version_rank
            FROM early
        )
        SELECT r.*, w.file_idx AS kept_file_idx, w.line_no AS kept_line_no, w.last_update_text AS kept_last_update
        FROM ranked r
        LEFT JOIN ranked w ON r.version_rank > 1 AND w.version_rank = 1 AND w.contact_id = r.contact_id"""
    )

    late = [
        ("version_rank > 1", "superseded", "LastUpdateTimestamp",
         "'contact ' || contact_id || ' (LastUpdateTimestamp ' || last_update_text || ') is replaced by line ' || kept_line_no"
         " || ' of ' || kept_name || ' (LastUpdateTimestamp ' || kept_last_update || '): the latest version counts'"),
        ("channel IS NULL", "required", "Channel", "'contact ' || contact_id || ' without Channel'"),
        ("upper(channel) <> 'VOICE'", "not_mapped", "Channel",
         "'contact ' || contact_id || ': ' || upper(channel) || ' contact; only VOICE contacts are mapped (the queues are voice queues)'"),
        (f"upper(method) NOT IN ({', '.join(repr(m) for m in QUEUED_METHODS)})", "not_mapped", "InitiationMethod",
         "'contact ' || contact_id || ': ' || upper(method) || ' contact; only calls from customers are ACD queue legs "
         "(" + ", ".join(QUEUED_METHODS) + ")'"),
    ]
    for n, label in TIMESTAMPS.items():
        late.append((bad_ts(n), "type", label,
                     f"'contact ' || contact_id || ': {label} ' || " + quoted_head(f"{n}_text") + " || ' is not an ISO 8601 time'"))
        late.append((out_of_range(n), "range", label,
                     f"'contact ' || contact_id || ': {label} ' || {n}_text || ' is out of range'"))
    for n, label in SECONDS.items():
        late.append((f"({n}_text IS NOT NULL AND {n} IS NULL)", "type", label,
                     f"'contact ' || contact_id || ': {label} ' || " + quoted_head(f"{n}_text") + " || ' is not a whole number'"))
        late.append((f"{n} < 0", "range", label, f"'contact ' || contact_id || ': {label} ' || {n} || ' is negative'"))
    late += [
        ("queue_name IS NULL AND enqueue_at IS NULL", "not_mapped", "Queue",
         "'contact ' || contact_id || ' (' || coalesce(method, 'no InitiationMethod') || ') was never queued: "
         "no ACD queue leg (the flow ended it, or connected it without a queue)'"),
        ("queue_name IS NULL", "required", "Queue.Name", "'contact ' || contact_id || ' queued without a queue Name'"),
        ("enqueue_at IS NULL", "required", "Queue.EnqueueTimestamp",
         "'contact ' || contact_id || ' in queue ' || queue_name || ' without EnqueueTimestamp'"),
        ("connected_at IS NOT NULL AND agent IS NULL", "required", "Agent.Username",
         "'contact ' || contact_id || ' connected to an agent without a Username'"),
    ]
    late_rule, late_field, late_message = checks_case(late)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _ac_class AS
        SELECT v.* EXCLUDE (rule, field, message),
               coalesce(v.rule, {late_rule}) AS rule,
               CASE WHEN v.rule IS NOT NULL THEN v.field ELSE {late_field} END AS field,
               coalesce(v.message, {late_message}) AS message
        FROM (SELECT x.*, k.name AS kept_name FROM _ac_versions x LEFT JOIN {kept_names}
              ON k.file_idx = x.kept_file_idx) v"""
    )

    # Transfer chains: PreviousContactId links the records of one call. Every record kept
    # (queued or not) links the chain; queued ones are numbered into legs in chain order.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _ac_legs AS
        WITH RECURSIVE kept AS (
            SELECT * FROM _ac_versions WHERE version_rank = 1
        ), chain(cid, root, depth) AS (
            SELECT contact_id, contact_id, 0 FROM kept
            WHERE previous_id IS NULL OR previous_id NOT IN (SELECT contact_id FROM kept)
            UNION ALL
            SELECT k.contact_id, c.root, c.depth + 1
            FROM kept k JOIN chain c ON k.previous_id = c.cid
            WHERE c.depth < 1000 AND k.contact_id <> c.root
        ), mapped AS (
            SELECT m.*, coalesce(m.initial_id, c.root, m.contact_id) AS call_id, coalesce(c.depth, 0) AS depth
            FROM _ac_class m LEFT JOIN chain c ON c.cid = m.contact_id
            WHERE m.rule IS NULL
        )
        SELECT m.*,
               CAST(row_number() OVER (PARTITION BY m.call_id ORDER BY m.depth, m.enqueue_at, m.contact_id) AS INTEGER) AS queue_leg,
               -- Passed on: to the next contact of the chain (a contact a disconnect flow starts
               -- after the call is not a transfer), or out of Amazon Connect to a phone number.
               (m.next_id IS NOT NULL AND coalesce(upper(nxt.method), '') <> 'DISCONNECT')
                   OR m.transferred_to IS NOT NULL AS transferred,
               CASE WHEN m.next_id IS NOT NULL AND coalesce(upper(nxt.method), '') <> 'DISCONNECT'
                    THEN coalesce(nxt.queue_name, 'agent:' || nxt.agent)
                    WHEN m.transferred_to IS NOT NULL THEN 'external' END AS transfer_to
        FROM mapped m LEFT JOIN kept nxt ON nxt.contact_id = m.next_id"""
    )

    side = sql_values(list(HANG_UP_SIDE.items()), "s(reason, side)")
    queue_events_sql = f"""
        WITH legs AS (
            SELECT l.*, s.side,
                   coalesce(dequeue_at, enqueue_at + to_seconds(queue_duration), disconnect_at) AS left_queue_at,
                   coalesce(hold_total, 0) AS hold_s,
                   CASE WHEN coalesce(holds, 0) > 0 THEN holds WHEN coalesce(hold_total, 0) > 0 THEN 1 ELSE 0 END AS n_holds
            FROM _ac_legs l LEFT JOIN {side} ON s.reason = upper(l.disconnect_reason)
        ), talk AS (
            -- Talk ends after the interaction and the holds within it: the CTR's durations, so
            -- the warehouse's talk, hold and ACW seconds are the CTR's own.
            SELECT *, CASE WHEN interaction IS NOT NULL THEN connected_at + to_seconds(interaction + hold_s)
                           ELSE greatest(coalesce(acw_start_at, disconnect_at), connected_at) END AS talk_end_at
            FROM legs WHERE connected_at IS NOT NULL
        ), handled AS (
            SELECT *,
                   coalesce(interaction, greatest(CAST(epoch(talk_end_at - connected_at) AS BIGINT) - hold_s, 0)) AS talk_s,
                   CASE WHEN acw_duration IS NOT NULL THEN talk_end_at + to_seconds(acw_duration)
                        WHEN acw_start_at IS NOT NULL AND acw_end_at IS NOT NULL
                            THEN talk_end_at + (greatest(acw_end_at, acw_start_at) - acw_start_at)
                        ELSE greatest(coalesce(acw_end_at, talk_end_at), talk_end_at) END AS acw_end_at_derived
            FROM talk
        ), hold_numbers AS (
            SELECT *, unnest(range(n_holds)) AS k FROM handled WHERE n_holds > 0
        ), holds AS (
            -- Only totals are known: n holds of equal length (to the second) spread evenly
            -- through the talk, so their sum is CustomerHoldDuration exactly.
            SELECT *,
                   connected_at + to_seconds((k + 1) * (talk_s // (n_holds + 1)) + least(k + 1, talk_s % (n_holds + 1))
                                             + k * (hold_s // n_holds) + least(k, hold_s % n_holds)) AS hold_at,
                   hold_s // n_holds + CASE WHEN k < hold_s % n_holds THEN 1 ELSE 0 END AS hold_len
            FROM hold_numbers
        )
        SELECT contact_id || ':ENTERQUEUE' AS event_id, call_id AS contact_id, queue_leg, enqueue_at AS event_at,
               'ENTERQUEUE' AS event_type, queue_name AS queue_id, CAST(NULL AS VARCHAR) AS agent_id,
               caller AS caller_number, CAST(NULL AS VARCHAR) AS customer_id, CAST(NULL AS VARCHAR) AS detail
        FROM legs
        UNION ALL
        SELECT contact_id || ':CONNECT', call_id, queue_leg, connected_at, 'CONNECT', queue_name, agent, NULL, NULL, NULL
        FROM legs WHERE connected_at IS NOT NULL
        UNION ALL
        -- Queued, never connected: the caller hung up (ABANDON), or the contact left the queue
        -- another way (a transfer to the next contact, a flow or system disconnect: EXITTIMEOUT).
        SELECT contact_id || CASE WHEN is_abandon THEN ':ABANDON' ELSE ':EXITTIMEOUT' END, call_id, queue_leg, left_queue_at,
               CASE WHEN is_abandon THEN 'ABANDON' ELSE 'EXITTIMEOUT' END, queue_name, NULL, NULL, NULL,
               CASE WHEN is_abandon THEN NULL
                    WHEN transferred THEN 'transfer' || coalesce(':' || transfer_to, '')
                    ELSE lower(disconnect_reason) END
        FROM (SELECT *, NOT transferred AND coalesce(upper(disconnect_reason), 'CUSTOMER_DISCONNECT') = 'CUSTOMER_DISCONNECT'
                        AS is_abandon
              FROM legs WHERE connected_at IS NULL AND left_queue_at IS NOT NULL)
        UNION ALL
        SELECT contact_id || ':HOLD:' || (k + 1), call_id, queue_leg, hold_at, 'HOLD', queue_name, agent, NULL, NULL, NULL
        FROM holds
        UNION ALL
        SELECT contact_id || ':UNHOLD:' || (k + 1), call_id, queue_leg, hold_at + to_seconds(hold_len), 'UNHOLD', queue_name,
               agent, NULL, NULL, NULL
        FROM holds
        UNION ALL
        SELECT contact_id || CASE WHEN transferred THEN ':TRANSFER' ELSE ':COMPLETE' END, call_id, queue_leg, talk_end_at,
               CASE WHEN transferred THEN 'TRANSFER' ELSE 'COMPLETE' END, queue_name, agent, NULL, NULL,
               CASE WHEN transferred THEN transfer_to ELSE side END
        FROM handled
        UNION ALL
        SELECT contact_id || ':ACWEND', call_id, queue_leg, acw_end_at_derived, 'ACWEND', queue_name, agent, NULL, NULL, NULL
        FROM handled"""

    paths_out, n = write_contract_files(con, "acd_queue_events", queue_events_sql, "event_at", landing, suffix)
    progress(f"{FORMAT}: {n} acd_queue_events rows in {len(paths_out)} landing file(s)")

    con.execute(
        """CREATE OR REPLACE TEMP TABLE _ac_status AS
        SELECT file_idx, line_no, rule IS NULL AS mapped, field, rule, message FROM _ac_class"""
    )
    result = AdapterResult(FORMAT, reconcile(con, FORMAT, files, "_ac_lines", "_ac_status"),
                           {"acd_queue_events": n}, paths_out)
    for t in ("_ac_lines", "_ac_parsed", "_ac_versions", "_ac_class", "_ac_legs", "_ac_status"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return result
