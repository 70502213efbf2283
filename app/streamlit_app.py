"""Entry point: `streamlit run app/streamlit_app.py`.

Runs on every rerun of every page: language, navigation, the snapshot to read and the sidebar
filters; then the selected page. Pages live in app/views/, not app/pages/: with a pages/ folder
next to the entry script Streamlit's legacy multipage mode can run a page directly (on a fresh
server for a deep link, and in AppTest on every run), skipping this file and its filters.
"""
import sys
from pathlib import Path

# `streamlit run` only puts app/ on sys.path; the app imports itself as `app` and needs `ccq`.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from app import data, filters, fmt  # noqa: E402
from app.i18n import t  # noqa: E402

# An emoji, not a :material/ icon: Streamlit fetches a material favicon from fonts.gstatic.com,
# and the app makes no request outside its server (it runs offline too).
st.set_page_config(page_title="CCQ", page_icon="☎️", layout="wide")

filters_box = st.sidebar.container()
language_box = st.sidebar.container()
lang = filters.language(language_box)

# Titles are translated; url_path is not, so links and the current page survive a language switch.
PAGES = [
    # file, title key, icon, url_path
    ("views/scorecard.py", "scorecard", ":material/scoreboard:", "overview"),
    ("views/service.py", "service", ":material/support_agent:", "service"),
    ("views/workforce.py", "workforce", ":material/groups:", "workforce"),
    ("views/agents.py", "agents", ":material/leaderboard:", "agents"),
    ("views/customer.py", "customer", ":material/sentiment_satisfied:", "customer"),
    ("views/drivers.py", "drivers", ":material/account_tree:", "causes"),
    ("views/quality.py", "quality", ":material/monitoring:", "quality"),
    ("views/trust.py", "trust", ":material/verified_user:", "trust"),
    ("views/catalogue.py", "catalogue", ":material/menu_book:", "catalogue"),
]
pages = {key: st.Page(file, title=t(key, lang), icon=icon, url_path=url, default=(key == "scorecard"))
         for file, key, icon, url in PAGES}


def _scorecard_by_name() -> None:
    # The default page is served at the root only; /scorecard (a bookmark, a shared link) lands there.
    st.switch_page(pages["scorecard"], query_params=st.query_params.to_dict())


page = st.navigation(
    [*pages.values(), st.Page(_scorecard_by_name, title=t("scorecard", lang), url_path="scorecard", visibility="hidden")]
)

snap = data.snapshot()
if snap is None:
    st.title(t("app_title", lang))
    st.subheader(t("no_snapshot_title", lang))
    st.info(t("no_snapshot_body", lang, where=data.publish_dir()), icon=":material/info:")
    st.stop()

try:
    filters.sidebar(filters_box, snap, lang)
    page.run()
except data.SnapshotError as exc:
    st.error(t("snapshot_error", lang, error=fmt.md_escape(exc)), icon=":material/error:")
