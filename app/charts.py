"""Charts more than one page draws (Altair); values arrive computed from the marts."""
from __future__ import annotations

from datetime import timedelta

import altair as alt
import streamlit as st

from app import data, filters, fmt, ui
from app.i18n import t

ALL_TIME = "all"
# Dates and times on axes and tooltips in numbers only: Vega-Lite names days and months in English
# whatever the reader's language.
DAY_FORMAT = "%m-%d"
TIME_FORMAT = "%H:%M"
MOMENT_FORMAT = "%Y-%m-%d %H:%M"


def day_axis(field: str) -> alt.X:
    return alt.X(f"{field}:T", title=None, axis=alt.Axis(format=DAY_FORMAT))


def time_axis(field: str) -> alt.X:
    return alt.X(f"{field}:T", title=None, axis=alt.Axis(format=TIME_FORMAT))


def when_tooltip(field: str, title: str) -> alt.Tooltip:
    return alt.Tooltip(f"{field}:T", format=MOMENT_FORMAT, title=title)


def pareto_section(sel: filters.Selection, table: str, name: str) -> None:
    """Bars of items by category, the cumulative share as a line, the vital few highlighted.
    Month follows the selected period (its month), or all time."""
    lang = sel.lang
    path = sel.snapshot.path
    if not data.has(path, f"marts.{table}"):
        ui.missing(lang, t(name, lang), f"marts.{table}")
        return
    months = [f"{m:%Y-%m-%d}" for m in data.pareto_months(path, table)]
    start, _ = sel.bounds
    period_month = f"{start.replace(day=1):%Y-%m-%d}"
    month = filters.page_choice(
        st, f"{name}_month", t("pareto_month", lang), [*months, ALL_TIME],
        default=period_month if period_month in months else ALL_TIME,
        format_func=lambda m: t("all_time", lang) if m == ALL_TIME else m[:7],
    )
    df = data.pareto(path, table, None if month == ALL_TIME else data.parse_month(month))
    if df.empty:
        st.info(t("no_data_help", lang), icon=":material/info:")
        return
    names = data.category_labels(path, table)
    df = df.assign(vital=[t("vital_few", lang) if v else t("useful_many", lang) for v in df["is_vital_few"]],
                   cumulative_percent=df["cumulative_share"] * 100,
                   name=[names.get(c, (c, c))[1 if lang == "zh" else 0] or c for c in df["category"]])
    base = alt.Chart(df).encode(x=alt.X("name:N", sort=list(df["name"]), title=None,
                                        axis=alt.Axis(labelAngle=-40, labelLimit=160)))
    bars = base.mark_bar().encode(
        y=alt.Y("items:Q", title=t("items", lang)),
        color=alt.Color("vital:N", title=None,
                        scale=alt.Scale(domain=[t("vital_few", lang), t("useful_many", lang)],
                                        range=["#c62828", "#9e9e9e"])),
        tooltip=[alt.Tooltip("rank:Q", title=t("rank", lang)), alt.Tooltip("name:N", title=t("category", lang)),
                 alt.Tooltip("items:Q", title=t("items", lang)),
                 alt.Tooltip("cumulative_percent:Q", format=".1f", title=t("cumulative_percent", lang))],
    )
    line = base.mark_line(point=True, color="#1565c0").encode(
        y=alt.Y("cumulative_percent:Q", title=t("cumulative_percent", lang), scale=alt.Scale(domain=[0, 100]))
    )
    eighty = alt.Chart(alt.Data(values=[{"y": 80}])).mark_rule(strokeDash=[4, 4], color="#1565c0").encode(y="y:Q")
    st.altair_chart(alt.layer(bars, line + eighty).resolve_scale(y="independent"), width="stretch")
    ui.table(
        df[["rank", "category", "items", "share", "cumulative_share", "is_vital_few", "name"]],
        f"{table}-{month}", lang,
        csv=df[["rank", "category", "items", "share", "cumulative_share", "is_vital_few"]],
        columns={
            "rank": (t("rank", lang), "value:count"), "name": (t("category", lang), "text"),
            "items": (t("items", lang), "value:count"), "share": (t("share", lang), "value:ratio"),
            "cumulative_share": (t("cumulative_share", lang), "value:ratio"),
            "is_vital_few": (t("vital_few", lang), "yes_no"),
        },
    )


def heatmap_section(sel: filters.Selection, kpi: str) -> None:
    """One KPI by weekday and interval of the selected period (its week for a day), from the
    published interval values; a team has none (people scopes stop at the day): the centre's."""
    lang = sel.lang
    path = sel.snapshot.path
    labels = ui.kpi_labels(path, lang)
    units = ui.kpi_units(path)
    start, end = sel.bounds
    if sel.grain == "day":  # one day is a single row: show its week
        start = start - timedelta(days=start.weekday())
        end = start + timedelta(days=7)
    scope_type, scope_id = sel.scope
    if scope_type == "team":  # no interval values per team (people scopes stop at day)
        scope_type, scope_id = data.ALL_SCOPE
        st.caption(t("heatmap_no_team", lang))
    cells = data.interval_values(path, kpi, scope_type, scope_id, start, end)
    st.caption(t("heatmap_caption", lang, start=f"{start:%Y-%m-%d}", end=f"{end - timedelta(days=1):%Y-%m-%d}"))
    if cells.empty:
        st.info(t("no_data_help", lang), icon=":material/info:")
    else:
        unit = units.get(kpi)
        cells = cells.assign(
            day=lambda d: [fmt.period_label(f"{ts:%Y-%m-%d}", "day", lang) for ts in d["period_start"]],
            date=lambda d: d["period_start"].dt.strftime("%Y-%m-%d"),
            time=lambda d: d["period_start"].dt.strftime("%H:%M"),
            shown=lambda d: d["value"] * fmt.display_scale(unit),
        )
        day_order = list(dict.fromkeys(cells.sort_values("period_start")["day"]))
        heat = alt.Chart(cells).mark_rect().encode(
            x=alt.X("time:O", title=t("time_of_day", lang), axis=alt.Axis(labelAngle=-90)),
            y=alt.Y("day:O", sort=day_order, title=None),
            color=alt.Color(
                "shown:Q",
                title=fmt.axis_unit(unit) or None,
                scale=alt.Scale(scheme="redyellowgreen", reverse=units.get(kpi) == "seconds"),
            ),
            tooltip=[alt.Tooltip("day:O", title=t("col_day", lang)),
                     alt.Tooltip("time:O", title=t("col_local_time", lang)),
                     alt.Tooltip("shown:Q", format=".1f", title=f"{labels.get(kpi, kpi)} {fmt.axis_unit(unit)}".strip())],
        )
        st.altair_chart(heat, width="stretch")
        ui.table(
            cells[["date", "time", "period_start_utc", "value", "period_start"]],
            f"heatmap-{kpi}-{start}-{scope_type}-{scope_id.replace('*', 'all')}", lang,
            csv=cells[["date", "time", "period_start_utc", "value"]],
            columns={"period_start": (t("col_day", lang), "day"), "time": (t("col_local_time", lang), "text"),
                     "period_start_utc": (t("col_utc_start", lang), "utc"),
                     "value": (labels.get(kpi, kpi), f"value:{unit or ''}")},
        )
