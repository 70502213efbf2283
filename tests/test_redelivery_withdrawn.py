"""Withdrawn data does not linger (issue 13, "Nothing lost").

A corrected re-delivery keeps its file id and may drop rows: every row of a queue, a contact, an
agent's roster row, or the whole day (a header-only file). After the incremental build every
incremental model and `marts.kpi_values` must hold exactly the rows of a full refresh of the same
raw content (a clean load of the final files), with nothing of the withdrawn rows left.

The first delivery of the hand-built fixture adds, on 2026-03-02, a call to a queue missing from
the seeds (Q_GHOST: no site, so no local calendar and its KPI parts have no period) and a leg whose
ENTERQUEUE never came (c98: not booked, no day). The corrected delivery withdraws both and every
row of Q_PREMIUM and empties 2026-03-03; a second corrected roster, alone, moves A0002 to team T02
and withdraws A0003; a corrected CRM file, alone, withdraws c01's interaction, which is not
the newest row behind the contact (its legs were loaded later), so the contact loses its reason.

The warehouse is loaded with the loader and built with dbt directly (no Dagster, validation or
publish): seeds and models once, two incremental runs, then the full refresh on the same file.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from ccq.ingest.loader import load_file
from ccq.ingest.loader import ensure_warehouse
from tests.conftest import FIXTURES, HAND_BUILT_NOW, run_dbt

LANDING = FIXTURES / "hand_calls" / "landing"
ACD_0302 = "acd_queue_events/acd_queue_events_2026-03-02.csv"
ACD_0303 = "acd_queue_events/acd_queue_events_2026-03-03.csv"
ROSTER = "hr_roster/hr_roster_2026-03-02.csv"
CRM = "crm_interactions/crm_interactions_2026-03-02.csv"
# Loaded before the ACD files, so a contact's newest row is its legs, not its interaction.
CRM_0302 = (
    "interaction_id,case_id,contact_id,customer_id,agent_id,created_at,contact_reason,wrap_up_code\n"
    "i01,k01,c01,CUST01,A0001,2026-03-02T08:04:00Z,Billing,RESOLVED\n"
    "i02,k02,c02,CUST02,A0002,2026-03-02T08:10:00Z,Outage,RESOLVED\n"
)
GONE_QUEUES = ("Q_PREMIUM", "Q_GHOST")
# Incremental models that keep withdrawn rows by design, until the nightly full refresh:
# stg_acd__agent_ids is a sticky lookup (a member's id is fixed when first seen, see the model);
# a member no file logs any more keeps its row there, and no fact row carries it.
STICKY = {"staging.stg_acd__agent_ids"}

EXTRA_0302 = (
    # a queue that is not in seeds/queues.csv: no site, no time zone, no local period
    "e9901,c99,1,2026-03-02T10:00:00Z,ENTERQUEUE,Q_GHOST,,+447700900099,CUST99,\n"
    "e9902,c99,1,2026-03-02T10:00:30Z,CONNECT,Q_GHOST,A0001,,,\n"
    "e9903,c99,1,2026-03-02T10:02:30Z,COMPLETE,Q_GHOST,A0001,,,caller\n"
    # a leg whose ENTERQUEUE never arrived: in int_contacts__queue_legs, not booked (entered_at null)
    "e9801,c98,1,2026-03-02T11:00:30Z,CONNECT,Q_GENERAL,A0002,,,\n"
    "e9802,c98,1,2026-03-02T11:02:30Z,COMPLETE,Q_GENERAL,A0002,,,caller\n"
)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _load(db: Path, files: list[Path]) -> None:
    con = duckdb.connect(str(db))
    try:
        ensure_warehouse(con)
        for f in files:
            result = load_file(con, f)
            assert result.reconciles and not result.skipped, result
    finally:
        con.close()


def _incremental_models(work: Path) -> list[str]:
    manifest = json.loads((work / "target" / "manifest.json").read_text(encoding="utf-8"))
    out = sorted(f"{n['schema']}.{n['alias']}" for n in manifest["nodes"].values()
                 if n["resource_type"] == "model" and n["config"].get("materialized") == "incremental")
    assert "intermediate.int_kpi_parts__queue_legs" in out and "marts.fct_queue_legs" in out, out
    return out


def _differences(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    """Rows only in the incremental build, rows only in the full refresh (load times excluded)."""
    cols = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'inc' "
        "AND table_schema || '.' || table_name = ? ORDER BY ordinal_position", [table]).fetchall()]
    assert cols, table
    cols = ", ".join(f'"{c}"' for c in cols if not c.startswith("_loaded") and c != "as_of")
    only_inc = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM inc.{table} EXCEPT ALL SELECT {cols} FROM fr.{table})").fetchone()[0]
    only_fr = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM fr.{table} EXCEPT ALL SELECT {cols} FROM inc.{table})").fetchone()[0]
    return only_inc, only_fr


def _gone(con: duckdb.DuckDBPyConnection, schema: str = "") -> dict[str, int]:
    """Rows that belong to what the corrected delivery withdrew (schema: 'inc.' or 'fr.', the
    attached warehouse; the per-fact parts tables, not their union view, which names its catalog)."""
    queues = ", ".join(f"'{q}'" for q in GONE_QUEUES)
    catalog = schema.rstrip(".") or con.execute("SELECT current_database()").fetchone()[0]
    parts = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? AND table_schema = 'intermediate' "
        "AND table_name LIKE 'int_kpi_parts__%' AND table_type = 'BASE TABLE'", [catalog]).fetchall()]
    assert "int_kpi_parts__queue_legs" in parts, parts
    return {
        "kpi_parts": sum(con.execute(
            f"SELECT count(*) FROM {schema}intermediate.{t} WHERE scope_type = 'queue' AND scope_id IN ({queues})").fetchone()[0]
            for t in parts),
        "kpi_values": con.execute(
            f"SELECT count(*) FROM {schema}marts.kpi_values WHERE scope_type = 'queue' AND scope_id IN ({queues})").fetchone()[0],
        "queue_legs": con.execute(
            f"SELECT count(*) FROM {schema}intermediate.int_contacts__queue_legs WHERE queue_id IN ({queues}) OR contact_id = 'c98'").fetchone()[0],
        "queue_intervals": con.execute(
            f"SELECT count(*) FROM {schema}marts.fct_queue_intervals WHERE queue_id IN ({queues}) "
            "AND cast(interval_start_utc AS date) = DATE '2026-03-02'").fetchone()[0],
        "team_legs_of_moved_agents": con.execute(
            f"SELECT count(*) FROM {schema}marts.fct_queue_legs WHERE (agent_id = 'A0002' AND team_id = 'T01') "
            "OR (agent_id = 'A0003' AND team_id IS NOT NULL)").fetchone()[0],
    }


def test_withdrawn_rows_leave_every_incremental_model(tmp_path, monkeypatch):
    monkeypatch.setenv("CCQ_HOME", str(tmp_path / "home"))  # the personal-data key, if one is made
    monkeypatch.setenv("CCQ_NOW", HAND_BUILT_NOW)
    work = tmp_path / "work"
    work.mkdir()
    db = work / "ccq.duckdb"

    # First delivery: the fixture plus the ghost queue's call and the unbooked leg.
    first = tmp_path / "first"
    _load(db, [
        _write(first, CRM, CRM_0302),
        _write(first, ACD_0302, (LANDING / ACD_0302).read_text(encoding="utf-8") + EXTRA_0302),
        _write(first, ACD_0303, (LANDING / ACD_0303).read_text(encoding="utf-8")),
        _write(first, ROSTER, (LANDING / ROSTER).read_text(encoding="utf-8")),
    ])
    run_dbt(work, "build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")
    with duckdb.connect(str(db), read_only=True) as con:
        before = _gone(con)
    # What the corrected delivery withdraws is there: the queue's parts and values, the
    # contacts' legs (c07's Q_PREMIUM leg, c08, c10, c11, c98, c99), their 15-minute intervals
    # and the teams of the agents' legs (A0002: c02, c98 booked -> c02 only; A0003: c06, c12).
    assert before["queue_legs"] == 6, before
    assert before["queue_intervals"] == 3, before
    assert before["team_legs_of_moved_agents"] == 3, before
    assert min(before.values()) > 0, before

    # Corrected re-delivery, same file ids: 03-02 without Q_PREMIUM, the ghost queue and the
    # unbooked leg; 03-03 header only.
    header, *rows = (LANDING / ACD_0302).read_text(encoding="utf-8").splitlines(keepends=True)
    corrected = tmp_path / "corrected"
    # (03-03 first: the legs' newest load is then 03-02's, and the next build sees no ACD file.)
    _load(db, [
        _write(corrected, ACD_0303, header),
        _write(corrected, ACD_0302, header + "".join(r for r in rows if ",Q_PREMIUM," not in r)),
    ])
    run_dbt(work, "run")
    # Then the roster alone, corrected: A0002 in T02, A0003 withdrawn. No ACD file comes with it,
    # so the legs it relabels are found by the roster file (fct_queue_legs).
    roster = (LANDING / ROSTER).read_text(encoding="utf-8").splitlines(keepends=True)
    _load(db, [_write(corrected, ROSTER, "".join(
        r.replace(",T01,S001,", ",T02,S002,") if r.startswith("A0002,") else r
        for r in roster if not r.startswith("A0003,")))])
    run_dbt(work, "run")
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT contact_reason FROM intermediate.int_customer__contacts "
                           "WHERE contact_id = 'c01'").fetchall() == [("Billing",)]
    # Then the CRM alone, corrected: c01's interaction withdrawn.
    _load(db, [_write(corrected, CRM, "".join(l for l in CRM_0302.splitlines(keepends=True) if ",c01," not in l))])
    run_dbt(work, "run")
    shutil.copy(db, tmp_path / "incremental.duckdb")
    models = _incremental_models(work)
    run_dbt(work, "run", "--full-refresh")

    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{tmp_path / 'incremental.duckdb'}' AS inc (READ_ONLY)")
        con.execute(f"ATTACH '{db}' AS fr (READ_ONLY)")
        # Nothing withdrawn is left, in the incremental build or in the full refresh.
        assert _gone(con, "inc.") == dict.fromkeys(before, 0)
        assert con.execute("SELECT contact_reason, customer_id_hash IS NOT NULL FROM inc.intermediate.int_customer__contacts "
                           "WHERE contact_id = 'c01'").fetchall() == [(None, True)]  # the IVR's customer, no reason
        assert _gone(con, "fr.") == dict.fromkeys(before, 0)
        # Every incremental model and the KPI values: the rows of the full refresh, row for row.
        diffs = {table: _differences(con, table) for table in [*models, "marts.kpi_values"] if table not in STICKY}
        assert {t: d for t, d in diffs.items() if d != (0, 0)} == {}
        # The comparison is not vacuous: the models hold rows.
        rows = {t: con.execute(f"SELECT count(*) FROM inc.{t}").fetchone()[0]
                for t in ("intermediate.int_contacts__queue_legs", "intermediate.int_kpi_parts__queue_legs", "marts.kpi_values")}
        assert min(rows.values()) > 0, rows
    finally:
        con.close()
