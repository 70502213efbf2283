"""The human-readable validation report of a run: reconciliation per file, quarantined rows
and every failed check, written from the audit tables as one HTML page (and JSON beside it)
that the app links to."""
from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from pathlib import Path

import duckdb

LATEST = "latest.html"


def write_validation_report(con: duckdb.DuckDBPyConnection, out_dir: Path, run_id: str) -> tuple[Path, dict]:
    out_dir.mkdir(parents=True, exist_ok=True)
    files = con.execute(
        """SELECT table_name, count(*) AS files, sum(rows_read) AS rows_read, sum(rows_loaded) AS rows_loaded,
                  sum(rows_quarantined) AS rows_quarantined,
                  count(*) FILTER (WHERE rows_read <> rows_loaded + rows_quarantined) AS files_not_reconciling,
                  min(file_date) AS first_day, max(file_date) AS last_day
           FROM audit.load_files GROUP BY table_name ORDER BY table_name"""
    ).df()
    quarantine = con.execute(
        """SELECT table_name, rule, field, count(*) AS lines, min(message) AS example
           FROM audit.quarantine GROUP BY ALL ORDER BY lines DESC LIMIT 200"""
    ).df()
    checks = con.execute(
        """SELECT check_kind, severity, suite, check_name, target, table_name, partition_date, unexpected_count, details
           FROM audit.check_results WHERE NOT success ORDER BY severity, suite, check_name, partition_date LIMIT 500"""
    ).df()
    n_checks = con.execute("SELECT count(*) FROM audit.check_results").fetchone()[0]
    summary = {
        "run_id": run_id,
        "written_at": datetime.now(timezone.utc).isoformat(),
        "files": int(files["files"].sum()) if len(files) else 0,
        "rows_read": int(files["rows_read"].sum()) if len(files) else 0,
        "rows_loaded": int(files["rows_loaded"].sum()) if len(files) else 0,
        "rows_quarantined": int(files["rows_quarantined"].sum()) if len(files) else 0,
        "files_not_reconciling": int(files["files_not_reconciling"].sum()) if len(files) else 0,
        "checks": int(n_checks),
        "failed_checks": int(len(checks)),
    }

    def table(df, empty: str) -> str:
        return df.to_html(index=False, border=0, classes="t", na_rep="") if len(df) else f"<p>{html.escape(empty)}</p>"

    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Validation report {html.escape(run_id)}</title>
<style>body{{font-family:sans-serif;margin:2em}} .t{{border-collapse:collapse}} .t td,.t th{{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left}}</style>
</head><body><h1>Validation report</h1>
<p>Run {html.escape(run_id)}, written {summary['written_at']}. {summary['files']} files, {summary['rows_read']} rows read,
{summary['rows_loaded']} loaded, {summary['rows_quarantined']} quarantined; {summary['failed_checks']} of {summary['checks']} checks failed.</p>
<h2>Reconciliation per source</h2>{table(files, 'No extract loaded yet.')}
<h2>Quarantined rows</h2>{table(quarantine, 'No row quarantined.')}
<h2>Failed checks</h2>{table(checks, 'Every check passed.')}
</body></html>"""
    path = out_dir / f"validation-{run_id}.html"
    path.write_text(page, encoding="utf-8")
    (out_dir / f"validation-{run_id}.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (out_dir / LATEST).write_text(page, encoding="utf-8")
    return path, summary
