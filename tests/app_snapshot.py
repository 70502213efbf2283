"""A tiny warehouse with every table the app reads, in the marts' published shapes, for the app's
tests. Numbers are chosen so a test can state what each page must show (81.25% -> "81.3%")."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from ccq.publish import publish
from ccq.settings import Paths

REASON = ("acd_queue_events extract missing for 2026-03-04; "
          "raw_acd_queue_events: rows_per_day_within_range failed (3 unexpected)")
AS_OF = datetime(2026, 3, 5, 6, 0)
DATA_THROUGH = date(2026, 3, 4)

# kpi, label, label_zh, unit, area, metric_type, display_order, description, formula, parameters, lineage, model
CATALOGUE = [
    ("offered", "Offered", "呼入量", "contacts", "access", "simple", 10,
     "Contacts that entered an agent queue.", "count of queue legs", "", "acd_queue_events", "fct_queue_legs"),
    ("service_level", "Service level", "服务水平", "ratio", "access", "ratio", 20,
     "Share answered within T.", "answered within T / (answered + abandoned - short abandoned)",
     "sl_threshold_seconds,short_abandon_seconds", "acd_queue_events", "fct_queue_legs"),
    ("asa", "Average speed of answer", "平均应答速度", "seconds", "access", "ratio", 30,
     "Mean queue wait of answered contacts.", "sum of queue wait / answered", "", "acd_queue_events", "fct_queue_legs"),
    ("asa_median", "Median speed of answer", "应答等待时长中位数", "seconds", "access", "simple", 35,
     "Median queue wait of answered contacts.", "median of queue wait of answered", "", "acd_queue_events",
     "fct_queue_legs"),
    ("abandonment_rate", "Abandonment rate", "放弃率", "ratio", "access", "ratio", 40,
     "Share of offered contacts abandoned.", "(abandoned - short) / (offered - short)", "short_abandon_seconds",
     "acd_queue_events", "fct_queue_legs"),
    # Defined but never published: the scorecard must say "No data", not drop it.
    ("aht", "Average handle time", "平均处理时长", "seconds", "handling", "ratio", 50,
     "Mean handle time.", "(talk + hold + ACW) / handled", "", "acd_queue_events", "fct_queue_legs"),
    ("adherence", "Schedule adherence", "排班遵从率", "ratio", "workforce", "ratio", 60,
     "Time in the scheduled activity / scheduled time.", "adherent seconds / scheduled seconds", "",
     "agent_state_events,wfm_schedules", "fct_agent_intervals"),
    ("occupancy", "Occupancy", "占用率", "ratio", "workforce", "ratio", 70,
     "Handling time / staffed time.", "(talk + hold + ACW) / staffed", "", "agent_state_events", "fct_agent_intervals"),
    ("shrinkage", "Shrinkage", "缩减率", "ratio", "workforce", "ratio", 80,
     "Paid time not available for contacts.", "non-productive seconds / paid seconds", "", "agent_state_events",
     "fct_agent_intervals"),
    ("shrinkage_break", "Shrinkage: break", "缩减率（休息）", "ratio", "workforce", "ratio", 81,
     "Breaks / paid time.", "break seconds / paid seconds", "", "agent_state_events", "fct_agent_intervals"),
    ("shrinkage_training", "Shrinkage: training", "缩减率（培训）", "ratio", "workforce", "ratio", 82,
     "Training / paid time.", "training seconds / paid seconds", "", "agent_state_events", "fct_agent_intervals"),
    ("required_agents", "Required agents", "所需坐席", "agents", "workforce", "ratio", 83,
     "Agents the Erlang model in force needs per interval.", "sum of required agents / intervals", "",
     "wfm_forecasts,acd_queue_events", "fct_staffing_intervals"),
    ("scheduled_agents", "Scheduled agents", "排班坐席", "agents", "workforce", "ratio", 84,
     "Agents scheduled to handle contacts per interval.", "sum of scheduled agents / intervals", "",
     "wfm_schedules", "fct_staffing_intervals"),
    ("available_agents", "Available agents", "可用坐席", "agents", "workforce", "ratio", 85,
     "Agents signed in and not in shrinkage per interval.", "sum of available agents / intervals", "",
     "agent_state_events", "fct_staffing_intervals"),
    ("fcr", "First-contact resolution", "首次解决率", "ratio", "resolution", "ratio", 90,
     "Handled contacts not followed by another within N days.", "not re-contacted / handled", "fcr_window_days",
     "crm_interactions", "fct_contacts"),
    ("qa_score", "QA score", "质检得分", "score", "resolution", "ratio", 95,
     "Weighted mean of evaluation item scores.", "sum of evaluation scores / evaluations", "",
     "qa_evaluations,qa_evaluation_items", "fct_qa_evaluations"),
    ("csat", "CSAT", "客户满意度", "ratio", "customer", "ratio", 100,
     "Share of answers in the top two boxes.", "top-two answers / answers", "", "survey_responses", "fct_surveys"),
    ("complaint_rate", "Complaint rate", "投诉率", "per_1000", "customer", "ratio", 110,
     "Complaints per 1,000 handled contacts.", "complaints / handled", "", "crm_complaints", "fct_complaints_daily"),
]

QUEUES = [
    ("Q_GENERAL", "General enquiries", "综合咨询", "general", "inbound", "voice", 3, "LON"),
    ("Q_BILLING", "Billing", "账单", "billing", "inbound", "voice", 3, "LON"),
]
SITES = [("LON", "London", "Europe/London", "GB"), ("MAN", "Manchester", "Europe/London", "GB")]
# marts.dim_queues / dim_sites: the seeds' rows, and what the data named that the seeds do not.
UNCONFIGURED_NOTE = ("queue support is not configured in seeds/queues.csv; defaults used: service level at 20 s, "
                     "short abandon under 5 s, FCR window 7 days, occupancy cap 85%, Erlang C staffing model, site "
                     "Asia/Shanghai; add it with `ccq configure --write-missing`")
DIM_QUEUES = [(q, n, zh, ct, d, ch, site, "Europe/London", True, None) for q, n, zh, ct, d, ch, _, site in QUEUES] + [
    ("support", "support", "support", None, "inbound", "voice", "Asia/Shanghai", "Asia/Shanghai", False, UNCONFIGURED_NOTE)]
DIM_SITES = [(s, n, tz, cc, True, None) for s, n, tz, cc in SITES] + [
    ("Asia/Shanghai", "Asia/Shanghai", "Asia/Shanghai", None, False,
     "site Asia/Shanghai is not configured in seeds/sites.csv; its calendar is drawn in Asia/Shanghai; add it with "
     "`ccq configure --write-missing`")]

# kpi -> unit, target, warning, direction, owner_role, first_action
TARGETS = {
    "offered": ("contacts", None, None, "higher_is_better", "Planning analyst", "Compare with the forecast"),
    "service_level": ("ratio", 0.8, 0.75, "higher_is_better", "Operations manager",
                      "Check staffing vs. forecast for the interval"),
    "asa": ("seconds", 20.0, 30.0, "lower_is_better", "Team leader", "Review agent availability"),
    "asa_median": ("seconds", 10.0, 15.0, "lower_is_better", "Team leader", "Review agent availability"),
    "abandonment_rate": ("ratio", 0.05, 0.08, "lower_is_better", "Operations manager", "Look at the longest waits"),
    "aht": ("seconds", 330.0, 360.0, "lower_is_better", "Team leader", "Coach long calls"),
    "adherence": ("ratio", 0.92, 0.9, "higher_is_better", "WFM analyst", "Coach agents off schedule"),
    "occupancy": ("ratio", 0.85, 0.9, "lower_is_better", "WFM analyst", "Add agents"),
    "shrinkage": ("ratio", 0.35, 0.4, "lower_is_better", "WFM analyst", "Review absence"),
    "shrinkage_break": ("ratio", None, None, "lower_is_better", None, None),
    "shrinkage_training": ("ratio", None, None, "lower_is_better", None, None),
    "required_agents": ("agents", None, None, None, None, None),
    "scheduled_agents": ("agents", None, None, None, None, None),
    "available_agents": ("agents", None, None, None, None, None),
    "fcr": ("ratio", 0.7, 0.65, "higher_is_better", "Quality manager", "Listen to repeat calls"),
    "qa_score": ("score", 85.0, 80.0, "higher_is_better", "Quality manager", "Calibrate evaluators"),
    "csat": ("ratio", 0.8, 0.75, "higher_is_better", "Customer experience lead", "Read the verbatims"),
    "complaint_rate": ("per_1000", 0.005, 0.008, "lower_is_better", "Customer experience lead",
                       "Review the top complaint category"),
}

# The catalogue's explanation of a percentile of 0 s from the data (meta zero_note, zero_note_zh).
ZERO_NOTES = {"asa_median": ("Half or more of the answered contacts waited 0 s.", "一半及以上的已接通联络等待 0 秒。")}

# kpi -> owner_role_zh, first_action_zh (the seed's Chinese columns; the rest fall back to English)
TARGETS_ZH = {
    "offered": ("计划分析员", "与预测对比"),
    "service_level": ("运营经理", "按时段对照预测检查人力"),
    "asa": ("组长", "检查坐席在岗情况"),
    "asa_median": ("组长", "检查坐席在岗情况"),
    "abandonment_rate": ("运营经理", "查看等待最长的来电"),
    "aht": ("组长", "辅导长通话"),
    "adherence": ("排班分析员", "辅导未按排班工作的坐席"),
    "occupancy": ("排班分析员", "增加坐席"),
    "shrinkage": ("排班分析员", "检查缺勤"),
    "fcr": ("质检经理", "抽听重复来电"),
    "qa_score": ("质检经理", "校准质检员"),
    "csat": ("客户体验负责人", "阅读客户原话"),
    "complaint_rate": ("客户体验负责人", "检查最主要的投诉类别"),
}
# Who receives each owner role's digest (seeds/owner_recipients.csv); Quality manager has nobody.
RECIPIENTS = [("Operations manager", "ops@centre.example", "en"), ("Operations manager", "yunying@centre.example", "zh"),
              ("Team leader", "team.leader@centre.example", "en")]
# The KPIs the scorecard leads with (catalogue is_headline).
HEADLINE = ("service_level", "asa", "abandonment_rate", "aht", "fcr")
PROVISIONAL_UNTIL = datetime(2026, 3, 12, 0, 0)
# The cause-and-effect tree (catalogue drivers): service level <- ASA <- occupancy, and adherence, shrinkage.
DRIVERS = {"service_level": "asa, adherence, shrinkage", "asa": "occupancy"}


def _value(kpi, grain, day, scope_type, scope_id, value, status=None, certified=True, reason=None,
           previous=None, year_ago=None, utc=None, provisional_until=None, to_date=None, withheld=None):
    unit, target, warning, direction, owner, action = TARGETS[kpi]
    owner_zh, action_zh = TARGETS_ZH.get(kpi, (None, None))
    start = datetime.fromisoformat(day)
    return dict(
        kpi=kpi, grain=grain, period_start=start, period_start_utc=utc, scope_type=scope_type, scope_id=scope_id,
        numerator=value * 100, denominator=100.0, value=value, unit=unit, target=target, warning=warning,
        direction=direction, status=status, owner_role=owner, first_action=action, certified=certified,
        certification_reason=reason, as_of=AS_OF, data_through=DATA_THROUGH,
        previous_value=previous, change_vs_previous=None if previous is None else value - previous,
        year_ago_value=year_ago, change_vs_year_ago=None if year_ago is None else value - year_ago,
        owner_role_zh=owner_zh, first_action_zh=action_zh, provisional_until=provisional_until,
        previous_to_date_value=to_date, change_vs_previous_to_date=None if to_date is None else value - to_date,
        previous_to_date_through=None if to_date is None else date(2026, 2, 4),
        status_withheld=withheld or ("provisional" if provisional_until else None),
    )


def values() -> list[dict]:
    v = _value
    rows = [
        v("offered", "day", "2026-03-03", "all", "*", 1100),
        v("service_level", "day", "2026-03-03", "all", "*", 0.7, "missed"),
        v("asa", "day", "2026-03-03", "all", "*", 25.0, "at_risk"),
        v("offered", "day", "2026-03-04", "all", "*", 1234, previous=1100),
        v("service_level", "day", "2026-03-04", "all", "*", 0.8125, "met", previous=0.7, year_ago=0.7625),
        v("asa", "day", "2026-03-04", "all", "*", 42.4, "missed", certified=False, reason=REASON, previous=25.0),
        v("abandonment_rate", "day", "2026-03-04", "all", "*", 0.0625, "at_risk"),
        # most answered contacts waited 0 s: a median of 0 s beats its target but gets no status
        v("asa_median", "day", "2026-03-04", "all", "*", 0.0, None, withheld="zero_from_data"),
        v("offered", "day", "2026-03-04", "queue", "Q_BILLING", 321),
        v("service_level", "day", "2026-03-04", "queue", "Q_BILLING", 0.7777, "at_risk"),
        v("asa", "day", "2026-03-04", "queue", "Q_BILLING", 12.5, "met"),
        v("offered", "day", "2026-03-04", "queue", "Q_GENERAL", 913),
        v("service_level", "day", "2026-03-04", "queue", "Q_GENERAL", 0.825, "met"),
        v("asa", "day", "2026-03-04", "queue", "Q_GENERAL", 52.0, "missed"),
        v("service_level", "day", "2026-03-04", "site", "LON", 0.8125, "met"),
        v("service_level", "week", "2026-03-02", "all", "*", 0.76, "at_risk"),
        # March to date (1-4) against all of February (0.70) and, like for like, 1-4 February (0.75)
        v("service_level", "month", "2026-03-01", "all", "*", 0.7654, "at_risk", previous=0.70, to_date=0.75),
        # workforce
        v("adherence", "day", "2026-03-04", "all", "*", 0.9312, "met"),
        v("occupancy", "day", "2026-03-04", "all", "*", 0.8, "met"),
        v("shrinkage", "day", "2026-03-04", "all", "*", 0.3, "met"),
        v("shrinkage_break", "day", "2026-03-04", "all", "*", 0.1),
        v("shrinkage_training", "day", "2026-03-04", "all", "*", 0.2),
        # customer
        # FCR's re-contact window is still open: no status until it closes, however good it looks.
        v("fcr", "day", "2026-03-04", "all", "*", 0.74, None, certified=False,
          reason="provisional: 3 handled contacts still inside their re-contact window",
          provisional_until=PROVISIONAL_UNTIL),
        v("csat", "day", "2026-03-04", "all", "*", 0.85, "met"),
        v("complaint_rate", "day", "2026-03-04", "all", "*", 0.0042, "met"),
        v("qa_score", "day", "2026-03-04", "all", "*", 86.5, "met"),
    ]
    # teams, a supervisor and agents (ids only)
    people = {
        ("team", "T01"): dict(qa_score=88.0, aht=300.0, fcr=0.8, adherence=0.95),
        ("team", "T02"): dict(qa_score=82.0, aht=360.0, fcr=0.7, adherence=0.9),
        ("supervisor", "S01"): dict(qa_score=88.0, aht=300.0, fcr=0.8, adherence=0.95),
        ("agent", "A001"): dict(qa_score=91.0, aht=280.0, fcr=0.85, adherence=0.97),
        ("agent", "A002"): dict(qa_score=85.0, aht=320.0, fcr=0.75, adherence=0.93),
        ("agent", "A003"): dict(qa_score=82.0, aht=360.0, fcr=0.7, adherence=0.9),
    }
    for (scope_type, scope_id), kpis in people.items():
        for kpi, val in kpis.items():
            rows.append(v(kpi, "day", "2026-03-04", scope_type, scope_id, val))
    # one agent's trend: three days of QA score
    rows += [v("qa_score", "day", "2026-03-02", "agent", "A001", 80.0),
             v("qa_score", "day", "2026-03-03", "agent", "A001", 84.0)]
    # interval grain: service level at three intervals of 2026-03-04 for the centre and one queue
    for hhmm, sl_all, sl_bill in (("09:00", 0.9, 0.95), ("09:15", 0.6, 0.5), ("10:00", 0.75, 0.8)):
        local = f"2026-03-04T{hhmm}"
        rows.append(v("service_level", "interval", local, "all", "*", sl_all, utc=datetime.fromisoformat(local)))
        rows.append(v("service_level", "interval", local, "queue", "Q_BILLING", sl_bill,
                      utc=datetime.fromisoformat(local)))
    # staffing at interval grain: the centre is the sum of its queues' agents (see STAFFING)
    for scope_type, scope_id, queues in (("all", "*", ("Q_GENERAL", "Q_BILLING")), ("queue", "Q_BILLING", ("Q_BILLING",))):
        for hhmm in ("09:00", "09:15"):
            mine = [r for r in STAFFING if r[0] in queues and r[1] == hhmm]
            local = f"2026-03-04T{hhmm}"
            for kpi, col in (("required_agents", 4), ("scheduled_agents", 5), ("available_agents", 6)):
                rows.append(v(kpi, "interval", local, scope_type, scope_id, float(sum(r[col] for r in mine)),
                              utc=datetime.fromisoformat(local)))
    return rows


def _typed(con, name: str, ddl: str, rows: list[tuple]) -> None:
    con.execute(f"CREATE OR REPLACE TABLE {name} ({ddl})")
    if rows:
        con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(rows[0]))})", rows)


KPI_VALUES_DDL = (
    "kpi VARCHAR, grain VARCHAR, period_start TIMESTAMP, period_start_utc TIMESTAMP, scope_type VARCHAR, "
    "scope_id VARCHAR, numerator DOUBLE, denominator DOUBLE, value DOUBLE, unit VARCHAR, target DOUBLE, "
    "warning DOUBLE, direction VARCHAR, status VARCHAR, owner_role VARCHAR, first_action VARCHAR, "
    "certified BOOLEAN, certification_reason VARCHAR, as_of TIMESTAMP, data_through DATE, previous_value DOUBLE, "
    "change_vs_previous DOUBLE, year_ago_value DOUBLE, change_vs_year_ago DOUBLE, owner_role_zh VARCHAR, "
    "first_action_zh VARCHAR, provisional_until TIMESTAMP, previous_to_date_value DOUBLE, "
    "change_vs_previous_to_date DOUBLE, previous_to_date_through DATE, status_withheld VARCHAR"
)
PARETO_DDL = ("month DATE, category VARCHAR, items BIGINT, share DOUBLE, cumulative_share DOUBLE, "
              "rank INTEGER, is_vital_few BOOLEAN")


def _pareto(month, counts: list[tuple[str, int]]) -> list[tuple]:
    total = sum(n for _, n in counts)
    out, cumulative, crossed = [], 0, False
    for rank, (category, n) in enumerate(counts, start=1):
        cumulative += n
        vital = not crossed
        crossed = crossed or cumulative / total >= 0.8
        out.append((month, category, n, n / total, cumulative / total, rank, vital))
    return out


PARETO_REASONS_MARCH = [("Billing question", 50), ("Password reset", 30), ("Address change", 15), ("Other", 5)]
PARETO_REASONS_ALL = [("Billing question", 120), ("Password reset", 40), ("Address change", 30), ("Other", 10)]
PARETO_COMPLAINTS = [("Long wait", 6), ("Rude agent", 3), ("Wrong bill", 1)]
PARETO_QA = [("Verify identity", 7), ("Offer further help", 2), ("Summarise call", 1)]
# reference.category_labels: the Chinese names of the categories (seeds/category_labels.csv)
CATEGORY_LABELS = [
    ("contact_reason", "Billing question", "账单问题"), ("contact_reason", "Password reset", "重置密码"),
    ("contact_reason", "Address change", "地址变更"), ("contact_reason", "Other", "其他"),
    ("complaint_category", "Long wait", "等待过长"), ("complaint_category", "Rude agent", "坐席态度差"),
    ("complaint_category", "Wrong bill", "账单错误"), ("qa_item", "Verify identity", "身份核实"),
    ("qa_item", "Offer further help", "主动提供更多帮助"), ("qa_item", "Summarise call", "通话总结"),
]

SPC = [  # period, value, centre, ucl, lcl, in_baseline, is_signal, rules
    ("2026-02-28", 0.80, 0.78, 0.90, 0.66, True, False, None),
    ("2026-03-01", 0.76, 0.78, 0.90, 0.66, True, False, None),
    ("2026-03-02", 0.79, 0.78, 0.90, 0.66, True, False, None),
    ("2026-03-03", 0.60, 0.78, 0.90, 0.66, False, True, "rule_1"),
    ("2026-03-04", 0.8125, 0.78, 0.90, 0.66, False, False, None),
]
PAIRS = [("2026-03-02", 0.9, 20.0), ("2026-03-03", 0.7, 25.0), ("2026-03-04", 0.8125, 42.4)]
CORRELATION = -0.4321

STAFFING = [  # queue, local time, forecast, offered, required, scheduled, available
    ("Q_GENERAL", "09:00", 40.0, 44, 9, 10, 9), ("Q_GENERAL", "09:15", 42.0, 38, 10, 10, 8),
    ("Q_BILLING", "09:00", 12.0, 15, 4, 4, 4), ("Q_BILLING", "09:15", 11.0, 10, 3, 4, 3),
]

FAILING_CHECK = "rows_per_day_within_range"


def write_warehouse(path: Path, kpi_values: list[dict] | None = None, *,
                    without: tuple[str, ...] = ()) -> None:
    """without: tables to leave out, as a data set without WFM/QA/surveys would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        for schema in ("marts", "reference", "audit"):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        _typed(con, "reference.queues", "queue_id VARCHAR, queue_name VARCHAR, queue_name_zh VARCHAR, "
               "call_type VARCHAR, direction VARCHAR, channel VARCHAR, priority INTEGER, site_id VARCHAR", QUEUES)
        _typed(con, "reference.sites", "site_id VARCHAR, site_name VARCHAR, time_zone VARCHAR, country_code VARCHAR",
               SITES)
        _typed(con, "marts.dim_queues", "queue_id VARCHAR, queue_name VARCHAR, queue_name_zh VARCHAR, call_type VARCHAR, "
               "direction VARCHAR, channel VARCHAR, site_id VARCHAR, time_zone VARCHAR, is_configured BOOLEAN, "
               "configuration_note VARCHAR", DIM_QUEUES)
        _typed(con, "marts.dim_sites", "site_id VARCHAR, site_name VARCHAR, time_zone VARCHAR, country_code VARCHAR, "
               "is_configured BOOLEAN, configuration_note VARCHAR", DIM_SITES)
        _typed(con, "reference.kpi_targets", "kpi VARCHAR, scope_type VARCHAR, scope_id VARCHAR, direction VARCHAR, "
               "target DOUBLE, warning DOUBLE, effective_from DATE, effective_to DATE, owner_role VARCHAR, "
               "first_action VARCHAR, owner_role_zh VARCHAR, first_action_zh VARCHAR",
               [(k, "all", "*", d, tg, w, date(2000, 1, 1), date(9999, 12, 31), o, a, *TARGETS_ZH.get(k, (None, None)))
                for k, (_, tg, w, d, o, a) in TARGETS.items()])
        _typed(con, "reference.owner_recipients", "owner_role VARCHAR, email VARCHAR, lang VARCHAR", RECIPIENTS)
        _typed(con, "reference.category_labels", "domain VARCHAR, category VARCHAR, label VARCHAR, label_zh VARCHAR",
               [(d, c, c, zh) for d, c, zh in CATEGORY_LABELS])
        _typed(con, "reference.source_schedule", "table_name VARCHAR, system VARCHAR, cadence VARCHAR, "
               "expected_by_hour_utc INTEGER, freshness_limit_hours INTEGER",
               [("acd_queue_events", "acd", "daily", 2, 36), ("wfm_schedules", "wfm", "daily", 2, 36)])
        _typed(con, "marts.kpi_catalogue", "kpi VARCHAR, label VARCHAR, label_zh VARCHAR, description VARCHAR, "
               "formula VARCHAR, unit VARCHAR, area VARCHAR, booked_by VARCHAR, parameters VARCHAR, "
               "lineage VARCHAR, display_order INTEGER, metric_type VARCHAR, semantic_model VARCHAR, model VARCHAR, "
               "is_headline BOOLEAN, drivers VARCHAR, description_zh VARCHAR, formula_zh VARCHAR, booked_by_zh VARCHAR, "
               "zero_note VARCHAR, zero_note_zh VARCHAR",
               # inserted out of display order on purpose: the app must sort
               [(c[0], c[1], c[2], c[7], c[8], c[3], c[4], "queue entry time", c[9], c[10], c[6], c[5],
                 c[11].removeprefix("fct_"), c[11], c[0] in HEADLINE, DRIVERS.get(c[0]),
                 f"{c[2]}的定义。", f"{c[2]}的公式", "进入队列的时间", *ZERO_NOTES.get(c[0], (None, None)))
                for c in reversed(CATALOGUE)])
        _typed(con, "marts.kpi_values", KPI_VALUES_DDL,
               [tuple(r.values()) for r in (values() if kpi_values is None else kpi_values)])
        _typed(con, "marts.fct_staffing_intervals",
               "queue_id VARCHAR, site_id VARCHAR, interval_start_utc TIMESTAMP, interval_start_local TIMESTAMP, "
               "local_date DATE, forecast_contacts DOUBLE, offered BIGINT, required_agents INTEGER, "
               "required_agents_erlang_c INTEGER, required_agents_erlang_a INTEGER, scheduled_agents DOUBLE, "
               "available_agents DOUBLE, staffing_gap DOUBLE, erlang_model VARCHAR",
               [(q, "LON", datetime.fromisoformat(f"2026-03-04T{hm}"), datetime.fromisoformat(f"2026-03-04T{hm}"),
                 date(2026, 3, 4), f, o, r, r, r - 1, s, a, a - r, "erlang_c") for q, hm, f, o, r, s, a in STAFFING])
        always, never = date(1900, 1, 1), date(9999, 12, 31)
        _typed(con, "marts.dim_agents",
               "agent_id VARCHAR, valid_from DATE, valid_until DATE, team_id VARCHAR, supervisor_id VARCHAR, "
               "site_id VARCHAR, time_zone VARCHAR, is_latest INTEGER",
               [("A001", always, never, "T01", "S01", "LON", "Europe/London", 1),
                ("A002", always, never, "T01", "S01", "LON", "Europe/London", 1),
                ("A003", always, date(2026, 3, 1), "T09", "S09", "LON", "Europe/London", 0),  # moved before March
                ("A003", date(2026, 3, 1), never, "T02", "S02", "LON", "Europe/London", 1)])
        march = date(2026, 3, 1)
        _typed(con, "marts.pareto_contact_reasons", PARETO_DDL,
               _pareto(march, PARETO_REASONS_MARCH) + _pareto(None, PARETO_REASONS_ALL))
        _typed(con, "marts.pareto_complaint_categories", PARETO_DDL,
               _pareto(march, PARETO_COMPLAINTS) + _pareto(None, PARETO_COMPLAINTS))
        _typed(con, "marts.pareto_failed_qa_items", PARETO_DDL, _pareto(march, PARETO_QA) + _pareto(None, PARETO_QA))
        _typed(con, "marts.spc_points",
               "kpi VARCHAR, chart_type VARCHAR, grain VARCHAR, scope_type VARCHAR, scope_id VARCHAR, "
               "period_start TIMESTAMP, value DOUBLE, center_line DOUBLE, ucl DOUBLE, lcl DOUBLE, "
               "in_baseline BOOLEAN, is_signal BOOLEAN, signal_rules VARCHAR",
               [("service_level", "p", "day", "all", "*", datetime.fromisoformat(p), val, c, u, lo, b, s, r)
                for p, val, c, u, lo, b, s, r in SPC])
        _typed(con, "marts.kpi_pair_points",
               "kpi_x VARCHAR, kpi_y VARCHAR, grain VARCHAR, scope_type VARCHAR, scope_id VARCHAR, "
               "period_start TIMESTAMP, value_x DOUBLE, value_y DOUBLE",
               [("service_level", "asa", "day", "all", "*", datetime.fromisoformat(p), x, y) for p, x, y in PAIRS])
        _typed(con, "marts.kpi_correlations",
               "kpi_x VARCHAR, kpi_y VARCHAR, grain VARCHAR, scope_type VARCHAR, scope_id VARCHAR, "
               "n_periods INTEGER, correlation DOUBLE",
               [("service_level", "asa", "day", "all", "*", len(PAIRS), CORRELATION)])
        checked = datetime(2026, 3, 5, 5, 0)
        _typed(con, "audit.check_results",
               "run_id VARCHAR, check_kind VARCHAR, suite VARCHAR, check_name VARCHAR, target VARCHAR, "
               "table_name VARCHAR, partition_date DATE, success BOOLEAN, severity VARCHAR, unexpected_count BIGINT, "
               "element_count BIGINT, details VARCHAR, checked_at TIMESTAMP",
               [("r1", "gx_suite", "raw_acd_queue_events", "columns_match_contract", "raw.acd_queue_events",
                 "acd_queue_events", date(2026, 3, 3), True, "critical", 0, 4000, "ok", checked),
                ("r1", "gx_suite", "raw_acd_queue_events", FAILING_CHECK, "raw.acd_queue_events",
                 "acd_queue_events", date(2026, 3, 4), False, "critical", 1, 1, "no file for the day", checked)])
        _typed(con, "audit.load_files",
               "file_id VARCHAR, table_name VARCHAR, file_date DATE, source_file VARCHAR, sha256 VARCHAR, bytes BIGINT, "
               "encoding VARCHAR, rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, loaded_at TIMESTAMP, "
               "load_seconds DOUBLE",
               [("acd/1", "acd_queue_events", date(2026, 3, 2), "/x/acd_1.csv", "a", 10, "utf-8", 4000, 3997, 3,
                 datetime(2026, 3, 4, 2), 0.1),
                ("wfm/1", "wfm_schedules", date(2026, 3, 4), "/x/wfm_1.csv", "b", 10, "utf-8", 500, 500, 0,
                 datetime(2026, 3, 5, 2), 0.1)])
        _typed(con, "audit.quarantine",
               "file_id VARCHAR, table_name VARCHAR, line_no BIGINT, field VARCHAR, rule VARCHAR, "
               "quarantined_at TIMESTAMP",
               [("acd/1", "acd_queue_events", n, "event_time", "type", datetime(2026, 3, 4, 2))
                for n in (10, 11)]
               + [("acd/1", "acd_queue_events", 12, "queue_id", "allowed_values", datetime(2026, 3, 4, 2))])
        for table in without:
            con.execute(f"DROP TABLE IF EXISTS {table}")


def make_home(home: Path, **kwargs) -> Paths:
    paths = Paths(home=home).ensure()
    write_warehouse(paths.warehouse, **kwargs)
    publish(paths)
    (paths.reports / "latest.html").write_text("<html><body>validation report</body></html>", encoding="utf-8")
    return paths

