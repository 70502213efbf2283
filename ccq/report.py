"""The human-readable validation report of a run, written from the audit tables as one HTML page
(and JSON beside it) that the app links to: per source, the files with their reconciliation
(rows read, loaded, quarantined), why rows were quarantined, and every failing check with its
details; then the checks on the marts."""
from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from ccq.contract import tables

LATEST = "latest.html"
MAX_FAILED_PER_SOURCE = 200

_CSS = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}
.t{border-collapse:collapse;margin:.4em 0 1.2em}.t td,.t th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top;font-size:.9em}
.t th{background:#f3f3f3}.ok{color:#1a7f37}.bad{color:#c62828;font-weight:600}.warn{color:#b26a00;font-weight:600}
.muted{color:#777}h2{margin-top:1.6em;border-top:1px solid #ccc;padding-top:.6em}"""


def _failed_checks(con: duckdb.DuckDBPyConnection) -> "pandas.DataFrame":  # noqa: F821
    return con.execute(
        """SELECT table_name, severity, check_kind, suite, check_name, target, partition_date AS day,
                  unexpected_count AS unexpected, element_count AS checked, details
           FROM audit.check_results WHERE NOT success
           ORDER BY table_name, severity, partition_date NULLS FIRST, suite, check_name"""
    ).df()


def _days_without_extract(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Per daily source, the days between the centre's first and last extract day without a file."""
    from ccq.reference import seed_rows

    daily = [r["table_name"] for r in seed_rows("source_schedule") if r.get("cadence") == "daily"]
    rows = con.execute(
        """WITH span AS (SELECT min(file_date) AS first_day, max(file_date) AS last_day FROM audit.load_files),
                days AS (SELECT cast(unnest(generate_series(first_day, last_day, INTERVAL 1 DAY)) AS DATE) AS day FROM span),
                wanted AS (SELECT unnest(?::VARCHAR[]) AS table_name)
           SELECT wanted.table_name, list(cast(days.day AS VARCHAR) ORDER BY days.day)
           FROM wanted CROSS JOIN days
           WHERE NOT EXISTS (SELECT 1 FROM audit.load_files f WHERE f.table_name = wanted.table_name AND f.file_date = days.day)
           GROUP BY wanted.table_name""",
        [daily],
    ).fetchall()
    return {t: days for t, days in rows}


def write_validation_report(con: duckdb.DuckDBPyConnection, out_dir: Path, run_id: str) -> tuple[Path, dict]:
    out_dir.mkdir(parents=True, exist_ok=True)
    files = con.execute(
        """SELECT table_name, count(*) AS files, sum(rows_read)::BIGINT AS rows_read, sum(rows_loaded)::BIGINT AS rows_loaded,
                  sum(rows_quarantined)::BIGINT AS rows_quarantined,
                  count(*) FILTER (WHERE rows_read <> rows_loaded + rows_quarantined) AS files_not_reconciling,
                  min(file_date) AS first_day, max(file_date) AS last_day
           FROM audit.load_files GROUP BY table_name ORDER BY table_name"""
    ).df()
    per_file = con.execute(
        """SELECT table_name, regexp_extract(file_id, '[^/]+$') AS file, file_date AS day, encoding, bytes,
                  rows_read, rows_loaded, rows_quarantined,
                  CASE WHEN rows_read = rows_loaded + rows_quarantined THEN 'yes' ELSE 'NO' END AS reconciles,
                  loaded_at
           FROM audit.load_files ORDER BY table_name, file_date, file_id"""
    ).df()
    quarantine = con.execute(
        """SELECT table_name, regexp_extract(file_id, '[^/]+$') AS file, rule, field, count(*) AS lines,
                  min(line_no) AS first_line, arg_min(message, line_no) AS first_message
           FROM audit.quarantine GROUP BY ALL ORDER BY table_name, file, first_line"""
    ).df()
    checks = _failed_checks(con)
    missing = _days_without_extract(con)
    [(n_checks,)] = con.execute("SELECT count(*) FROM audit.check_results").fetchall()
    critical = checks[checks["severity"] == "critical"] if len(checks) else checks
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
        "failed_critical_checks": int(len(critical)),
        "days_without_extract": missing,
        "per_source": {
            r.table_name: {"files": int(r.files), "rows_read": int(r.rows_read), "rows_loaded": int(r.rows_loaded),
                           "rows_quarantined": int(r.rows_quarantined),
                           "failed_checks": int((checks["table_name"] == r.table_name).sum()) if len(checks) else 0}
            for r in files.itertuples()
        },
    }

    def table(df, empty: str) -> str:
        if not len(df):
            return f"<p class='muted'>{html.escape(empty)}</p>"
        return df.to_html(index=False, border=0, classes="t", na_rep="")

    def status(n_critical: int, n_warning: int, not_reconciling: int = 0, quarantined: int = 0) -> str:
        if n_critical or not_reconciling:
            return "<span class='bad'>FAIL</span>"
        if n_warning or quarantined:
            return "<span class='warn'>WARN</span>"
        return "<span class='ok'>PASS</span>"

    def failing(sub) -> str:
        shown = sub.drop(columns=["table_name"]).head(MAX_FAILED_PER_SOURCE)
        more = len(sub) - len(shown)
        extra = f"<p class='muted'>{more} more not shown (see audit.check_results).</p>" if more > 0 else ""
        return table(shown, "Every check passed.") + extra

    sections = []
    contract = tables()
    sources = sorted(set(files["table_name"]) | set(contract))
    for name in sources:
        f = files[files["table_name"] == name]
        c = checks[checks["table_name"] == name] if len(checks) else checks
        n_crit = int((c["severity"] == "critical").sum()) if len(c) else 0
        n_warn = len(c) - n_crit
        totals = f.iloc[0] if len(f) else None
        head = (f"{int(totals.files)} files, {int(totals.rows_read):,} rows read, {int(totals.rows_loaded):,} loaded, "
                f"{int(totals.rows_quarantined):,} quarantined" if totals is not None else "no extract loaded")
        system = contract[name].system if name in contract else ""
        gaps = missing.get(name, [])
        if gaps and totals is not None:
            head += f"; no extract for {len(gaps)} day(s): {', '.join(gaps[:10])}{' ...' if len(gaps) > 10 else ''}"
        sections.append(
            f"<h2 id='{html.escape(name)}'>raw.{html.escape(name)} <span class='muted'>({html.escape(system)})</span> "
            f"{status(n_crit, n_warn, int(totals.files_not_reconciling) if totals is not None else 0, int(totals.rows_quarantined) if totals is not None else 0)}</h2>"
            f"<p>{head}; {n_crit} critical and {n_warn} warning check failures.</p>"
            f"<h3>Files</h3>{table(per_file[per_file['table_name'] == name].drop(columns=['table_name']), 'No file.')}"
            f"<h3>Quarantined rows</h3>{table(quarantine[quarantine['table_name'] == name].drop(columns=['table_name']), 'No row quarantined.')}"
            f"<h3>Failing checks</h3>{failing(c)}"
        )
    other = checks[~checks["table_name"].isin(sources)] if len(checks) else checks
    sections.append(
        "<h2 id='marts'>Marts, models and reference data</h2>"
        "<p class='muted'>Checks whose lineage reaches no raw table ('*': every KPI) or that guard a published model.</p>"
        + failing(other)
    )

    index = "".join(
        f"<tr><td><a href='#{html.escape(r['table_name'])}'>{html.escape(r['table_name'])}</a></td><td>{r['files']}</td>"
        f"<td>{r['rows_read']:,}</td><td>{r['rows_loaded']:,}</td><td>{r['rows_quarantined']:,}</td>"
        f"<td>{r['files_not_reconciling']}</td><td>{summary['per_source'][r['table_name']]['failed_checks']}</td></tr>"
        for r in files.to_dict("records")
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Validation report {html.escape(run_id)}</title>
<style>{_CSS}</style></head><body><h1>Validation report {status(len(critical), len(checks) - len(critical), summary['files_not_reconciling'])}</h1>
<p>Run {html.escape(run_id)}, written {summary['written_at']}. {summary['files']} files, {summary['rows_read']:,} rows read,
{summary['rows_loaded']:,} loaded, {summary['rows_quarantined']:,} quarantined; {summary['failed_checks']} of {summary['checks']} check
outcomes failed ({summary['failed_critical_checks']} critical: these uncertify the KPIs in their lineage for the days affected).</p>
<h2>Reconciliation per source</h2>
<table class="t"><tr><th>source</th><th>files</th><th>rows read</th><th>rows loaded</th><th>rows quarantined</th>
<th>files not reconciling</th><th>failed checks</th></tr>{index}</table>
{''.join(sections)}
</body></html>"""
    path = out_dir / f"validation-{run_id}.html"
    path.write_text(page, encoding="utf-8")
    (out_dir / f"validation-{run_id}.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (out_dir / LATEST).write_text(page, encoding="utf-8")
    return path, summary
