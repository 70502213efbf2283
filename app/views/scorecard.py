"""Scorecard: one tile per KPI for the selected grain, period and scope, plus the same rows as a table."""
import pandas as pd
import streamlit as st

from app import data, filters, fmt
from app.i18n import t

TILES_PER_ROW = 3

sel = filters.current()
lang = sel.lang

st.title(t("scorecard", lang))

if sel.period is None:
    st.info(t("no_periods", lang, grain=t(f"grain_{sel.grain}", lang)), icon=":material/info:")
    st.stop()

scope_name = (
    t("all_queues", lang)
    if sel.queue == filters.ALL_QUEUES
    else filters.queue_labels(sel.snapshot.path, lang).get(sel.queue, sel.queue)
)
st.caption(
    fmt.md_escape(
        t(
            "scorecard_caption",
            lang,
            grain=t(f"grain_{sel.grain}", lang),
            period=fmt.period_label(sel.period, sel.grain, lang),
            scope=scope_name,
        )
    )
)

rows = data.scorecard(sel.snapshot.path, sel.grain, sel.period, *sel.scope)


def _text(value: object) -> str | None:
    return None if fmt.is_missing(value) or value == "" else str(value)


def kpi_label(row) -> str:
    if lang == "zh" and _text(row.label_zh):
        return str(row.label_zh)
    return _text(row.label) or str(row.kpi)


labels = [kpi_label(r) for r in rows.itertuples(index=False)]
shown = [fmt.format_value(r.value, r.unit) for r in rows.itertuples(index=False)]

as_of = rows["as_of"].dropna()
if not as_of.empty:
    st.caption(t("data_as_of", lang, when=fmt.format_as_of(as_of.max())))


def tile(row, label: str, value_text: str) -> None:
    has_value = not fmt.is_missing(row.value)
    st.metric(
        label,
        value_text if has_value else t("no_data", lang),
        help=fmt.md_escape(_text(row.description) or "") or None,
    )
    if not has_value:
        st.markdown(f":gray-badge[{t('no_data', lang)}]")
        st.caption(t("no_data_help", lang))
        return
    certified = bool(row.certified) if not fmt.is_missing(row.certified) else False
    status = _text(row.status)
    badges = [f":{fmt.status_colour(status)}-badge[{fmt.status_label(status, lang)}]"]
    if certified:
        badges.append(f":blue-badge[:material/verified: {t('certified', lang)}]")
    else:
        badges.append(f":violet-badge[:material/warning: {t('not_certified', lang)}]")
    st.markdown(" ".join(badges))
    st.caption(fmt.md_escape(fmt.format_target(row.target, row.warning, row.unit, row.direction, lang)))
    if _text(row.owner_role):
        st.caption(f"**{t('owner', lang)}:** {fmt.md_escape(row.owner_role)}")
    if _text(row.first_action):
        st.caption(f"**{t('first_action', lang)}:** {fmt.md_escape(row.first_action)}")
    if not certified:
        reason = _text(row.certification_reason) or t("reason_unknown", lang)
        st.warning(t("not_certified_reason", lang, reason=fmt.md_escape(reason)), icon=":material/warning:")


records = list(rows.itertuples(index=False))
for start in range(0, len(records), TILES_PER_ROW):
    columns = st.columns(TILES_PER_ROW)
    for column, row, label, value_text in zip(
        columns, records[start:], labels[start:], shown[start:]
    ):
        with column, st.container(border=True):
            tile(row, label, value_text)

st.subheader(t("table", lang))
table = pd.DataFrame(
    {
        "kpi": rows["kpi"],
        "label": labels,
        "value": rows["value"],
        "display": shown,
        "unit": rows["unit"],
        "target": rows["target"],
        "warning": rows["warning"],
        "direction": rows["direction"],
        "status": rows["status"],
        "certified": rows["certified"],
        "certification_reason": rows["certification_reason"],
        "owner_role": rows["owner_role"],
        "first_action": rows["first_action"],
        "numerator": rows["numerator"],
        "denominator": rows["denominator"],
        "as_of": rows["as_of"],
        "grain": rows["grain"],
        "period_start": rows["period_start"],
        "scope_type": rows["scope_type"],
        "scope_id": rows["scope_id"],
    }
)
column_labels = {
    "kpi": "col_kpi", "label": "col_label", "value": "col_value", "display": "col_display",
    "unit": "col_unit", "target": "col_target", "warning": "col_warning", "direction": "col_direction",
    "status": "col_status", "certified": "col_certified", "certification_reason": "col_reason",
    "owner_role": "col_owner", "first_action": "col_first_action", "numerator": "col_numerator",
    "denominator": "col_denominator", "as_of": "col_as_of",
}
st.dataframe(
    table,
    hide_index=True,
    column_config={col: t(key, lang) for col, key in column_labels.items()},
)
# CSV keeps the raw codes as headers so it loads back cleanly; the BOM lets Excel read Chinese labels.
st.download_button(
    t("download_csv", lang),
    data=table.to_csv(index=False).encode("utf-8-sig"),
    file_name=f"ccq-scorecard-{sel.grain}-{sel.period}-{sel.queue.replace('*', 'all')}.csv",
    mime="text/csv",
    icon=":material/download:",
    on_click="ignore",
)
