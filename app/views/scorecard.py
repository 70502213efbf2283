"""Scorecard: every KPI for the selected grain, period and scope, grouped by area in catalogue
order, then the same rows as a table."""
import streamlit as st

from app import data, fmt, ui
from app.i18n import t

sel = ui.page_header("scorecard")
lang = sel.lang
path = sel.snapshot.path

rows = data.scorecard(path, sel.grain, sel.period, *sel.scope)

as_of = rows["as_of"].dropna()
if not as_of.empty:
    st.caption(t("data_as_of", lang, when=fmt.format_as_of(as_of.max())))

areas = rows["area"].where(rows["area"].notna(), None)
if areas.isna().all():
    ui.tiles(sel, rows)
else:
    # Areas in the order their first KPI appears, so the catalogue's display order decides.
    for area in dict.fromkeys(areas.fillna("other")):
        st.subheader(t(f"area_{area}", lang))
        ui.tiles(sel, rows[areas.fillna("other") == area])

st.subheader(t("table", lang))
labels = ui.kpi_labels(path, lang)
ui.table(
    ui.scorecard_table(rows, lang, labels),
    ui.csv_name(sel, "scorecard"),
    lang,
    column_config=ui.column_labels(ui.SCORECARD_COLUMNS, lang),
)
