"""Run a small demo centre with faults injected on purpose, and print what the pipeline made of
them (a script, not a test):

    .venv/bin/python benchmarks/fault_injection_demo.py [--days 28] [--agents 20] [--queues 3] [--keep DIR]

Generates the demo extracts into a temporary CCQ_HOME, corrupts some of them (see FAULTS), runs
the two Dagster jobs as `ccq demo` does, and prints per source the files and rows read, loaded
and quarantined (audit.load_files), the failing checks, and the uncertified KPI values with
their reasons. The default window spans the spring-forward day of 2026 (29 March, London).
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402

from ccq.generator import DemoConfig, generate  # noqa: E402
from ccq.settings import Paths  # noqa: E402

FAULTS = """\
day  3  acd_queue_events     3 lines with an unknown event code (TELEPORT)            -> quarantined
day  5  acd_queue_events     one CONNECT 10 minutes before its ENTERQUEUE              -> raw_acd_queue_legs fails
day  7  pbx_call_legs        2 unreadable times; 1 leg that ends an hour before start  -> quarantined; negative duration
day  8  survey_responses     an invitation sent in 2031                                -> timestamp in the future
day  9  crm_interactions     5 lines delivered twice in the same file                  -> duplicate keys (warning)
day 10  acd_queue_events     4 lines of day 9 delivered again                          -> duplicate keys (warning)
day 11  qa_evaluation_items  a score above the item's maximum                          -> score_within_max fails
day 12  acd_queue_events     file missing                                              -> extract missing
day 14  wfm_forecasts        2 intervals for an unknown queue                          -> queue_id_known fails
day 17  acd_queue_events     file cut at 40% of its bytes, mid-line                    -> last line quarantined; volume below norm
all     hr_roster            agent A0003 left out of every snapshot                    -> references to the roster fail
"""


def _file(landing: Path, table: str, day: date) -> Path:
    return landing / table / f"{table}_{day.isoformat()}.csv"


def _rewrite(path: Path, edit) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(edit(lines)), encoding="utf-8")


def _set_field(line: str, index: int, value: str) -> str:
    fields = line.rstrip("\n").split(",")
    fields[index] = value
    return ",".join(fields) + "\n"


def _shift(ts: str, seconds: int) -> str:
    t = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ") + timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def inject(landing: Path, start: date, days: int) -> None:
    d = lambda i: start + timedelta(days=i - 1)  # noqa: E731  (day 1 is the first extract day)

    def unknown_codes(lines):
        hits = [i for i, ln in enumerate(lines[1:], 1) if ",HOLD," in ln][:3]
        for i in hits:
            lines[i] = lines[i].replace(",HOLD,", ",TELEPORT,")
        return lines

    def connect_before_entry(lines):
        rows = [ln.rstrip("\n").split(",") for ln in lines]
        entries = {(r[1], r[2]): r[3] for r in rows[1:] if r[4] == "ENTERQUEUE"}
        for i, r in enumerate(rows[1:], 1):
            if r[4] == "CONNECT" and (r[1], r[2]) in entries:
                lines[i] = _set_field(lines[i], 3, _shift(entries[(r[1], r[2])], -600))
                break
        return lines

    def pbx_times(lines):
        lines[5] = _set_field(lines[5], 8, "2026-13-45T25:61:00Z")
        lines[6] = _set_field(lines[6], 10, "yesterday")
        started = lines[7].split(",")[8]
        lines[7] = _set_field(lines[7], 10, _shift(started, -3600))
        return lines

    _rewrite(_file(landing, "acd_queue_events", d(3)), unknown_codes)
    _rewrite(_file(landing, "acd_queue_events", d(5)), connect_before_entry)
    _rewrite(_file(landing, "pbx_call_legs", d(7)), pbx_times)
    _rewrite(_file(landing, "survey_responses", d(8)),
             lambda ls: ls[:2] + [_set_field(ls[2], 3, "2031-01-01T09:00:00Z")] + ls[3:])
    _rewrite(_file(landing, "crm_interactions", d(9)), lambda ls: ls + ls[10:15])
    day9 = _file(landing, "acd_queue_events", d(9)).read_text(encoding="utf-8").splitlines(keepends=True)
    _rewrite(_file(landing, "acd_queue_events", d(10)), lambda ls: ls + day9[20:24])

    def score_over_max(lines):
        for i, ln in enumerate(lines[1:], 1):
            f = ln.rstrip("\n").split(",")
            if f[6] and f[7]:
                lines[i] = _set_field(ln, 6, str(float(f[7]) + 5))
                break
        return lines

    _rewrite(_file(landing, "qa_evaluation_items", d(11)), score_over_max)
    _file(landing, "acd_queue_events", d(12)).unlink()
    _rewrite(_file(landing, "wfm_forecasts", d(14)),
             lambda ls: ls[:3] + [re.sub(r"^[^,]+", "Q_MARS", ln) for ln in ls[3:5]] + ls[5:])
    cut = _file(landing, "acd_queue_events", d(17))
    data = cut.read_bytes()
    at = int(len(data) * 0.4)
    cut.write_bytes(data[: at if data[at - 1:at] != b"\n" else at + 5])
    for p in (landing / "hr_roster").glob("hr_roster_*.csv"):
        _rewrite(p, lambda ls: [ln for ln in ls if not ln.startswith("A0003,")])


def run(home: Path, landing: Path, now: str) -> dict:
    from orchestration.runs import run_once

    _, _, ok, info = run_once(home, landing, now)
    if not ok:
        raise SystemExit(f"build failed: {info}")
    return info


def report(snapshot: str, warehouse: Path) -> None:
    con = duckdb.connect(snapshot, read_only=True)
    rows = con.execute(
        """SELECT table_name, count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined),
                  count(*) FILTER (WHERE rows_read <> rows_loaded + rows_quarantined)
           FROM audit.load_files GROUP BY 1 ORDER BY 1""").fetchall()
    print("\nPer source (audit.load_files):")
    print(f"{'source':<22}{'files':>6}{'read':>9}{'loaded':>9}{'quarant.':>9}{'not reconciling':>17}")
    for r in rows:
        print(f"{r[0]:<22}{r[1]:>6}{r[2]:>9,}{r[3]:>9,}{r[4]:>9,}{r[5]:>17}")
    t = [sum(r[i] for r in rows) for i in range(1, 6)]
    print(f"{'total':<22}{t[0]:>6}{t[1]:>9,}{t[2]:>9,}{t[3]:>9,}{t[4]:>17}")

    # The snapshot keeps no quarantine messages (they can carry personal data); the warehouse does.
    wh = duckdb.connect(str(warehouse), read_only=True)
    print("\nQuarantined lines (audit.quarantine: rule, field, message):")
    for r in wh.execute("SELECT rule, field, message FROM audit.quarantine ORDER BY file_id, line_no").fetchall():
        print(f"  {r[0]:<15}{r[1] or '-':<15}{r[2][:140]}")
    wh.close()

    print("\nFailing checks (audit.check_results):")
    for r in con.execute(
        """SELECT severity, table_name, suite, check_name, count(*) AS days, string_agg(DISTINCT cast(partition_date AS VARCHAR), ', ')
           FROM audit.check_results WHERE NOT success GROUP BY ALL ORDER BY 1, 2, 3, 4""").fetchall():
        print(f"  {r[0]:<8} {r[1]:<20} {r[2]}: {r[3]} ({r[4]} outcome(s); days: {r[5] or 'whole table'})")

    total, uncertified = con.execute("SELECT count(*), count(*) FILTER (WHERE NOT certified) FROM marts.kpi_values").fetchone()
    print(f"\nKPI values: {total:,}; uncertified: {uncertified:,}")
    reasons = Counter()
    for (reason,) in con.execute("SELECT certification_reason FROM marts.kpi_values WHERE NOT certified").fetchall():
        for part in reason.split("; "):
            reasons[part] += 1
    print("Reasons (KPI values carrying each):")
    for reason, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {n:>6,}  {reason}")
    by_grain = con.execute(
        """SELECT grain, count(*), count(*) FILTER (WHERE NOT certified) FROM marts.kpi_values GROUP BY 1
           ORDER BY array_position(['interval', 'day', 'week', 'month'], grain)""").fetchall()
    print("Uncertified per grain: " + ", ".join(f"{g} {u:,}/{n:,}" for g, n, u in by_grain))
    con.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=28)
    ap.add_argument("--agents", type=int, default=20)
    ap.add_argument("--queues", type=int, default=3)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--start", type=date.fromisoformat, default=date(2026, 3, 9))
    ap.add_argument("--keep", type=Path, help="CCQ_HOME to keep (default: a temporary folder, removed after)")
    args = ap.parse_args(argv)
    if args.days < 17:
        ap.error("--days must be at least 17 (the last fault is on day 17)")

    home = args.keep or Path(tempfile.mkdtemp(prefix="ccq-faults-"))
    if home.exists() and any(home.iterdir()):
        shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True)
    incoming = home / "incoming"
    cfg = DemoConfig(start_date=args.start, days=args.days, agents=args.agents, queues=args.queues, seed=args.seed)
    summary = generate(incoming, cfg)
    print(f"generated {summary.files} files, {sum(summary.rows.values()):,} rows: {args.days} days from {args.start}, "
          f"{args.agents} agents, {args.queues} queues (seed {args.seed})")
    inject(incoming, args.start, args.days)
    print("faults injected:\n" + "\n".join("  " + ln for ln in FAULTS.splitlines()))
    now = (args.start + timedelta(days=args.days)).isoformat() + "T12:00:00"  # every extract due, none missing at the end
    info = run(home, incoming, now)
    print(f"\nsnapshot {info['snapshot']}\nvalidation report {info.get('report')}")
    report(info["snapshot"], Paths(home).warehouse)
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
