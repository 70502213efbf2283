"""Every page of the app through AppTest on the synthetic snapshot of app_snapshot.py: renders
without exceptions, shows the mart values, and the filters change them."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app_snapshot import FAILING_CHECK, REASON, make_home, values

APP = Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py"
TIMEOUT = 30
PAGES = ("scorecard", "service", "workforce", "agents", "customer", "drivers", "quality", "trust", "catalogue")
# A data set with only ACD data (as the Anonymous Bank records): no WFM, QA, surveys, quality marts.
ACD_ONLY = (
    "marts.fct_staffing_intervals", "marts.fct_agent_intervals", "marts.pareto_contact_reasons",
    "marts.pareto_complaint_categories", "marts.pareto_failed_qa_items", "marts.spc_points",
    "marts.kpi_pair_points", "marts.kpi_correlations",
)
ACD_KPIS = {"offered", "service_level", "asa", "abandonment_rate", "aht"}


@pytest.fixture
def home(tmp_path, monkeypatch):
    paths = make_home(tmp_path)
    monkeypatch.setenv("CCQ_HOME", str(tmp_path))
    return paths


def _open(page: str, query_params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(query_params or {})
    at.run()
    if page != "scorecard":
        at.switch_page(f"views/{page}.py").run()
    _ok(at)
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _frame(at: AppTest, *columns: str, nth: int | None = None):
    """The one table on the page whose first columns are these (or the nth of several)."""
    found = [d.value for d in at.dataframe if list(d.value.columns[:len(columns)]) == list(columns)]
    if nth is not None:
        return found[nth]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def _cells(df) -> list[list]:
    """A table's raw cells (not the text shown for them), an empty cell as None."""
    df = df[[c for c in df.columns if not c.endswith("__shown")]]
    return [[None if pd.isna(v) else v for v in row] for row in df.values.tolist()]


def _shown(df) -> dict[str, list[str]]:
    """What a table for people shows: header -> its cells' text."""
    return {c: list(df[c]) for c in df.columns if c.endswith("__shown")}


def _plain(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def _infos(at: AppTest) -> str:
    return "\n".join(_plain(i.value) for i in at.info)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(home, page, lang):
    at = _open(page, {"lang": lang})
    assert at.title, "every page has a title"
    # every table can be downloaded
    assert len(at.download_button) >= len(at.dataframe)


def test_service(home):
    at = _open("service")
    tiles = _tiles(at)
    assert tiles["Service level"] == "81.3%" and tiles["Average speed of answer"] == "42s"
    assert tiles["Abandonment rate"] == "6.3%"  # 0.0625 rounds half up

    by_queue = _frame(at, "queue_id", "queue").set_index("queue_id")
    assert by_queue.loc["Q_BILLING", "service_level"] == 0.7777
    assert by_queue.loc["Q_GENERAL", "service_level"] == 0.825
    assert by_queue.loc["Q_GENERAL", "offered"] == 913
    assert by_queue.loc["Q_BILLING", "queue"] == "Billing"
    # what a reader sees: queue names, the cards' units, no internal ids or raw ratios
    shown = _shown(_frame(at, "queue_id", "queue"))
    assert list(shown) == ["queue__shown", "service_level__shown", "asa__shown", "offered__shown"]
    assert dict(zip(shown["queue__shown"], shown["service_level__shown"])) == {"Billing": "77.8%",
                                                                                "General enquiries": "82.5%"}
    assert dict(zip(shown["queue__shown"], shown["asa__shown"])) == {"Billing": "13s", "General enquiries": "52s"}

    heat = _frame(at, "date", "time")
    assert list(zip(heat["time"], heat["value"])) == [("09:00", 0.9), ("09:15", 0.6), ("10:00", 0.75)]
    assert set(heat["date"]) == {"2026-03-04"}
    assert _shown(heat) == {"period_start__shown": ["Wed 4 Mar 2026"] * 3, "time__shown": ["09:00", "09:15", "10:00"],
                            "period_start_utc__shown": ["2026-03-04 09:00 UTC", "2026-03-04 09:15 UTC",
                                                        "2026-03-04 10:00 UTC"],
                            "value__shown": ["90.0%", "60.0%", "75.0%"]}

    arrivals = _frame(at, "interval_start_local", "interval_start_utc", "offered")
    assert list(arrivals["offered"]) == [44 + 15, 38 + 10]
    assert list(arrivals["forecast_contacts"]) == [40.0 + 12.0, 42.0 + 11.0]

    at.selectbox(key="flt_queue").select("Q_BILLING").run()
    _ok(at)
    assert _tiles(at)["Service level"] == "77.8%"
    assert list(_frame(at, "date", "time")["value"]) == [0.95, 0.5, 0.8]
    arrivals = _frame(at, "interval_start_local", "interval_start_utc", "offered")
    assert list(arrivals["offered"]) == [15, 10] and list(arrivals["forecast_contacts"]) == [12.0, 11.0]
    assert at.query_params["queue"] == "Q_BILLING"


def test_service_heatmap_kpi_choice_is_in_the_url(home):
    at = _open("service")
    assert at.selectbox(key="flt_heatmap_kpi").value == "service_level"
    assert at.query_params["heatmap_kpi"] == "service_level"


def test_workforce(home):
    at = _open("workforce")
    tiles = _tiles(at)
    assert tiles == {"Schedule adherence": "93.1%", "Occupancy": "80.0%", "Shrinkage": "30.0%",
                     "Required agents": "No data", "Scheduled agents": "No data", "Available agents": "No data"}
    reasons = _frame(at, "kpi", "reason").set_index("kpi")["value"].to_dict()
    assert reasons == {"shrinkage_break": 0.1, "shrinkage_training": 0.2}

    staffing = _frame(at, "interval_start_local", "interval_start_utc", "required_agents")
    assert list(staffing["required_agents"]) == [9 + 4, 10 + 3]
    assert list(staffing["scheduled_agents"]) == [14.0, 14.0]
    assert list(staffing["available_agents"]) == [13.0, 11.0]

    at.selectbox(key="flt_queue").select("Q_BILLING").run()
    _ok(at)
    staffing = _frame(at, "interval_start_local", "interval_start_utc", "required_agents")
    assert list(staffing["required_agents"]) == [4, 3] and list(staffing["available_agents"]) == [4.0, 3.0]

    at.selectbox(key="flt_queue").select("*").run()
    at.selectbox(key="flt_team").select("T01").run()
    _ok(at)
    assert _tiles(at)["Schedule adherence"] == "95.0%"
    assert _tiles(at)["Occupancy"] == "No data"


def test_agents_and_teams(home):
    at = _open("agents")
    teams = _frame(at, "team_id")
    assert list(teams["team_id"]) == ["T01", "T02"]  # best QA first
    assert list(teams["qa_score"]) == [88.0, 82.0]
    agents = _frame(at, "agent_id", "team_id")
    assert list(agents["agent_id"]) == ["A001", "A002", "A003"]
    assert list(agents["aht"]) == [280.0, 320.0, 360.0]
    assert list(agents["team_id"]) == ["T01", "T01", "T02"]

    # the first agent's trend: QA score on three days
    assert at.selectbox(key="flt_agent").value == "A001"
    trend = _frame(at, "kpi", "period_start", "value", "unit")
    assert list(trend.loc[trend["kpi"] == "qa_score", "value"]) == [80.0, 84.0, 91.0]

    # a supervisor sees their teams and agents, and their own numbers
    at.selectbox(key="flt_supervisor").select("S01").run()
    _ok(at)
    assert list(_frame(at, "team_id")["team_id"]) == ["T01"]
    assert list(_frame(at, "agent_id", "team_id")["agent_id"]) == ["A001", "A002"]
    assert _tiles(at)["QA score"] == "88.0"
    assert at.query_params["supervisor"] == "S01"

    at.selectbox(key="flt_supervisor").select("*").run()
    at.selectbox(key="flt_team").select("T02").run()
    _ok(at)
    assert list(_frame(at, "agent_id", "team_id")["agent_id"]) == ["A003"]


def test_customer(home):
    at = _open("customer")
    tiles = _tiles(at)
    assert tiles["CSAT"] == "85.0%" and tiles["First-contact resolution"] == "74.0%"
    assert tiles["Complaint rate"] == "4.20‰"

    reasons = _frame(at, "rank", "category", nth=0)
    reasons = reasons[reasons["category"].isin(["Billing question", "Password reset", "Address change", "Other"])]
    assert at.selectbox(key="flt_pareto_reasons_month").value == "2026-03-01"  # the period's month
    assert list(reasons["items"]) == [50, 30, 15, 5]
    assert list(reasons["is_vital_few"]) == [True, True, False, False]
    assert list(reasons["cumulative_share"]) == pytest.approx([0.5, 0.8, 0.95, 1.0])
    assert _shown(reasons)["cumulative_share__shown"] == ["50.0%", "80.0%", "95.0%", "100.0%"]

    # the categories by their names in the reader's language (the category_labels seed)
    zh = _open("customer", {"lang": "zh"})
    assert _shown(_frame(zh, "rank", "category", nth=0))["name__shown"] == ["账单问题", "重置密码", "地址变更", "其他"]

    at.selectbox(key="flt_pareto_reasons_month").select("all").run()
    _ok(at)
    reasons = _frame(at, "rank", "category", nth=0)
    assert list(reasons[reasons["category"] == "Billing question"]["items"]) == [120]


def test_quality_control(home):
    at = _open("quality")
    spc = _frame(at, "period_start", "value", "center_line")
    assert len(spc) == 5 and list(spc.loc[spc["is_signal"], "value"]) == [0.6]
    assert any("1 signal(s)" in c.value for c in at.caption)
    assert _shown(spc)["rules__shown"] == ["", "", "", "one point beyond 3 sigma", ""]
    assert _shown(spc)["value__shown"][3] == "60.0%" and _shown(spc)["is_signal__shown"][3] == "yes"

    qa = _frame(at, "rank", "category", nth=0)
    assert list(qa["category"]) == ["Verify identity", "Offer further help", "Summarise call"]

    tiles = _tiles(at)
    assert tiles["Correlation (Pearson)"] == "-0.43" and tiles["Periods"] == "3"
    pairs = _frame(at, "period_start", "value_x")
    assert list(pairs["value_y"]) == [20.0, 25.0, 42.4]

    # control chart up to the selected period only
    at.selectbox(key="flt_period").select("2026-03-03").run()
    _ok(at)
    assert len(_frame(at, "period_start", "value", "center_line")) == 4


def test_data_trust(home):
    at = _open("trust")
    tiles = _tiles(at)
    # ASA (a missing extract) and FCR (provisional: its re-contact window is open) are not certified
    assert tiles["Certified values this period"] == "12 / 14"
    assert tiles["Failing checks"] == "1 / 2"
    assert tiles["Rows quarantined"] == "3"
    assert tiles["Data through"] == "2026-03-04"

    uncertified = _frame(at, "kpi", "label", "period_start")
    assert list(uncertified["kpi"]) == ["asa", "fcr"]
    assert list(uncertified["certification_reason"]) == [
        REASON, "provisional: 3 handled contacts still inside their re-contact window"]
    assert list(_frame(at, "table_name", "severity")["check_name"]) == [FAILING_CHECK]
    quarantine = _frame(at, "table_name", "rule")
    assert dict(zip(quarantine["rule"], quarantine["rows"])) == {"type": 2, "allowed_values": 1}
    sources = _frame(at, "table_name", "system").set_index("table_name")
    assert sources.loc["acd_queue_events", "rows_quarantined"] == 3
    assert str(sources.loc["wfm_schedules", "last_file_date"])[:10] == "2026-03-04"
    # freshness: hours from the end of the last extract day to the latest load (2026-03-05 02:00)
    assert sources.loc["wfm_schedules", "age_hours"] == 2 and sources.loc["wfm_schedules", "is_fresh"]
    assert sources.loc["acd_queue_events", "age_hours"] == 50 and not sources.loc["acd_queue_events", "is_fresh"]
    assert any("validation report" in b.proto.label for b in at.download_button)
    # What the data names but the seeds do not: listed first, with how to configure it.
    missing = _frame(at, "kind", "name")
    assert _cells(missing) == [
        ["Queue", "support", "Asia/Shanghai", "Asia/Shanghai",
         "the default definition (queue_defaults in dbt_project.yml), days in Asia/Shanghai"],
        ["Site", "Asia/Shanghai", "", "Asia/Shanghai", "days in Asia/Shanghai, the zone its files were ingested in"]]
    assert any("2 queue(s) or site(s) appear in the data but not in the seeds" in w.value
               and "ccq configure --write-missing" in w.value for w in at.warning)

    at.selectbox(key="flt_queue").select("Q_BILLING").run()
    _ok(at)
    assert _tiles(at)["Certified values this period"] == "3 / 3"


def test_data_trust_lists_unconfigured_scopes_in_chinese(home):
    at = _open("trust", {"lang": "zh"})
    missing = _frame(at, "kind", "name")
    assert _cells(missing) == [
        ["队列", "support", "Asia/Shanghai", "Asia/Shanghai", "默认定义（项目配置中的队列默认值），按 Asia/Shanghai 计日"],
        ["站点", "Asia/Shanghai", "", "Asia/Shanghai", "按 Asia/Shanghai 计日（导入其文件时的时区）"]]
    assert any("数据中有 2 个队列或站点未在种子数据中配置" in w.value for w in at.warning)


def test_metric_catalogue(home):
    at = _open("catalogue")
    table = _frame(at, "kpi", "name").set_index("kpi")
    assert len(table) == 18
    assert table.loc["service_level", "formula"] == "answered within T / (answered + abandoned - short abandoned)"
    assert table.loc["service_level", "parameters"] == "sl_threshold_seconds,short_abandon_seconds"
    assert table.loc["service_level", "owner_role"] == "Operations manager"
    assert list(table.index[:3]) == ["offered", "service_level", "asa"]  # display order
    assert len(at.expander) == 18

    at.text_input(key="cat_search").input("abandon").run()
    _ok(at)
    assert set(_frame(at, "kpi", "name")["kpi"]) == {"abandonment_rate", "service_level"}

    at = _open("catalogue", {"lang": "zh"})
    shown = _shown(_frame(at, "kpi", "name"))
    row = shown["name__shown"].index("服务水平")
    # every text in Chinese: the definition, formula, unit, area and owner from their Chinese columns
    assert [shown[c][row] for c in ("area_shown__shown", "unit_shown__shown", "description_shown__shown",
                                    "formula_shown__shown", "owner_shown__shown")] == [
        "接通", "百分比", "服务水平的定义。", "服务水平的公式", "运营经理"]
    assert "**计入依据:** 进入队列的时间" in _plain(" ".join(m.value for m in at.markdown))
    targets = _shown(_frame(at, "kpi", "scope_type"))
    row = targets["name__shown"].index("服务水平")
    assert [targets[c][row] for c in ("scope__shown", "target_shown__shown", "warning_shown__shown",
                                      "effective_from__shown", "until_shown__shown", "owner_shown__shown",
                                      "action_shown__shown")] == [
        "全中心", "≥ 80.0%", "75.0%", "2000-01-01 周六", "长期有效", "运营经理", "按时段对照预测检查人力"]


@pytest.mark.parametrize("page", PAGES)
def test_pages_say_what_a_data_set_lacks(tmp_path, monkeypatch, page):
    acd = [r for r in values() if r["kpi"] in ACD_KPIS]
    make_home(tmp_path, kpi_values=acd, without=ACD_ONLY)
    monkeypatch.setenv("CCQ_HOME", str(tmp_path))
    at = _open(page)
    if page in ("service", "workforce", "customer", "quality"):
        assert "this snapshot has no" in _infos(at)


def test_a_zero_percentile_from_the_data_is_explained_not_judged(home):
    at = _open("drivers", {"kpi": "asa_median"})
    assert _tiles(at) == {"Median speed of answer": "0s"}
    assert ":gray-badge[:material/info: 0 from the data: no status] :blue-badge[:material/verified: Certified]" in [
        _plain(m.value) for m in at.markdown]
    assert "Half or more of the answered contacts waited 0 s." in [_plain(c.value) for c in at.caption]
    at = _open("drivers", {"kpi": "asa_median", "lang": "zh"})
    assert ":gray-badge[:material/info: 数据中为 0：不评定状态] :blue-badge[:material/verified: 已认证]" in [
        _plain(m.value) for m in at.markdown]
    assert "一半及以上的已接通联络等待 0 秒。" in [_plain(c.value) for c in at.caption]


def test_causes_from_a_kpi_to_its_drivers_by_queue(home):
    at = _open("drivers", {"kpi": "service_level"})
    assert at.selectbox(key="flt_kpi").value == "service_level"
    # the tree's branches with 4 March's values (app_snapshot.DRIVERS): ASA drives service level,
    # occupancy drives ASA; adherence and shrinkage drive service level
    tree = _shown(_frame(at, "kpi", "value", "status"))
    assert sorted(zip(tree["label__shown"], tree["drives__shown"], tree["value_shown__shown"],
                      tree["status_shown__shown"])) == [
        ("Average speed of answer", "Service level", "42s", "Missed"),
        ("Occupancy", "Average speed of answer", "80.0%", "Met"),
        ("Schedule adherence", "Service level", "93.1%", "Met"),
        ("Shrinkage", "Service level", "30.0%", "Met"),
    ]
    dot = at.get("graphviz_chart")[0].proto.spec
    # named by their labels, which the browser shows on hover
    assert '"Average speed of answer" -> "Service level"' in dot and '"Occupancy" -> "Average speed of answer"' in dot
    assert '"asa"' not in dot
    # its value by queue, as the mart publishes it
    queues = _frame(at, "scope_id", "kpi")
    assert dict(zip(queues["scope_id"], _shown(queues)["value__shown"])) == {"Q_BILLING": "77.8%", "Q_GENERAL": "82.5%"}


def test_the_scorecards_why_opens_the_causes_of_that_kpi(home):
    at = _open("scorecard")
    links = [e for e in at.get("page_link")]
    assert links and all(link.proto.page.endswith("causes") for link in links)
