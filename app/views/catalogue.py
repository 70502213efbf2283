"""Metric catalogue: every KPI's definition, formula, unit, parameters, lineage and owner, as
generated from the dbt project's metric definitions (marts.kpi_catalogue); nothing retyped here."""
import pandas as pd
import streamlit as st

from app import data, fmt, ui
from app.filters import current, queue_labels, site_labels
from app.i18n import has, t


def unit_name(unit: object) -> str | None:
    return t(f"unit_{unit}", lang) if has(f"unit_{unit}") else ui.text(unit)


def scope_names(scopes: object) -> str | None:
    listed = [s.strip() for s in str(scopes or "").split(",") if s.strip()]
    return "、".join(t(f"scope_{s}", lang) for s in listed) if lang == "zh" else ", ".join(
        t(f"scope_{s}", lang) for s in listed) or None


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
cat = cat.merge(centre[["kpi", "owner_role", "first_action", "owner_role_zh", "first_action_zh", "target", "warning",
                        "direction"]], on="kpi", how="left")
labels = ui.kpi_labels(path, lang)
cat.insert(1, "name", [labels.get(k, k) for k in cat["kpi"]])

areas = [a for a in dict.fromkeys(cat["area"].dropna())]
c1, c2 = st.columns([1, 2])
area = c1.selectbox(t("area", lang), ["*", *areas], key="cat_area",
                    format_func=lambda a: t("all_areas", lang) if a == "*" else t(f"area_{a}", lang))
search = c2.text_input(t("search", lang), key="cat_search")
shown = cat if area == "*" else cat[cat["area"] == area]
if search:
    text = shown[["kpi", "name", "label", "description", "formula", "description_zh", "formula_zh"]
                 ].fillna("").astype(str).agg(" ".join, axis=1)
    shown = shown[text.str.contains(search, case=False, regex=False)]
st.caption(t("catalogue_caption", lang, n=len(shown), total=len(cat)))

for row in shown.itertuples(index=False):
    with st.expander(f"{row.name} · `{row.kpi}`"):
        if ui.localized(row, "description", lang):
            st.markdown(fmt.md_escape(ui.localized(row, "description", lang)))
        st.markdown(f"**{t('formula', lang)}:** {fmt.md_escape(ui.localized(row, 'formula', lang) or '—')}")
        facts = [
            (t("col_unit", lang), unit_name(row.unit)), (t("area", lang), t(f"area_{row.area}", lang) if ui.text(row.area) else None),
            (t("booked_by", lang), ui.localized(row, "booked_by", lang)),
            (t("scopes", lang), scope_names(row.scopes)),
            (t("col_owner", lang), ui.owner(row, lang)),
            (t("col_first_action", lang), ui.first_action(row, lang)),
            (t("col_target", lang), fmt.format_target(row.target, row.warning, row.unit, row.direction, lang)
             if not fmt.is_missing(row.target) else None),
        ]
        # Parameters, source tables and the model are identifiers a reader may look up: shown as code.
        ids = [(t("parameters", lang), row.parameters), (t("lineage", lang), row.lineage), (t("model", lang), row.model)]
        lines = [f"**{k}:** {fmt.md_escape(v)}" for k, v in facts if ui.text(v)]
        lines += [f"**{k}:** " + ", ".join(f"`{i.strip()}`" for i in str(v).split(",") if i.strip())
                  for k, v in ids if ui.text(v)]
        st.markdown("  \n".join(lines))
        variants = ui.localized(row, "variants", lang)
        if variants:
            st.markdown(f"**{t('variants', lang)}:**\n" + "".join(f"\n- {fmt.md_escape(v)}" for v in variants.split("; ")))

st.subheader(t("table", lang))
added = {"area_shown": [t(f"area_{a}", lang) if ui.text(a) else "" for a in shown["area"]],
         "unit_shown": [unit_name(u) for u in shown["unit"]],
         "description_shown": [ui.localized(r, "description", lang) or "" for r in shown.itertuples(index=False)],
         "formula_shown": [ui.localized(r, "formula", lang) or "" for r in shown.itertuples(index=False)],
         "owner_shown": [ui.owner(r, lang) or "" for r in shown.itertuples(index=False)]}
ui.table(shown.assign(**added), "metric-catalogue", lang, csv=shown,
         columns={"name": (t("col_label", lang), "text"), "area_shown": (t("area", lang), "text"),
                  "unit_shown": (t("col_unit", lang), "text"), "description_shown": (t("description", lang), "text"),
                  "formula_shown": (t("formula", lang), "text"), "owner_shown": (t("col_owner", lang), "text")})
st.subheader(t("targets", lang))
units = ui.kpi_units(path)
currency = data.currency(path)
# A queue's or site's target is shown with its name, as the filters show it.
named = {"queue": queue_labels(path, lang), "site": site_labels(path)}
targets = targets.assign(
    name=[labels.get(k, k) for k in targets["kpi"]],
    scope=[ui.capitalised(t("scope_all", lang) if s == "all" else f"{t(f'scope_{s}', lang)} {named.get(s, {}).get(i, i)}")
           for s, i in zip(targets["scope_type"], targets["scope_id"])],
    target_shown=[ui.short_target(r, currency) for r in targets.assign(unit=[units.get(k) for k in targets["kpi"]]).itertuples(index=False)],
    warning_shown=[fmt.format_value(w, units.get(k), currency) if not fmt.is_missing(w) else ""
                   for w, k in zip(targets["warning"], targets["kpi"])],
    owner_shown=[ui.owner(r, lang) or "" for r in targets.itertuples(index=False)],
    action_shown=[ui.first_action(r, lang) or "" for r in targets.itertuples(index=False)],
    # The seed's open end (9999-12-31) is no date a reader should see.
    until_shown=[t("open_ended", lang) if fmt.is_missing(d) or pd.Timestamp(d).year == 9999 else fmt.day_label(pd.Timestamp(d), lang)
                 for d in targets["effective_to"]],
)
ui.table(targets, "kpi-targets", lang, csv=data.targets(path), columns={
    "name": (t("col_label", lang), "text"), "scope": (t("scope", lang), "text"),
    "target_shown": (t("col_target", lang), "text"), "warning_shown": (t("col_warning", lang), "text"),
    "effective_from": (t("effective_from", lang), "day"), "until_shown": (t("effective_to", lang), "text"),
    "owner_shown": (t("col_owner", lang), "text"), "action_shown": (t("col_first_action", lang), "text")})
