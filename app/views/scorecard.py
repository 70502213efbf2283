"""Scorecard: how the period went. The counts of targets met, at risk and missed; the headline
KPIs; what needs action (missed and at-risk KPIs with their owner and first action, control-chart
signals named by day and rule); then every KPI defined at this grain and scope in one sortable
table. Statuses, targets and owners come from marts.kpi_values; nothing is computed here."""
import pandas as pd
import streamlit as st

from app import data, fmt, ui
from app.i18n import t

sel = ui.page_header("scorecard")
lang = sel.lang
path = sel.snapshot.path
scope_type, scope_id = sel.scope

rows = ui.defined_here(data.scorecard(path, sel.grain, sel.period, scope_type, scope_id), sel.grain, scope_type)
published = rows
labels = ui.kpi_labels(path, lang)
units = ui.kpi_units(path)
currency = data.currency(path)
through = data.data_through(path)
partial = data.is_partial(sel.period, sel.grain, through)

as_of = rows["as_of"].dropna()
if not as_of.empty:
    st.caption(t("data_as_of", lang, when=fmt.format_as_of(as_of.max())))
# A month in progress is compared like for like, with the same days of the month before (kpi_values);
# any other partial period is not compared at all.
versus = None
base_through = rows["previous_to_date_through"].dropna()
if partial and sel.grain == "month" and not base_through.empty:
    last = pd.Timestamp(base_through.iloc[0]).date()
    days = fmt.day_span(last.replace(day=1), last, lang)
    versus = t("vs_same_days", lang, days=days)
    # The page shows the like-for-like change where the previous period's would be; the CSV keeps both as published.
    rows = rows.assign(change_vs_previous=rows["change_vs_previous_to_date"])
    st.info(t("partial_to_date", lang, through=fmt.day_label(through, lang), days=days), icon=":material/timelapse:")
elif partial:
    st.info(t("partial_period", lang, through=fmt.day_label(through, lang)), icon=":material/timelapse:")
compare = not partial or versus is not None

# --- how the period went: one line of counts, then the headline KPIs --------------------------------
valued = rows[rows["value"].notna()]
judged = valued[valued["target"].notna()]
provisional = judged["provisional_until"].notna()
status = judged.loc[~provisional, "status"]
counts = [
    f":green-badge[{t('count_met', lang)}: {(status == 'met').sum()}]",
    f":orange-badge[{t('count_at_risk', lang)}: {(status == 'at_risk').sum()}]",
    f":red-badge[{t('count_missed', lang)}: {(status == 'missed').sum()}]",
    f":violet-badge[{t('count_provisional', lang)}: {int(provisional.sum())}]",
]
withheld = int((judged["status_withheld"] == "zero_from_data").sum())
if withheld:  # a percentile of 0 s from the data: valued, with a target, and rightly not judged
    counts.append(f":gray-badge[{t('count_zero_from_data', lang)}: {withheld}]")
st.markdown(f"**{t('how_we_did', lang)}** " + " ".join(counts) + " · "
            + t("counts_caption", lang, n=len(judged), none=len(valued) - len(judged)))

# --- headline KPIs --------------------------------------------------------------------------------
headline = rows[rows["is_headline"].fillna(False).astype(bool)] if "is_headline" in rows else rows.iloc[0:0]
if not headline.empty:
    ui.tiles(sel, headline, per_row=4, sparklines=False, compare=compare, details=False, versus=versus)

# --- exceptions first -----------------------------------------------------------------------------
st.subheader(t("exceptions", lang))
order = {"missed": 0, "at_risk": 1}
exceptions = judged[~provisional & judged["status"].isin(order)]
exceptions = exceptions.assign(_rank=exceptions["status"].map(order)).sort_values("_rank", kind="stable")
start, end = sel.bounds
signals = data.spc_signals(path, start, end, scope_type, scope_id)
if exceptions.empty and signals.empty:
    st.success(t("no_exceptions", lang), icon=":material/check_circle:")
with st.container(border=not (exceptions.empty and signals.empty)):
    for row in exceptions.itertuples(index=False):
        line, why = st.columns([12, 1], vertical_alignment="center")
        why.page_link("views/drivers.py", label=t("why", lang), query_params={**st.query_params.to_dict(), "kpi": row.kpi})
        line.markdown(t(
            "exception_line", lang,
            badge=ui.status_badge(row, lang),
            label=fmt.md_escape(labels.get(row.kpi, row.kpi)),
            value=fmt.md_escape(fmt.format_value(row.value, ui.text(row.unit), currency)),
            target=fmt.md_escape(ui.short_target(row, currency)),
            owner=fmt.md_escape(ui.owner(row, lang) or t("no_owner", lang)),
            action=fmt.md_escape(ui.first_action(row, lang) or ""),
        ))
    for sig in signals.itertuples(index=False):
        st.markdown(t(
            "signal_line", lang,
            badge=f":violet-badge[:material/query_stats: {t('signal_badge', lang)}]",
            label=fmt.md_escape(labels.get(sig.kpi, sig.kpi)),
            value=fmt.md_escape(fmt.format_value(sig.value, ui.text(sig.unit) or units.get(sig.kpi), currency)),
            day=fmt.md_escape(fmt.period_label(fmt.period_key(pd.Timestamp(sig.period_start)), sig.grain, lang)),
            rules=fmt.md_escape(ui.rule_names(sig.signal_rules, lang)),
        ))

# --- every KPI ------------------------------------------------------------------------------------
st.subheader(t("all_kpis", lang))
ui.table(
    ui.kpi_table(rows, lang, labels, compare=compare, currency=currency, versus=versus),
    ui.csv_name(sel, "scorecard"),
    lang,
    csv=ui.scorecard_table(published, lang, labels),
)
