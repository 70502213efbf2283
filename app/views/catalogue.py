"""Metric catalogue: every KPI's definition, formula, unit, parameters, lineage and owner, as
generated from the dbt project's metric definitions (marts.kpi_catalogue); nothing retyped here."""
import streamlit as st

from app import data, fmt, ui
from app.filters import current
from app.i18n import t

sel = current()
lang = sel.lang
path = sel.snapshot.path
st.title(t("catalogue", lang))

cat = data.catalogue(path)
if cat.empty:
    ui.missing(lang, t("catalogue", lang), "marts.kpi_catalogue")
    st.stop()

# The owner shown is the centre-wide one in force most recently; every scope's row is in the table.
targets = data.targets(path)
centre = targets[targets["scope_type"] == "all"].drop_duplicates("kpi")
cat = cat.merge(centre[["kpi", "owner_role", "first_action", "target", "warning", "direction"]], on="kpi", how="left")
labels = ui.kpi_labels(path, lang)
cat.insert(1, "name", [labels.get(k, k) for k in cat["kpi"]])

areas = [a for a in dict.fromkeys(cat["area"].dropna())]
c1, c2 = st.columns([1, 2])
area = c1.selectbox(t("area", lang), ["*", *areas], key="cat_area",
                    format_func=lambda a: t("all_areas", lang) if a == "*" else t(f"area_{a}", lang))
search = c2.text_input(t("search", lang), key="cat_search")
shown = cat if area == "*" else cat[cat["area"] == area]
if search:
    text = shown[["kpi", "name", "label", "description", "formula"]].fillna("").agg(" ".join, axis=1)
    shown = shown[text.str.contains(search, case=False, regex=False)]
st.caption(t("catalogue_caption", lang, n=len(shown), total=len(cat)))

for row in shown.itertuples(index=False):
    with st.expander(f"{row.name} · `{row.kpi}`"):
        if ui.text(row.description):
            st.markdown(fmt.md_escape(row.description))
        st.markdown(f"**{t('formula', lang)}:** {fmt.md_escape(ui.text(row.formula) or '—')}")
        facts = [
            (t("col_unit", lang), row.unit), (t("area", lang), row.area), (t("booked_by", lang), row.booked_by),
            (t("parameters", lang), row.parameters), (t("variants", lang), row.variants),
            (t("scopes", lang), row.scopes), (t("lineage", lang), row.lineage),
            (t("model", lang), row.model), (t("col_owner", lang), row.owner_role),
            (t("col_first_action", lang), row.first_action),
            (t("col_target", lang), fmt.format_target(row.target, row.warning, row.unit, row.direction, lang)
             if not fmt.is_missing(row.target) else None),
        ]
        st.markdown("  \n".join(f"**{k}:** {fmt.md_escape(v)}" for k, v in facts if ui.text(v)))

st.subheader(t("table", lang))
ui.table(shown, "metric-catalogue", lang, column_config={"name": t("col_label", lang)})
st.subheader(t("targets", lang))
ui.table(targets, "kpi-targets", lang)
