"""Service: service level, speed of answer and abandonment by queue, a weekday x interval heatmap
of one KPI, and arrivals against the WFM forecast."""
import altair as alt
import streamlit as st

from app import charts, data, filters, fmt, ui
from app.i18n import t

# The KPIs this page is about, in this order; only those the catalogue defines are shown.
HEADLINE = ("service_level", "asa", "abandonment_rate", "offered", "answered", "aht")
HEATMAP_DEFAULT = "service_level"

sel = ui.page_header("service")
lang = sel.lang
path = sel.snapshot.path
labels = ui.kpi_labels(path, lang)
units = ui.kpi_units(path)

rows = data.scorecard(path, sel.grain, sel.period, *sel.scope)
headline = [k for k in HEADLINE if k in set(rows["kpi"])]
ui.tiles(sel, rows.set_index("kpi").loc[headline].reset_index())

# --- by queue ---------------------------------------------------------------------------------
st.subheader(t("by_queue", lang))
by_queue = data.by_scope(path, sel.grain, sel.period, "queue", tuple(headline))
if by_queue.empty:
    st.info(t("no_values_scope", lang, scope=t("queue", lang).lower()), icon=":material/info:")
else:
    names = filters.queue_labels(path, lang)
    wide = by_queue.pivot(index="scope_id", columns="kpi", values="value").reset_index()
    wide.insert(1, "queue", [names.get(q, q) for q in wide["scope_id"]])
    wide = wide.rename(columns={"scope_id": "queue_id"})
    wide = wide[["queue_id", "queue", *[k for k in headline if k in wide.columns]]]
    chart_kpi = "service_level" if "service_level" in wide.columns else headline[0]
    bars = by_queue[by_queue["kpi"] == chart_kpi].assign(
        queue=lambda d: [names.get(q, q) for q in d["scope_id"]],
        shown=lambda d: d["value"] * fmt.display_scale(units.get(chart_kpi)),
        status=lambda d: [fmt.status_label(s if isinstance(s, str) else None, lang) for s in d["status"]],
    )
    colours = alt.Scale(
        domain=[fmt.status_label(s, lang) for s in ("met", "at_risk", "missed", None)],
        range=["#2e7d32", "#ef6c00", "#c62828", "#9e9e9e"],
    )
    order = list(bars.sort_values("shown", ascending=False)["queue"])
    chart = alt.Chart(bars).mark_bar().encode(
        x=alt.X("shown:Q", title=f"{labels.get(chart_kpi, chart_kpi)} {fmt.axis_unit(units.get(chart_kpi))}".strip()),
        y=alt.Y("queue:N", sort=order, title=None),
        color=alt.Color("status:N", scale=colours, legend=alt.Legend(title=t("col_status", lang))),
        tooltip=["queue", alt.Tooltip("shown:Q", format=".1f"), "status"],
    )
    # each queue's own target (targets can differ by queue), as a tick on its bar
    targets = bars.dropna(subset=["target"]).assign(
        target_shown=lambda d: d["target"] * fmt.display_scale(units.get(chart_kpi)))
    if not targets.empty:
        chart = chart + alt.Chart(targets).mark_tick(color="black", thickness=2).encode(
            x="target_shown:Q", y=alt.Y("queue:N", sort=order),
            tooltip=["queue", alt.Tooltip("target_shown:Q", format=".1f", title=t("col_target", lang))])
    st.altair_chart(chart, width="stretch")
    ui.table(
        wide, ui.csv_name(sel, "service-by-queue"), lang,
        columns={"queue": (t("queue", lang), "text"), **ui.kpi_columns(headline, units, labels)},
    )

# --- heatmap ----------------------------------------------------------------------------------
st.subheader(t("heatmap", lang))
available = [k for k in data.interval_kpis(path) if k in labels]
if not available:
    st.info(t("no_interval_values", lang), icon=":material/info:")
else:
    kpi = filters.page_choice(
        st, "heatmap_kpi", t("pick_kpi", lang), available,
        default=HEATMAP_DEFAULT, format_func=lambda k: labels.get(k, k),
    )
    charts.heatmap_section(sel, kpi)

# --- arrivals against forecast ----------------------------------------------------------------
st.subheader(t("arrivals_vs_forecast", lang))
if not data.has(path, "marts.fct_staffing_intervals"):
    ui.missing(lang, t("arrivals_vs_forecast", lang), "marts.fct_staffing_intervals")
else:
    start, end = sel.bounds
    queue = sel.queue if sel.queue != filters.ALL_QUEUES else None
    site = sel.site if sel.site != filters.ALL else None
    staff = data.arrivals(path, start, end, queue, site)
    if staff.empty:
        st.info(t("no_data_help", lang), icon=":material/info:")
    else:
        series = {"offered": t("series_offered", lang), "forecast_contacts": t("series_forecast", lang)}
        long = staff.melt(id_vars=["interval_start_local"], value_vars=list(series), var_name="series", value_name="contacts")
        long["series"] = long["series"].map(series)
        line = alt.Chart(long).mark_line().encode(
            x=charts.time_axis("interval_start_local"),
            y=alt.Y("contacts:Q", title=t("contacts", lang)),
            color=alt.Color("series:N", title=None),
            tooltip=[charts.when_tooltip("interval_start_local", t("col_local_start", lang)),
                     alt.Tooltip("series:N", title=t("series", lang)), alt.Tooltip("contacts:Q", title=t("contacts", lang))],
        )
        st.altair_chart(line, width="stretch")
        ui.table(
            staff[["interval_start_local", "interval_start_utc", "offered", "forecast_contacts"]],
            ui.csv_name(sel, "arrivals-vs-forecast"), lang,
            columns={"interval_start_local": (t("col_local_start", lang), "local"),
                     "interval_start_utc": (t("col_utc_start", lang), "utc"),
                     "offered": (t("series_offered", lang), "value:contacts"),
                     "forecast_contacts": (t("series_forecast", lang), "value:score")},
        )
