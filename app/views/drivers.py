"""Causes: from "it rose" to "why" to "who acts" for one KPI. Its cause-and-effect tree (the
drivers its definition declares, meta drivers, with this period's values and statuses on the
branches), its value by queue, and by interval of the week. Values, statuses and owners come
from marts.kpi_values; the tree's shape from marts.kpi_catalogue."""
import altair as alt
import streamlit as st

from app import charts, data, filters, fmt, ui
from app.i18n import t

DEPTH = 3
DEFAULT_KPI = "service_level"
FILL = {"met": "#e8f5e9", "at_risk": "#fff3e0", "missed": "#ffebee"}

sel = ui.page_header("drivers")
lang = sel.lang
path = sel.snapshot.path
scope_type, scope_id = sel.scope
labels = ui.kpi_labels(path, lang)
units = ui.kpi_units(path)
currency = data.currency(path)

rows = ui.defined_here(data.scorecard(path, sel.grain, sel.period, scope_type, scope_id), sel.grain, scope_type)
by_kpi = {r.kpi: r for r in rows.itertuples(index=False)}
kpi = filters.page_choice(st, "kpi", t("pick_kpi", lang), list(by_kpi), default=DEFAULT_KPI,
                          format_func=lambda k: labels.get(k, k))
if kpi is None:
    st.info(t("no_data_help", lang), icon=":material/info:")
    st.stop()
row = by_kpi[kpi]
with st.container(border=True):
    ui.tile(row, labels.get(kpi, kpi), lang, currency=currency)


def drivers_of(k: str) -> list[str]:
    listed = by_kpi[k].drivers if k in by_kpi else None
    return [d.strip() for d in str(listed or "").split(",") if d.strip() and d.strip() in by_kpi]


def node_text(k: str) -> str:
    r = by_kpi[k]
    return "\n".join([labels.get(k, k), fmt.format_value(r.value, ui.text(r.unit), currency), ui.status_text(r, lang)])


# --- the cause-and-effect tree ----------------------------------------------------------------------
st.subheader(t("cause_tree", lang))
edges, seen, frontier = [], {kpi}, [kpi]
for _ in range(DEPTH):
    nxt = []
    for parent in frontier:
        for child in drivers_of(parent):
            edges.append((child, parent))
            if child not in seen:
                seen.add(child)
                nxt.append(child)
    frontier = nxt
if not edges:
    st.info(t("no_drivers", lang, kpi=labels.get(kpi, kpi)), icon=":material/info:")
else:
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    # Nodes are named by the KPI's label, not its id: the browser shows the name on hover.
    names = {k: labels.get(k, k) for k in seen}
    if len(set(names.values())) < len(names):
        names = {k: f"{name} ({k})" for k, name in names.items()}
    nodes = [f'{quoted(names[k])} [label={quoted(node_text(k))}, fillcolor="{FILL.get(ui.text(by_kpi[k].status) or "", "#f5f5f5")}"'
             + (', penwidth=2' if k == kpi else '') + "]" for k in seen]
    dot = "\n".join([
        "digraph {", "rankdir=RL;",
        'node [shape=box, style="rounded,filled", fontname="sans-serif", fontsize=11];',
        *nodes, *[f"{quoted(names[a])} -> {quoted(names[b])};" for a, b in edges], "}",
    ])
    st.graphviz_chart(dot, width="stretch")
    tree = rows[rows["kpi"].isin(seen - {kpi})].assign(
        label=lambda d: [labels.get(k, k) for k in d["kpi"]],
        drives=lambda d: [", ".join(labels.get(b, b) for a, b in edges if a == k) for k in d["kpi"]],
        status_shown=lambda d: [ui.status_text(r, lang) for r in d.itertuples(index=False)],
        value_shown=lambda d: [fmt.format_value(v, ui.text(u), currency) for v, u in zip(d["value"], d["unit"])],
        owner_shown=lambda d: [ui.owner(r, lang) or "" for r in d.itertuples(index=False)],
    )
    ui.table(tree[["kpi", "value", "status", "label", "drives", "value_shown", "status_shown", "owner_shown"]],
             ui.csv_name(sel, f"drivers-{kpi}"), lang, csv=tree[["kpi", "value", "unit", "status", "target"]],
             columns={"label": (t("col_label", lang), "text"), "drives": (t("drives", lang), "text"),
                      "value_shown": (t("col_value", lang), "text"), "status_shown": (t("col_status", lang), "text"),
                      "owner_shown": (t("col_owner", lang), "text")})

# --- by queue -------------------------------------------------------------------------------------
st.subheader(t("by_queue", lang))
queues = data.by_scope(path, sel.grain, sel.period, "queue", (kpi,))
if queues.empty:
    st.info(t("no_values_scope", lang, scope=t("queue", lang).lower()), icon=":material/info:")
else:
    names = filters.queue_labels(path, lang)
    unit = units.get(kpi)
    queues = queues.assign(
        queue=[names.get(q, q) for q in queues["scope_id"]],
        shown=queues["value"] * fmt.display_scale(unit),
        status_shown=[fmt.status_label(s if isinstance(s, str) else None, lang) for s in queues["status"]],
    )
    bars = alt.Chart(queues).mark_bar().encode(
        x=alt.X("shown:Q", title=f"{labels.get(kpi, kpi)} {fmt.axis_unit(unit)}".strip()),
        y=alt.Y("queue:N", sort="-x", title=None),
        tooltip=[alt.Tooltip("queue:N", title=t("queue", lang)),
                 alt.Tooltip("shown:Q", format=".1f", title=labels.get(kpi, kpi))],
    )
    st.altair_chart(bars, width="stretch")
    ui.table(queues, ui.csv_name(sel, f"drivers-{kpi}-by-queue"), lang,
             csv=queues[["scope_id", "kpi", "value", "unit", "status", "target"]], currency=currency,
             columns={"queue": (t("queue", lang), "text"), "value": (labels.get(kpi, kpi), f"value:{unit or ''}"),
                      "status_shown": (t("col_status", lang), "text")})

# --- by interval ------------------------------------------------------------------------------------
st.subheader(t("heatmap", lang))
if kpi in data.interval_kpis(path):
    charts.heatmap_section(sel, kpi)
else:
    st.info(t("no_interval_kpi", lang, kpi=labels.get(kpi, kpi)), icon=":material/info:")
