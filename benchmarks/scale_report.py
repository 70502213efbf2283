"""The report of the scale benchmark: gathers the figures of every stage done, checks them
against the targets and writes them as Markdown and JSON."""
from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timedelta, timezone
from pathlib import Path

from scale_config import END, SIZES, STAGES, TARGETS, load_average, size_dirs, start_date


def gather(out: Path, sizes: list[str]) -> dict:
    report: dict = {"measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
                                "load_now": load_average()},
                    "targets_on_L": TARGETS, "sizes": {}}
    for size in sizes:
        d = size_dirs(out, size)
        stages = {}
        for stage in STAGES:
            f = d["stages"] / f"{stage}.json"
            if f.exists():
                stages[stage] = json.loads(f.read_text())
        if stages:
            report["sizes"][size] = {"config": {**SIZES[size], "start": start_date(size).isoformat(),
                                                "end": (END - timedelta(days=1)).isoformat(), "incremental_day": END.isoformat()},
                                     "stages": stages, "verdict": verdict(stages)}
    return report


def verdict(st: dict) -> dict:
    v: dict = {}
    b = st.get("build", {})
    if "seconds" in b:
        v["full_build_seconds"] = b["seconds"]
        v["full_build_dbt_seconds"] = b.get("dbt_seconds")
    if "seconds" in st.get("incremental", {}):
        v["incremental_seconds"] = st["incremental"]["seconds"]
    # The product's stages: the generator stands in for the source systems, and the floor is a
    # hand-written reference query run without the product's memory budget.
    peaks = [s.get("peak_rss_mb", 0) for k, s in st.items() if k not in ("generate", "floor")]
    if peaks:
        v["peak_rss_mb"] = max(peaks)
    pages = st.get("queries", {}).get("pages", {})
    if pages:
        v["page_p95_ms"] = max(p.get("p95_ms", 0) for p in pages.values())
    if "seconds" in b and "seconds" in st.get("floor", {}) and st["floor"]["seconds"] > 0:
        v["build_floor_ratio"] = round(b["seconds"] / st["floor"]["seconds"], 1)
        if b.get("dbt_seconds"):
            v["dbt_floor_ratio"] = round(b["dbt_seconds"] / st["floor"]["seconds"], 1)
    v["met"] = {k: v[k] <= TARGETS[k] for k in TARGETS if k in v}
    return v


def _cpu(stage: dict) -> str:
    return f"{stage['cpu_seconds']:,.0f} s" if stage.get("cpu_seconds") is not None else "-"


def _mb(n) -> str:
    return f"{n / 1e6:,.0f} MB" if n else "-"


def markdown(rep: dict) -> str:
    m = rep["machine"]
    lines = ["# Scale benchmark (issue 8)", "",
             f"Measured {rep['measured_at']} on {m['cpus']} CPUs, {m['memory_gb']} GB, Python {m['python']}; "
             "every stage in a child process at nice 10, while other work shared the machine "
             "(load averages below). Written by `benchmarks/scale_benchmark.py`; figures also in "
             "`scale_benchmark.json`.", "",
             "Targets (on L): full build < 5 min, one-day incremental < 20 s, peak memory < 8 GB, "
             "app page p95 < 300 ms, full build <= 5x the hand-written floor query.", ""]
    sizes = rep["sizes"]
    if not sizes:
        return "\n".join(lines + ["No figures yet."])
    names = list(sizes)
    lines += ["## Summary", "", "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]

    def row(label, fn):
        vals = []
        for s in names:
            try:
                vals.append(fn(sizes[s]))
            except (KeyError, TypeError, ZeroDivisionError):
                vals.append("-")
        lines.append(f"| {label} | " + " | ".join(vals) + " |")

    st = lambda s, k: s["stages"][k]  # noqa: E731
    row("days x agents", lambda s: f"{s['config']['days']} x {s['config']['agents']}")
    row("calls", lambda s: f"{st(s, 'generate')['calls']:,}")
    row("raw rows / ACD events", lambda s: f"{st(s, 'generate')['rows_total']:,} / {st(s, 'generate')['rows']['acd_queue_events']:,}")
    row("CSV", lambda s: _mb(st(s, "generate")["csv_bytes"]))
    row("generation", lambda s: f"{st(s, 'generate')['wall_seconds']:,.0f} s")
    row("load", lambda s: f"{st(s, 'load')['seconds']:,.0f} s, CPU {_cpu(st(s, 'load'))} "
        f"({st(s, 'load')['rows_per_second']:,} rows/s)")
    row("validation (raw suites)", lambda s: f"{st(s, 'validate')['seconds']:,.0f} s, CPU {_cpu(st(s, 'validate'))}")
    row("full build (build_and_publish)", lambda s: f"{st(s, 'build')['seconds']:,.0f} s, CPU {_cpu(st(s, 'build'))}")
    row("  of which dbt", lambda s: f"{st(s, 'build')['dbt_seconds']:,.0f} s")
    row("one-day incremental (load + build)", lambda s: f"{st(s, 'incremental')['seconds']:,.1f} s "
        f"({st(s, 'incremental')['load_seconds']:,.1f} + {st(s, 'incremental')['build_seconds']:,.1f})")
    row("mean load average (1 min) during the stages", lambda s: ", ".join(
        f"{k} {v['load1_mean']}" for k, v in s["stages"].items() if v.get("load1_mean") is not None and k != "generate"))
    row("floor query", lambda s: f"{st(s, 'floor')['seconds']:,.2f} s")
    row("full build / floor", lambda s: f"{s['verdict']['build_floor_ratio']:,.0f}x (dbt only {s['verdict']['dbt_floor_ratio']:,.0f}x)")
    row("worst page p95", lambda s: f"{s['verdict']['page_p95_ms']:,.0f} ms")
    row("peak RSS (process tree, load to publish)", lambda s: f"{s['verdict']['peak_rss_mb']:,} MB")
    row("warehouse", lambda s: _mb(st(s, "incremental")["build"]["warehouse_bytes"] if "incremental" in s["stages"]
                                   else st(s, "build")["warehouse_bytes"]))
    row("snapshot", lambda s: _mb(st(s, "build")["snapshot_bytes"]))
    row("targets (L's, applied to each size)", lambda s: ", ".join(f"{k} {'yes' if ok else '**NO**'}" for k, ok in s["verdict"]["met"].items()))
    lines.append("")

    for s in names:
        sz = sizes[s]
        lines += [f"## {s}: {sz['config']['days']} days x {sz['config']['agents']} agents "
                  f"({sz['config']['start']} .. {sz['config']['end']}, incremental {sz['config']['incremental_day']})", "",
                  "| stage | seconds (wall) | CPU seconds | peak RSS | load avg before -> after (mean) |", "|---|---|---|---|---|"]
        for k, v in sz["stages"].items():
            lines.append(f"| {k} | {v.get('wall_seconds', '-')} | {v.get('cpu_seconds', '-')} | {v.get('peak_rss_mb', '-')} MB | "
                         f"{v.get('load_before', ['-'])[0]} -> {v.get('load_after', ['-'])[0]} ({v.get('load1_mean', '-')}) |")
        lines.append("")
        if "load" in sz["stages"]:
            top = list(sz["stages"]["load"]["seconds_per_table"].items())[:5]
            lines += ["Load, slowest tables: " + ", ".join(f"{t} {x:,.1f} s" for t, x in top), ""]
        if "validate" in sz["stages"]:
            top = list(sz["stages"]["validate"]["seconds_per_table"].items())[:5]
            lines += ["Validation, slowest tables: " + ", ".join(f"{t} {x:,.1f} s" for t, x in top), ""]
        for key in ("build", "incremental"):
            b = sz["stages"].get(key)
            if not b:
                continue
            bb = b.get("build", b)
            lines += [f"{key.capitalize()}, Dagster steps: " + ", ".join(f"{k} {x:,.1f} s" for k, x in
                                                                  sorted(bb["steps"].items(), key=lambda kv: -kv[1])), ""]
            if key == "incremental":
                lines += ["Incremental load steps: " + ", ".join(f"{k} {x:,.1f} s" for k, x in b.get("load_steps", {}).items()), ""]
            slow = bb["dbt"]["slowest"][:8]
            lines += [f"{key.capitalize()}, slowest dbt nodes: " + ", ".join(
                f"{n['node'].split('.')[-1] if not n['node'].startswith('test.') else n['node'].split('.')[2][:50]} "
                f"{n['seconds']:,.1f} s" for n in slow), ""]
        q = sz["stages"].get("queries")
        if q:
            lines += ["| app query | p50 ms | p95 ms | n |", "|---|---|---|---|"]
            for fn, r in q["functions"].items():
                if "p50_ms" in r:
                    lines.append(f"| data.{fn}({', '.join(r.get('args', []))}) | {r['p50_ms']} | {r['p95_ms']} | {r['n']} |")
                else:
                    lines.append(f"| data.{fn} | - | - | {r.get('skipped') or r.get('error', '')} |")
            for page, r in q["pages"].items():
                lines.append(f"| page {page} ({', '.join(r['measured'])}) | {r.get('p50_ms', '-')} | {r.get('p95_ms', '-')} | {r['n']} |")
            lines.append("")
    return "\n".join(lines) + "\n"


def write_report(out: Path, results: Path) -> dict:
    rep = gather(out, list(SIZES))
    results.mkdir(parents=True, exist_ok=True)
    (results / "scale_benchmark.json").write_text(json.dumps(rep, indent=1, default=str) + "\n", encoding="utf-8")
    (results / "scale_benchmark.md").write_text(markdown(rep), encoding="utf-8")
    return rep
