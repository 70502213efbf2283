"""Quality control: control charts with their limits and flagged signals, the Pareto of failed QA
items, and scatter plots of paired KPIs with their correlation (limits, signals and correlations
come from the marts)."""
import altair as alt
import streamlit as st

from app import charts, data, filters, fmt, ui
from app.i18n import t

sel = ui.page_header("quality")
lang = sel.lang
path = sel.snapshot.path
labels = ui.kpi_labels(path, lang)
units = ui.kpi_units(path)
_, period_end = sel.bounds
CHART_TYPES = ("laney_p", "xmr")


def chart_scope(available: set[str]) -> tuple[str, str]:
    """The selection's scope when the mart has charts for it, else the centre."""
    scope_type, scope_id = sel.scope
    return (scope_type, scope_id) if scope_type in available else data.ALL_SCOPE


# --- control charts -----------------------------------------------------------------------------
st.subheader(t("control_charts", lang))
if not data.has(path, "marts.spc_points"):
    ui.missing(lang, t("control_charts", lang), "marts.spc_points")
else:
    charts_df = data.spc_charts(path)
    kpis = list(dict.fromkeys(charts_df["kpi"]))
    if not kpis:
        st.info(t("no_data_help", lang), icon=":material/info:")
    else:
        kpi = filters.page_choice(st, "spc_kpi", t("pick_kpi", lang), kpis, format_func=lambda k: labels.get(k, k))
        mine = charts_df[charts_df["kpi"] == kpi]
        grain = sel.grain if sel.grain in set(mine["grain"]) else mine["grain"].iloc[0]
        scope_type, scope_id = chart_scope(set(mine.loc[mine["grain"] == grain, "scope_type"]))
        points = data.spc_points(path, kpi, grain, scope_type, scope_id, period_end)
        unit = units.get(kpi)
        scale = fmt.display_scale(unit)
        chart_type = str(mine["chart_type"].iloc[0])
        st.caption(t("spc_caption", lang, chart=t(f"chart_{chart_type}", lang) if chart_type in CHART_TYPES else chart_type,
                     grain=t(f"grain_{grain}", lang),
                     scope=scope_id if scope_type != "all" else t("all_queues", lang)))
        points = points.assign(rules=[ui.rule_names(r, lang) for r in points["signal_rules"]])
        if points.empty:
            st.info(t("no_data_help", lang), icon=":material/info:")
        else:
            shown = points.assign(
                value_shown=points["value"] * scale, center=points["center_line"] * scale,
                upper=points["ucl"] * scale, lower=points["lcl"] * scale,
                signal=[t("signal", lang) if s else t("in_control", lang) for s in points["is_signal"].fillna(False)],
            )
            base = alt.Chart(shown).encode(x=charts.day_axis("period_start"))
            limits = alt.layer(
                base.mark_line(interpolate="step-after", strokeDash=[4, 4], color="#c62828").encode(y="upper:Q"),
                base.mark_line(interpolate="step-after", strokeDash=[4, 4], color="#c62828").encode(y="lower:Q"),
                base.mark_line(color="#2e7d32").encode(y="center:Q"),
            )
            line = base.mark_line(color="#455a64").encode(
                y=alt.Y("value_shown:Q", title=f"{labels.get(kpi, kpi)} {fmt.axis_unit(unit)}".strip(),
                        scale=alt.Scale(zero=False)))
            dots = base.mark_point(filled=True, size=60).encode(
                y="value_shown:Q",
                color=alt.Color("signal:N", title=None,
                                scale=alt.Scale(domain=[t("signal", lang), t("in_control", lang)],
                                                range=["#c62828", "#455a64"])),
                tooltip=[charts.when_tooltip("period_start", t("period", lang)),
                         alt.Tooltip("value_shown:Q", format=".2f", title=t("col_value", lang)),
                         alt.Tooltip("rules:N", title=t("rule", lang))],
            )
            st.altair_chart(limits + line + dots, width="stretch")
            if points["center_line"].isna().all():
                st.caption(t("no_baseline", lang))
            signals = points[points["is_signal"].fillna(False)]
            st.caption(t("signals_found", lang, n=len(signals)))
            points = points.assign(
                period=[fmt.period_label(f"{p:%Y-%m-%d}", grain, lang) for p in points["period_start"]])
            kind = f"value:{unit or ''}"
            ui.table(
                points[["period_start", "value", "center_line", "ucl", "lcl", "in_baseline", "is_signal", "signal_rules",
                        "period", "rules"]],
                f"spc-{kpi}-{grain}-{scope_type}-{scope_id.replace('*', 'all')}-{sel.period}", lang,
                csv=points[["period_start", "value", "center_line", "ucl", "lcl", "in_baseline", "is_signal",
                            "signal_rules"]],
                columns={"period": (t("period", lang), "text"), "value": (t("col_value", lang), kind),
                         "center_line": (t("center_line", lang), kind), "ucl": (t("ucl", lang), kind),
                         "lcl": (t("lcl", lang), kind), "in_baseline": (t("in_baseline", lang), "yes_no"),
                         "is_signal": (t("signal", lang), "yes_no"), "rules": (t("rule", lang), "text")},
            )

# --- Pareto of failed QA items ------------------------------------------------------------------
st.subheader(t("pareto_qa", lang))
charts.pareto_section(sel, "pareto_failed_qa_items", "pareto_qa")

# --- paired KPIs --------------------------------------------------------------------------------
st.subheader(t("scatter", lang))
if not (data.has(path, "marts.kpi_correlations") and data.has(path, "marts.kpi_pair_points")):
    ui.missing(lang, t("scatter", lang), "marts.kpi_correlations")
else:
    corr_all = data.correlations(path, *data.ALL_SCOPE)
    scope_type, scope_id = sel.scope
    corr = data.correlations(path, scope_type, scope_id) if sel.scope != data.ALL_SCOPE else corr_all
    if corr.empty:
        scope_type, scope_id = data.ALL_SCOPE
        corr = corr_all
    if corr.empty:
        st.info(t("no_data_help", lang), icon=":material/info:")
    else:
        pairs = [f"{r.kpi_x}|{r.kpi_y}|{r.grain}" for r in corr.itertuples(index=False)]

        def pair_label(p: str) -> str:
            x, y, g = p.split("|")
            return f"{labels.get(x, x)} × {labels.get(y, y)} ({t(f'grain_{g}', lang) if g in ('day', 'week', 'month') else g})"

        pair = filters.page_choice(st, "pair", t("pair", lang), pairs, format_func=pair_label)
        kpi_x, kpi_y, grain = pair.split("|")
        row = corr[(corr["kpi_x"] == kpi_x) & (corr["kpi_y"] == kpi_y) & (corr["grain"] == grain)].iloc[0]
        c1, c2 = st.columns(2)
        c1.metric(t("correlation", lang), "—" if fmt.is_missing(row.correlation) else f"{row.correlation:.2f}")
        c2.metric(t("n_periods", lang), f"{int(row.n_periods):,}")
        pts = data.pair_points(path, kpi_x, kpi_y, grain, scope_type, scope_id)
        if pts.empty:
            st.info(t("no_data_help", lang), icon=":material/info:")
        else:
            pts = pts.assign(x=pts["value_x"] * fmt.display_scale(units.get(kpi_x)),
                             y=pts["value_y"] * fmt.display_scale(units.get(kpi_y)))
            scatter = alt.Chart(pts).mark_circle(size=60, opacity=0.7).encode(
                x=alt.X("x:Q", title=f"{labels.get(kpi_x, kpi_x)} {fmt.axis_unit(units.get(kpi_x))}".strip(),
                        scale=alt.Scale(zero=False)),
                y=alt.Y("y:Q", title=f"{labels.get(kpi_y, kpi_y)} {fmt.axis_unit(units.get(kpi_y))}".strip(),
                        scale=alt.Scale(zero=False)),
                tooltip=[charts.when_tooltip("period_start", t("period", lang)),
                         alt.Tooltip("x:Q", format=".2f", title=labels.get(kpi_x, kpi_x)),
                         alt.Tooltip("y:Q", format=".2f", title=labels.get(kpi_y, kpi_y))],
            )
            st.altair_chart(scatter, width="stretch")
            ui.table(pts[["period_start", "value_x", "value_y"]],
                     f"pair-{kpi_x}-{kpi_y}-{grain}-{scope_type}-{scope_id.replace('*', 'all')}", lang,
                     columns={"period_start": (t("period", lang), "day"),
                              "value_x": (labels.get(kpi_x, kpi_x), f"value:{units.get(kpi_x) or ''}"),
                              "value_y": (labels.get(kpi_y, kpi_y), f"value:{units.get(kpi_y) or ''}")})
        corr = corr.assign(pair=[pair_label(f"{r.kpi_x}|{r.kpi_y}|{r.grain}") for r in corr.itertuples(index=False)],
                           r=[fmt.format_value(v, None) for v in corr["correlation"]])
        ui.table(corr, f"correlations-{scope_type}-{scope_id.replace('*', 'all')}", lang,
                 csv=corr.drop(columns=["pair", "r"]),
                 columns={"pair": (t("pair", lang), "text"), "n_periods": (t("n_periods", lang), "value:count"),
                          "r": (t("correlation", lang), "text")})
