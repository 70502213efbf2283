"""Workforce: adherence, conformance, occupancy and shrinkage (split by reason), and required
(Erlang) against scheduled and available agents by interval."""
import altair as alt
import streamlit as st

from app import charts, data, fmt, ui
from app.i18n import t

SHRINKAGE = "shrinkage"

sel = ui.page_header("workforce")
lang = sel.lang
path = sel.snapshot.path
labels = ui.kpi_labels(path, lang)

rows = data.scorecard(path, sel.grain, sel.period, *sel.scope)
workforce = rows[rows["area"] == "workforce"]
by_reason = workforce[workforce["kpi"].str.startswith(SHRINKAGE + "_")]
headline = workforce[~workforce["kpi"].isin(by_reason["kpi"])]

if headline.empty:
    st.info(t("no_area_kpis", lang, area=t("area_workforce", lang)), icon=":material/info:")
elif headline["value"].isna().all():
    st.info(t("no_values_selection", lang), icon=":material/info:")
    ui.tiles(sel, headline, sparklines=False)
else:
    ui.tiles(sel, headline)

# --- shrinkage by reason ------------------------------------------------------------------------
st.subheader(t("shrinkage_by_reason", lang))
reasons = by_reason.dropna(subset=["value"])
if reasons.empty:
    st.info(t("no_values_selection", lang), icon=":material/info:")
else:
    reasons = reasons.assign(
        reason=[labels.get(k, k) for k in reasons["kpi"]],
        percent=reasons["value"] * fmt.display_scale("ratio"),
    )
    bars = alt.Chart(reasons).mark_bar().encode(
        x=alt.X("percent:Q", title="%"),
        y=alt.Y("reason:N", sort="-x", title=None),
        tooltip=["reason", alt.Tooltip("percent:Q", format=".1f")],
    )
    st.altair_chart(bars, width="stretch")
    ui.table(
        reasons[["kpi", "reason", "value", "certified"]],
        ui.csv_name(sel, "shrinkage-by-reason"), lang,
        columns={"reason": (t("col_label", lang), "text"), "value": (t("col_value", lang), "value:ratio"),
                 "certified": (t("col_certified", lang), "yes_no")},
    )

# --- staffing -----------------------------------------------------------------------------------
st.subheader(t("staffing", lang))
series = {
    "required_agents": t("series_required", lang),
    "scheduled_agents": t("series_scheduled", lang),
    "available_agents": t("series_available", lang),
}
start, end = sel.bounds
scope_type, scope_id = sel.scope
if scope_type not in ("queue", "site"):  # staffing is published for the centre, queues and sites
    if scope_type != "all":
        st.caption(t("staffing_centre", lang))
    scope_type, scope_id = data.ALL_SCOPE
staff = data.interval_series(path, tuple(series), scope_type, scope_id, start, end)
if staff.empty:
    if not data.has(path, "marts.fct_staffing_intervals"):
        ui.missing(lang, t("staffing", lang), "marts.fct_staffing_intervals")
    else:
        st.info(t("no_data_help", lang), icon=":material/info:")
else:
    long = staff.assign(series=staff["kpi"].map(series))
    chart = alt.Chart(long).mark_line(interpolate="step-after").encode(
        x=charts.time_axis("period_start"),
        y=alt.Y("value:Q", title=t("agents_axis", lang)),
        color=alt.Color("series:N", title=None, sort=list(series.values())),
        tooltip=[charts.when_tooltip("period_start", t("col_local_start", lang)),
                 alt.Tooltip("series:N", title=t("series", lang)),
                 alt.Tooltip("value:Q", format=".1f", title=t("agents_axis", lang))],
    )
    st.altair_chart(chart, width="stretch")
    wide = staff.pivot_table(index=["period_start", "period_start_utc"], columns="kpi", values="value").reset_index()
    wide = wide.rename(columns={"period_start": "interval_start_local", "period_start_utc": "interval_start_utc"})
    ui.table(
        wide[["interval_start_local", "interval_start_utc", *[k for k in series if k in wide.columns]]],
        f"staffing-{start}-{scope_type}-{scope_id.replace('*', 'all')}", lang,
        columns={"interval_start_local": (t("col_local_start", lang), "local"),
                 "interval_start_utc": (t("col_utc_start", lang), "utc"),
                 **{k: (name, "value:agents") for k, name in series.items() if k in wide.columns}},
    )
