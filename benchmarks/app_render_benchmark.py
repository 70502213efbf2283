"""Render time of every page of the app on a published snapshot (a script, not a test).

    .venv/bin/python benchmarks/app_render_benchmark.py --home /tmp/ccq-demo [--repeat 3] [--browser]

For each page, through Streamlit's AppTest (the script run on the server, queries included):
  cold: caches cleared, the page's first run (sidebar filters and every query of the page);
  warm: the same page run again (what a user sees after changing a widget, cached queries).
With --browser, also the time from opening the page's URL in headless Chromium (Debian's
chromium, driven by Playwright) until Streamlit is idle with the page drawn.
Prints a Markdown table (median of --repeat runs, seconds) and one JSON line (also appended to
--json when given). The aim (issue 6) is under one second per page.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
APP = ROOT / "app" / "streamlit_app.py"
PAGES = ("scorecard", "service", "workforce", "agents", "customer", "quality", "trust", "catalogue")


def _apptest_times(page: str, repeat: int, lang: str) -> tuple[list[float], list[float], list[str]]:
    import streamlit as st
    from streamlit.logger import set_log_level
    from streamlit.testing.v1 import AppTest

    set_log_level("error")  # AppTest outside a server warns once per cached function

    cold, warm, problems = [], [], []
    for _ in range(repeat):
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.query_params["lang"] = lang
        at.run()  # a session has to exist before switching pages
        st.cache_data.clear()
        if page != "scorecard":
            at.switch_page(f"views/{page}.py")
        started = time.perf_counter()
        at.run()
        cold.append(time.perf_counter() - started)
        started = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - started)
        problems += [str(e.value) for e in at.exception] + [str(e.value) for e in at.error]
    return cold, warm, problems


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _browser_times(home: Path, repeat: int, lang: str) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CCQ_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("--browser needs Chromium (run .ci/run, or set CCQ_CHROMIUM)")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env={**os.environ, "CCQ_HOME": str(home)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        times: dict[str, list[float]] = {p: [] for p in PAGES}
        idle = '[data-testid="stApp"][data-test-script-state="notRunning"]'
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-dev-shm-usage"])
            for _ in range(repeat):
                for name in PAGES:
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    started = time.perf_counter()
                    page.goto(f"{url}/{'' if name == 'scorecard' else name}?lang={lang}")
                    page.wait_for_selector("h1", timeout=120_000)
                    page.wait_for_selector(idle, timeout=120_000)
                    times[name].append(time.perf_counter() - started)
                    page.close()
            browser.close()
        return times
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, default=os.environ.get("CCQ_HOME"),
                    help="CCQ_HOME holding publish/CURRENT.json (default: $CCQ_HOME)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--lang", default="en")
    ap.add_argument("--pages", default=",".join(PAGES))
    ap.add_argument("--browser", action="store_true", help="also time each page in headless Chromium")
    ap.add_argument("--json", type=Path, help="append the JSON line to this file")
    args = ap.parse_args(argv)
    if not args.home:
        raise SystemExit("give --home (a CCQ_HOME with a published snapshot)")
    home = args.home.resolve()
    os.environ["CCQ_HOME"] = str(home)

    from ccq.publish import current_snapshot
    from ccq.settings import Paths

    snap = current_snapshot(Paths(home))
    if snap is None:
        raise SystemExit(f"nothing published under {home}/publish")
    pages = [p for p in args.pages.split(",") if p]

    _apptest_times("scorecard", 1, args.lang)  # imports and Streamlit start-up, not counted
    result = {"snapshot": str(snap), "snapshot_mb": round(snap.stat().st_size / 1e6, 1), "lang": args.lang,
              "repeat": args.repeat, "machine": platform.platform(), "cpus": os.cpu_count(),
              "load_avg": os.getloadavg()[0], "at": datetime.now(timezone.utc).isoformat(), "pages": {}}
    for page in pages:
        cold, warm, problems = _apptest_times(page, args.repeat, args.lang)
        result["pages"][page] = {"apptest_cold_s": round(statistics.median(cold), 3),
                                 "apptest_warm_s": round(statistics.median(warm), 3), "problems": problems}
    if args.browser:
        for page, times in _browser_times(home, args.repeat, args.lang).items():
            if page in result["pages"] and times:
                result["pages"][page]["browser_s"] = round(statistics.median(times), 3)

    print(f"snapshot {snap} ({result['snapshot_mb']} MB), median of {args.repeat}, load {result['load_avg']:.2f}")
    print("\n| page | AppTest cold (s) | AppTest warm (s) | browser (s) | problems |")
    print("|---|---:|---:|---:|---|")
    for page, r in result["pages"].items():
        print(f"| {page} | {r['apptest_cold_s']:.3f} | {r['apptest_warm_s']:.3f} | "
              f"{r.get('browser_s', float('nan')):.3f} | {'; '.join(r['problems'])[:80] or '-'} |")
    line = json.dumps(result)
    print(line)
    if args.json:
        with args.json.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
    return 1 if any(r["problems"] for r in result["pages"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
