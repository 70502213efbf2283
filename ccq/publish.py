"""Atomic publish of a read-only snapshot for the app.

The pipeline is the only writer of warehouse/ccq.duckdb. After a run has fully succeeded and
certified, the app-facing schemas (marts, reference, and the audit evidence without raw
text) are copied into a new file publish/ccq-<stamp>.duckdb, and the CURRENT pointer file is
replaced atomically (os.replace). Raw and staging data, which hold personal data in clear or
in hashed form, never leave the warehouse. The app opens whatever CURRENT
names, read-only, so a refresh never blocks it and a failed refresh never shows it half-built
numbers. Older snapshots are pruned once nobody can be opening them (we keep a few).
"""
from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from ccq.settings import MEMORY_LIMIT, Paths

POINTER = "CURRENT.json"
KEEP = 3


def publish(paths: Paths) -> Path:
    """Copy the warehouse to a new snapshot and point CURRENT at it. Returns the snapshot path."""
    paths.ensure()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = paths.publish_dir / f"ccq-{stamp}.duckdb"
    tmp = target.with_suffix(".partial")
    tmp.unlink(missing_ok=True)
    _copy_published_schemas(paths.warehouse, tmp)
    os.replace(tmp, target)
    pointer_tmp = paths.publish_dir / (POINTER + ".tmp")
    pointer_tmp.write_text(
        json.dumps({"snapshot": target.name, "published_at": datetime.now(timezone.utc).isoformat()}),
        encoding="utf-8",
    )
    os.replace(pointer_tmp, paths.publish_dir / POINTER)
    _prune(paths, keep=target)
    return target


PUBLISHED_SCHEMAS = ("marts", "reference")
# The snapshot is laid out for the app's reads: every page asks for one grain and scope over a
# few periods, so kpi_values is stored in that order and DuckDB's min/max index of each row
# group skips the rest (tens of millions of rows for a large centre).
PUBLISHED_ORDER = {("marts", "kpi_values"): "grain, scope_type, scope_id, period_start, kpi"}
# Row-level facts the app never reads (it reads KPI values, the quality marts and the roster
# facts): they stay in the warehouse for dbt, MetricFlow and analysts. At a year of a large
# centre they were most of the snapshot's rows and of the time to publish it.
NOT_PUBLISHED = {("marts", t) for t in (
    "fct_pbx_call_legs", "fct_ivr_sessions", "fct_fcr_contacts", "fct_crm_cases", "fct_survey_responses")}
# Evidence the app shows on its data-trust page; quarantine without raw text or messages,
# which can carry the personal data of a malformed row.
PUBLISHED_AUDIT = {
    "load_files": "SELECT * FROM wh.audit.load_files",
    "check_results": "SELECT * FROM wh.audit.check_results",
    "quarantine": "SELECT file_id, table_name, line_no, field, rule, quarantined_at FROM wh.audit.quarantine",
}


def _copy_published_schemas(warehouse: Path, target: Path) -> None:
    con = duckdb.connect()
    try:
        # Same memory budget as the pipeline; sorting kpi_values spills beside the snapshot.
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.execute(f"SET temp_directory = '{target}.tmp'")
        con.execute(f"ATTACH '{warehouse}' AS wh (READ_ONLY)")
        con.execute(f"ATTACH '{target}' AS snap")
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'wh' AND schema_name IN ?",
            [list(PUBLISHED_SCHEMAS)],
        ).fetchall()
        for schema in {s for s, _ in tables} | {"audit"}:
            con.execute(f'CREATE SCHEMA IF NOT EXISTS snap."{schema}"')
        for schema, table in tables:
            if (schema, table) in NOT_PUBLISHED:
                continue
            order = PUBLISHED_ORDER.get((schema, table))
            con.execute(f'CREATE TABLE snap."{schema}"."{table}" AS SELECT * FROM wh."{schema}"."{table}"'
                        + (f" ORDER BY {order}" if order else ""))
        audit = {t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh' AND schema_name = 'audit'").fetchall()}
        for table, sql in PUBLISHED_AUDIT.items():
            if table in audit:
                con.execute(f"CREATE TABLE snap.audit.{table} AS {sql}")
        con.execute("DETACH snap")
    finally:
        con.close()
        shutil.rmtree(f"{target}.tmp", ignore_errors=True)


def current_snapshot(paths: Paths) -> Path | None:
    """The snapshot the app should read, or None when nothing has been published yet."""
    pointer = paths.publish_dir / POINTER
    try:
        info = json.loads(pointer.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    snap = paths.publish_dir / info["snapshot"]
    return snap if snap.exists() else None


def published_at(paths: Paths) -> str | None:
    try:
        return json.loads((paths.publish_dir / POINTER).read_text(encoding="utf-8"))["published_at"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return None


def connect_snapshot(paths: Paths) -> duckdb.DuckDBPyConnection:
    snap = current_snapshot(paths)
    if snap is None:
        raise FileNotFoundError(f"nothing published yet under {paths.publish_dir}; run `ccq demo` or `ccq refresh`")
    return duckdb.connect(str(snap), read_only=True)


def _prune(paths: Paths, keep: Path) -> None:
    # A copy left by a run killed while publishing was never pointed at: only clutter.
    for partial in [*paths.publish_dir.glob("ccq-*.partial"), *paths.publish_dir.glob("ccq-*.partial.wal")]:
        partial.unlink(missing_ok=True)
    snaps = sorted(paths.publish_dir.glob("ccq-*.duckdb"))
    for old in snaps[:-KEEP]:
        if old != keep:
            try:
                old.unlink()
            except OSError:
                pass  # still open on some platforms; next publish tries again
