"""Customer: CSAT, NPS, FCR, complaint rate and the other resolution and customer KPIs, with the
Pareto of contact reasons and of complaint categories."""
import streamlit as st

from app import charts, data, ui
from app.i18n import t

AREAS = ("customer", "resolution")

sel = ui.page_header("customer")
lang = sel.lang
path = sel.snapshot.path

rows = data.scorecard(path, sel.grain, sel.period, *sel.scope)
mine = rows[rows["area"].isin(AREAS)]
if mine.empty:
    st.info(t("no_area_kpis", lang, area=t("area_customer", lang)), icon=":material/info:")
else:
    if mine["value"].isna().all():
        st.info(t("no_values_selection", lang), icon=":material/info:")
    ui.tiles(sel, mine)

for table, title in (("pareto_contact_reasons", "pareto_reasons"), ("pareto_complaint_categories", "pareto_complaints")):
    st.subheader(t(title, lang))
    charts.pareto_section(sel, table, title)
