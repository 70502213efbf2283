"""UI strings. KPI and queue names come from the reference tables (label_zh, queue_name_zh)."""
from __future__ import annotations

LANGUAGES = {"en": "English", "zh": "简体中文"}
DEFAULT_LANG = "en"

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "app_title": "Call-centre service quality",
        "language": "Language",
        "scorecard": "Scorecard",
        "data_refreshed": "Data last refreshed: {when}",
        "unknown": "unknown",
        "grain": "Grain",
        "grain_day": "Day",
        "grain_week": "Week",
        "grain_month": "Month",
        "period": "Period",
        "queue": "Queue",
        "all_queues": "All queues",
        "no_snapshot_title": "No data published yet",
        "no_snapshot_body": (
            "The pipeline has not published a snapshot under `{where}`. "
            "Run `ccq demo` to load the demo data (or `ccq refresh` once real extracts have landed), "
            "then reload this page."
        ),
        "snapshot_error": "The published snapshot could not be read: {error}",
        "no_periods": "The snapshot has no KPI values at {grain} grain.",
        "scorecard_caption": "{grain} · {period} · {scope}",
        "data_as_of": "Data as of {when}",
        "no_data": "No data",
        "no_data_help": "No value was published for this period and scope.",
        "target": "Target",
        "target_line": "Target {op} {target}",
        "warning_line": "warning {warning}",
        "no_target": "No target",
        "owner": "Owner",
        "first_action": "First action",
        "status_met": "Met",
        "status_at_risk": "At risk",
        "status_missed": "Missed",
        "certified": "Certified",
        "not_certified": "Not certified",
        "not_certified_reason": "Not certified: {reason}",
        "reason_unknown": "no reason recorded",
        "table": "Details",
        "download_csv": "Download CSV",
        "col_kpi": "KPI",
        "col_label": "Label",
        "col_value": "Value",
        "col_display": "Shown as",
        "col_unit": "Unit",
        "col_target": "Target",
        "col_warning": "Warning",
        "col_direction": "Direction",
        "col_status": "Status",
        "col_certified": "Certified",
        "col_reason": "Certification reason",
        "col_owner": "Owner",
        "col_first_action": "First action",
        "col_numerator": "Numerator",
        "col_denominator": "Denominator",
        "col_as_of": "As of",
    },
    "zh": {
        "app_title": "呼叫中心服务质量",
        "language": "语言",
        "scorecard": "计分卡",
        "data_refreshed": "数据最近刷新：{when}",
        "unknown": "未知",
        "grain": "粒度",
        "grain_day": "日",
        "grain_week": "周",
        "grain_month": "月",
        "period": "期间",
        "queue": "队列",
        "all_queues": "全部队列",
        "no_snapshot_title": "尚未发布数据",
        "no_snapshot_body": (
            "流水线尚未在 `{where}` 下发布快照。"
            "请运行 `ccq demo` 加载演示数据（真实数据到达后运行 `ccq refresh`），然后刷新本页面。"
        ),
        "snapshot_error": "无法读取已发布的快照：{error}",
        "no_periods": "快照中没有{grain}粒度的指标值。",
        "scorecard_caption": "{grain} · {period} · {scope}",
        "data_as_of": "数据截至 {when}",
        "no_data": "无数据",
        "no_data_help": "该期间和范围没有发布数值。",
        "target": "目标",
        "target_line": "目标 {op} {target}",
        "warning_line": "预警 {warning}",
        "no_target": "无目标",
        "owner": "负责人",
        "first_action": "首要行动",
        "status_met": "达标",
        "status_at_risk": "有风险",
        "status_missed": "未达标",
        "certified": "已认证",
        "not_certified": "未认证",
        "not_certified_reason": "未认证：{reason}",
        "reason_unknown": "未记录原因",
        "table": "明细",
        "download_csv": "下载 CSV",
        "col_kpi": "指标代码",
        "col_label": "指标",
        "col_value": "数值",
        "col_display": "显示值",
        "col_unit": "单位",
        "col_target": "目标",
        "col_warning": "预警",
        "col_direction": "方向",
        "col_status": "状态",
        "col_certified": "已认证",
        "col_reason": "认证说明",
        "col_owner": "负责人",
        "col_first_action": "首要行动",
        "col_numerator": "分子",
        "col_denominator": "分母",
        "col_as_of": "截至",
    },
}

WEEKDAYS = {
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "zh": ["周一", "周二", "周三", "周四", "周五", "周六", "周日"],
}
# Own month names so output does not depend on the server's locale.
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July",
             "August", "September", "October", "November", "December"]


def lang_or_default(lang: str | None) -> str:
    return lang if lang in STRINGS else DEFAULT_LANG


def t(key: str, lang: str, **kwargs: object) -> str:
    text = STRINGS[lang_or_default(lang)].get(key) or STRINGS[DEFAULT_LANG][key]
    return text.format(**kwargs) if kwargs else text
