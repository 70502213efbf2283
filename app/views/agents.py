"""Agents and teams: league tables of QA, AHT, FCR and adherence; a supervisor sees their teams
and agents; one agent's trend. Agents appear only by their pseudonymous id."""
import altair as alt
import pandas as pd
import streamlit as st

from app import charts, data, filters, fmt, ui
from app.i18n import t

LEAGUE = ("qa_score", "aht", "fcr", "adherence", "occupancy", "csat")
TREND_PERIODS = 26

sel = ui.page_header("agents")
lang = sel.lang
path = sel.snapshot.path
labels = ui.kpi_labels(path, lang)
units = ui.kpi_units(path)
kpis = tuple(k for k in LEAGUE if k in labels)
start, end = sel.bounds
roster = data.roster(path, start, end)

supervisors = sorted(set(roster["supervisor_id"].dropna()) | set(data.scope_ids(path, "supervisor")))
supervisor = filters.page_choice(
    st, "supervisor", t("supervisor", lang), [filters.ALL, *supervisors],
    format_func=lambda s: t("all_supervisors", lang) if s == filters.ALL else s,
)


def league(scope_type: str, ids: set[str] | None) -> pd.DataFrame:
    values = data.by_scope(path, sel.grain, sel.period, scope_type, kpis)
    if ids is not None:
        values = values[values["scope_id"].isin(ids)]
    if values.empty:
        return pd.DataFrame(columns=[scope_type + "_id", *kpis])
    wide = values.pivot(index="scope_id", columns="kpi", values="value").reset_index()
    wide = wide.rename(columns={"scope_id": f"{scope_type}_id"})
    shown = [k for k in kpis if k in wide.columns]
    return wide[[f"{scope_type}_id", *shown]].sort_values(shown[:1] or [f"{scope_type}_id"], ascending=False)


if not kpis:
    st.info(t("no_area_kpis", lang, area=t("agents", lang)), icon=":material/info:")
    st.stop()

team_ids, agent_ids = None, None
if supervisor != filters.ALL:
    mine = roster[roster["supervisor_id"] == supervisor]
    team_ids, agent_ids = set(mine["team_id"].dropna()), set(mine["agent_id"])
    sup = data.scorecard(path, sel.grain, sel.period, "supervisor", supervisor)
    sup = sup[sup["kpi"].isin(kpis)].set_index("kpi").loc[list(kpis)].reset_index()
    st.subheader(t("supervisor_named", lang, supervisor=supervisor))
    ui.tiles(sel, sup, sparklines=False)  # sparklines follow the page's scope, not the supervisor
if sel.team != filters.ALL:
    in_team = set(roster.loc[roster["team_id"] == sel.team, "agent_id"])
    agent_ids = in_team if agent_ids is None else agent_ids & in_team
    team_ids = {sel.team} if team_ids is None else team_ids & {sel.team}

values = ui.kpi_columns(kpis, units, labels)

st.subheader(t("league_teams", lang))
teams = league("team", team_ids)
if teams.empty:
    st.info(t("no_values_scope", lang, scope=t("team", lang).lower()), icon=":material/info:")
else:
    ui.table(teams, ui.csv_name(sel, f"league-teams-{supervisor}"), lang,
             columns={"team_id": (t("team", lang), "text"), **{k: v for k, v in values.items() if k in teams}})

st.subheader(t("league_agents", lang))
agents = league("agent", agent_ids)
if agents.empty:
    st.info(t("no_values_scope", lang, scope=t("agent", lang).lower()), icon=":material/info:")
    st.stop()
agents = agents.merge(roster.drop_duplicates("agent_id"), on="agent_id", how="left")
agents = agents[["agent_id", "team_id", "supervisor_id", *[k for k in kpis if k in agents.columns]]]
ui.table(agents, ui.csv_name(sel, f"league-agents-{supervisor}"), lang,
         columns={"agent_id": (t("agent", lang), "text"), "team_id": (t("team", lang), "text"),
                  "supervisor_id": (t("supervisor", lang), "text"), **{k: v for k, v in values.items() if k in agents}})

# --- one agent's trend --------------------------------------------------------------------------
st.subheader(t("agent_trend", lang))
agent = filters.page_choice(st, "agent", t("agent", lang), list(agents["agent_id"]))
trend = data.history(path, sel.grain, sel.period, "agent", agent, TREND_PERIODS, kpis)
if trend.empty:
    st.info(t("no_data_help", lang), icon=":material/info:")
else:
    trend = trend.assign(
        label=[labels.get(k, k) for k in trend["kpi"]],
        shown=[v * fmt.display_scale(u) for v, u in zip(trend["value"], trend["unit"])],
    )
    chart = alt.Chart(trend).mark_line(point=True).encode(
        x=charts.day_axis("period_start"),
        y=alt.Y("shown:Q", title=None),
        tooltip=["label", charts.when_tooltip("period_start", t("period", lang)), alt.Tooltip("shown:Q", format=".1f")],
    ).properties(width=320, height=130).facet(
        facet=alt.Facet("label:N", title=None), columns=2
    ).resolve_scale(y="independent")
    st.altair_chart(chart)
    trend = trend.assign(
        period=[fmt.period_label(f"{p:%Y-%m-%d}", sel.grain, lang) for p in trend["period_start"]],
        value_shown=[fmt.format_value(v, u) for v, u in zip(trend["value"], trend["unit"])],
        status_shown=[fmt.status_label(s if isinstance(s, str) else None, lang) for s in trend["status"]],
    )
    ui.table(trend[["kpi", "period_start", "value", "unit", "status", "certified", "label", "period", "value_shown",
                    "status_shown"]],
             f"agent-trend-{agent}-{sel.grain}-{sel.period}", lang,
             csv=trend[["kpi", "period_start", "value", "unit", "status", "certified"]],
             columns={"label": (t("col_label", lang), "text"), "period": (t("period", lang), "text"),
                      "value_shown": (t("col_value", lang), "text"), "status_shown": (t("col_status", lang), "text"),
                      "certified": (t("col_certified", lang), "yes_no")})
