"""End to end: `streamlit run` on a published snapshot, every page opened in headless Chromium
(Debian's chromium, installed by .ci/run; Playwright drives it and never downloads a browser).
A page fails on any exception or error box Streamlit shows and on any JavaScript error; every page
is screenshotted into the test-artefact folder ($CCQ_TEST_ARTIFACTS, default test-artifacts/).
The snapshot is the synthetic one of app_snapshot.py, or set CCQ_E2E_HOME to a CCQ_HOME with a
published snapshot (e.g. the demo) to look at real data the same way."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from app_snapshot import make_home
from orchestration.commands import app_command

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("scorecard", "service", "workforce", "agents", "customer", "drivers", "quality", "trust", "catalogue")
START_TIMEOUT = 60
PAGE_TIMEOUT_MS = 60_000
# one server and one browser for the module: keep its tests on one xdist worker
pytestmark = pytest.mark.xdist_group("app_e2e")


def chromium_path() -> str:
    """The system Chromium; the test fails (never skips) without it: run .ci/run to install it."""
    found = os.environ.get("CCQ_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Chromium is not installed: run .ci/run (installs Debian's chromium) or set CCQ_CHROMIUM")
    return found


def artefacts() -> Path:
    name = "app-e2e-" + Path(os.environ["CCQ_E2E_HOME"]).name if os.environ.get("CCQ_E2E_HOME") else "app-e2e"
    out = Path(os.environ.get("CCQ_TEST_ARTIFACTS") or ROOT / "test-artifacts") / name
    out.mkdir(parents=True, exist_ok=True)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_home = os.environ.get("CCQ_E2E_HOME")
    home = tmp_path_factory.mktemp("app_e2e_home")
    if not data_home:
        make_home(home)
    port = _free_port()
    log = open(home / "streamlit.log", "w")
    env = {**os.environ, "CCQ_HOME": data_home or str(home)}
    proc = subprocess.Popen(
        app_command(port, "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"),
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"streamlit did not start: {(home / 'streamlit.log').read_text()[-2000:]}")
        time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    shutil.copy(home / "streamlit.log", artefacts() / "streamlit.log")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


def _settle(page) -> None:
    """Wait until the script has run and Streamlit is idle again."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector("h1", timeout=PAGE_TIMEOUT_MS)
    # charts draw after the script finished
    page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=PAGE_TIMEOUT_MS)


def _problems(page, js_errors: list[str]) -> list[str]:
    shown = [e.inner_text() for e in page.query_selector_all('[data-testid="stException"]')]
    shown += [e.inner_text() for e in page.query_selector_all('[data-testid="stAlertContentError"]')]
    # e.g. Streamlit's "Page not found" for a URL no page answers to
    shown += [e.inner_text() for e in page.query_selector_all('[role="dialog"]')]
    return shown + js_errors


def _screenshot(page, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the viewport to fit it."""
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": page.viewport_size["width"], "height": min(int(height) + 40, 12_000)})
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))


# What a Chinese page may show in Latin letters: units and codes a Chinese reader uses as they
# are, the names of methods, the language switch, and the synthetic snapshot's ids, time zones,
# tables, checks and fields. Code spans (commands, file names) are literal and not checked.
LATIN_ALLOWED = {
    "English", "CSV", "HTML", "UTC", "GBP", "FTE", "pp", "s", "h", "Erlang", "Laney", "XmR", "p", "KPI",
    "PBX", "ACD", "IVR", "CRM", "QA", "WFM", "HR",
    "Q_BILLING", "Q_GENERAL", "support", "LON", "MAN", "Europe", "London", "Asia", "Shanghai",
    "T01", "T02", "S01", "S02", "A001", "A002", "A003", "acd_queue_events", "wfm_schedules",
    "raw_acd_queue_events", "rows_per_day_within_range", "event_time", "queue_id",
}
LATIN_PAGES = ("scorecard", "service", "workforce", "agents", "customer", "drivers", "quality", "trust", "catalogue")


def _latin_words(page) -> set[str]:
    """Words in Latin letters a reader sees: the page's text without icon ligatures (material
    icons are words in a font), or the hidden skip link."""
    text = page.evaluate("""() => {
        const app = document.querySelector('[data-testid="stApp"]');
        const skip = new Set([...app.querySelectorAll(
            '[data-testid="stIconMaterial"], [translate="no"], a[href^="#"], code')]);
        const walker = document.createTreeWalker(app, NodeFilter.SHOW_TEXT);
        const words = [];
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            let el = node.parentElement, hidden = false;
            for (; el && el !== app; el = el.parentElement) { if (skip.has(el)) { hidden = true; break; } }
            if (!hidden) words.push(node.textContent);
        }
        return words.join(' ');
    }""")
    import re
    return set(re.findall(r"[A-Za-z][A-Za-z0-9_']*", text))


def _url(server: str, name: str) -> str:
    # every page by its own path: the scorecard is also the root
    return f"{server}/{URL_PATHS.get(name, name)}"


URL_PATHS = {"drivers": "causes"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_in_a_real_browser(server, browser, lang):
    out = artefacts()
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN" if lang == "zh" else "en-GB")
    failures, timings = {}, {}
    try:
        for name in PAGES:
            page = context.new_page()
            js_errors: list[str] = []
            page.on("pageerror", lambda exc, errs=js_errors: errs.append(f"javascript: {exc}"))
            # The app runs offline: no request leaves its server (fonts, icons, usage statistics).
            page.on("request", lambda req, errs=js_errors: errs.append(f"request outside the app: {req.url}")
                    if not req.url.startswith((server, "data:", "blob:")) else None)
            started = time.monotonic()
            page.goto(f"{_url(server, name)}?lang={lang}", timeout=PAGE_TIMEOUT_MS)
            _settle(page)
            timings[name] = round(time.monotonic() - started, 2)
            problems = _problems(page, js_errors)
            if lang == "zh" and name in LATIN_PAGES and not os.environ.get("CCQ_E2E_HOME"):
                english = _latin_words(page) - LATIN_ALLOWED
                if english:
                    problems.append(f"English on a Chinese page: {sorted(english)}")
            _screenshot(page, out / f"{name}-{lang}.png")
            if problems:
                failures[name] = problems
            # the page really rendered: its charts and tables are on screen
            assert page.query_selector("h1") is not None, name
            if name in ("service", "workforce", "quality", "customer") and not os.environ.get("CCQ_E2E_HOME"):
                assert page.query_selector_all('[data-testid="stVegaLiteChart"]'), f"{name}: no chart drawn"
            page.close()
    finally:
        context.close()
    (out / f"timings-{lang}.txt").write_text("\n".join(f"{k}\t{v}" for k, v in timings.items()) + "\n")
    assert not failures, failures


def test_filters_live_in_the_url(server, browser):
    page = browser.new_page()
    try:
        page.goto(f"{server}/service?grain=day&period=2026-03-04&queue=Q_BILLING", timeout=PAGE_TIMEOUT_MS)
        _settle(page)
        assert "queue=Q_BILLING" in page.url and "grain=day" in page.url
        if not os.environ.get("CCQ_E2E_HOME"):
            assert "77.8%" in page.inner_text('[data-testid="stMain"]')  # Billing's service level
        _screenshot(page, artefacts() / "service-Q_BILLING.png")
    finally:
        page.close()
