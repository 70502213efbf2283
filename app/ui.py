"""Building blocks the pages share: header, KPI tiles, tables with CSV download, notices."""
from __future__ import annotations

import re
from typing import Callable

import pandas as pd
import streamlit as st

from app import data, filters, fmt
from app.i18n import t
from ccq.export import csv_download


def page_header(title_key: str) -> filters.Selection:
    """Title, what is shown (grain, period, scope), and a stop when there is nothing to show."""
    sel = filters.current()
    lang = sel.lang
    st.title(t(title_key, lang))
    if sel.period is None:
        st.info(t("no_periods", lang, grain=t(f"grain_{sel.grain}", lang)), icon=":material/info:")
        st.stop()
    st.caption(
        fmt.md_escape(
            t(
                "scorecard_caption",
                lang,
                grain=t(f"grain_{sel.grain}", lang),
                period=fmt.period_label(sel.period, sel.grain, lang),
                scope=filters.scope_label(sel),
            )
        )
    )
    if sel.set_aside:
        st.caption(
            ":material/filter_alt_off: "
            + t("set_aside", lang, filters=", ".join(t(n, lang) for n in sel.set_aside),
                scope=t(sel.scope[0], lang))
        )
    return sel


def text(value: object) -> str | None:
    return None if fmt.is_missing(value) or value == "" else str(value)


def kpi_labels(path: str, lang: str) -> dict[str, str]:
    """kpi -> label in the chosen language, from the catalogue (falls back to English, then code)."""
    labels = {}
    for row in data.catalogue(path).itertuples(index=False):
        zh = text(row.label_zh) if lang == "zh" else None
        labels[row.kpi] = zh or text(row.label) or row.kpi
    return labels


def kpi_units(path: str) -> dict[str, str]:
    return {r.kpi: r.unit for r in data.catalogue(path).itertuples(index=False)}


def missing(lang: str, what: str, table: str) -> None:
    """A part of the page whose data this snapshot does not have (e.g. no WFM for a data set)."""
    st.info(t("missing_table", lang, what=what, table=table), icon=":material/info:")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _shown(kind: str, lang: str, currency: str | None) -> Callable[[object], str]:
    """How a cell of this kind reads: the cards' units and formats, times with their zone."""
    def when(value: object, pattern: str) -> str:
        return "" if fmt.is_missing(value) else f"{pd.Timestamp(value):{pattern}}"

    if kind.startswith("value:"):
        unit = kind.split(":", 1)[1] or None
        return lambda v: "" if fmt.is_missing(v) else fmt.format_value(v, unit, currency)
    return {
        "text": lambda v: text(v) or "",
        "utc": lambda v: (when(v, "%Y-%m-%d %H:%M") + " UTC") if not fmt.is_missing(v) else "",
        "local": lambda v: when(v, "%Y-%m-%d %H:%M"),
        "day": lambda v: "" if fmt.is_missing(v) else fmt.period_label(f"{pd.Timestamp(v):%Y-%m-%d}", "day", lang),
        "yes_no": lambda v: "" if fmt.is_missing(v) else t("yes" if bool(v) else "no", lang),
    }[kind]


def table(df: pd.DataFrame, name: str, lang: str, column_config: dict | None = None,
          csv: pd.DataFrame | None = None, columns: dict[str, tuple[str, str]] | None = None,
          currency: str | None = None, **kwargs) -> None:
    """A table and its CSV. `columns` makes it a table for people: raw column -> (header, kind),
    kind one of text, utc, local, day, yes_no or value:<unit> (as the cards show it); only those
    columns are shown, in that order, while the frame keeps its raw values. The CSV keeps raw codes
    and values as headers and cells so it loads back cleanly (`csv`, when the table shows
    formatted text), but text a spreadsheet would run as a formula is neutralised (ccq.export);
    the BOM lets Excel read Chinese text."""
    raw = df if csv is None else csv
    columns = {c: spec for c, spec in (columns or {}).items() if c in df.columns}  # an older snapshot may lack one
    if columns:
        shown = {f"{col}__shown": [_shown(kind, lang, currency)(v) for v in df[col]]
                 for col, (_, kind) in columns.items()}
        df = df.assign(**shown)
        column_config = {**(column_config or {}),
                         **{f"{col}__shown": header for col, (header, _) in columns.items()}}
        kwargs["column_order"] = list(shown)
    st.dataframe(df, hide_index=True, column_config=column_config, **kwargs)
    st.download_button(
        t("download_csv", lang),
        data=csv_download(raw),
        file_name=f"ccq-{_slug(name)}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key=f"csv_{_slug(name)}",
    )


def csv_name(sel: filters.Selection, page: str) -> str:
    scope_type, scope_id = sel.scope
    return f"{page}-{sel.grain}-{sel.period}-{scope_type}-{scope_id.replace('*', 'all')}"


def localized(row, field: str, lang: str) -> str | None:
    """A text column in the reader's language: its Chinese column (`<field>_zh`) when there is one, else English."""
    zh = text(getattr(row, f"{field}_zh", None)) if lang == "zh" else None
    return zh or text(getattr(row, field, None))


def owner(row, lang: str) -> str | None:
    """The owner role in the reader's language (the target row's Chinese column, else English)."""
    return localized(row, "owner_role", lang)


def first_action(row, lang: str) -> str | None:
    return localized(row, "first_action", lang)


def is_provisional(row) -> bool:
    return not fmt.is_missing(getattr(row, "provisional_until", None))


def status_text(row, lang: str) -> str:
    """What the status column says: met/at risk/missed, provisional until when, or no target."""
    if fmt.is_missing(row.value):
        return t("no_data", lang)
    if is_provisional(row):
        return t("provisional_until", lang, when=fmt.format_moment(row.provisional_until, lang))
    if is_zero_from_data(row):
        return t("zero_from_data", lang)
    return fmt.status_label(text(row.status), lang)


def is_zero_from_data(row) -> bool:
    """A percentile of 0 s from the data itself: no status, and the catalogue's zero_note says why."""
    return text(getattr(row, "status_withheld", None)) == "zero_from_data"


def status_badge(row, lang: str) -> str:
    if is_provisional(row):
        return f":violet-badge[:material/hourglass_top: {fmt.md_escape(status_text(row, lang))}]"
    if is_zero_from_data(row):
        return f":gray-badge[:material/info: {fmt.md_escape(status_text(row, lang))}]"
    status = text(row.status)
    return f":{fmt.status_colour(status)}-badge[{fmt.status_label(status, lang)}]"


def short_target(row, currency: str | None = None) -> str:
    """≥ 80.0%: the target with its direction, in the KPI's unit; empty without a target."""
    if fmt.is_missing(row.target):
        return ""
    op = "≤" if text(row.direction) == "lower_is_better" else "≥"
    return f"{op} {fmt.format_value(row.target, text(row.unit), currency)}"


def defined_here(rows: pd.DataFrame, grain: str, scope_type: str) -> pd.DataFrame:
    """The KPIs whose definition covers this grain and scope (catalogue grains and scopes):
    attrition is monthly, offered has no agent scope; KPIs without a definition stay."""
    def covers(listed: object, wanted: str) -> bool:
        return fmt.is_missing(listed) or not str(listed).strip() or wanted in [x.strip() for x in str(listed).split(",")]
    keep = [covers(sc, scope_type) and covers(gr, grain)
            for sc, gr in zip(rows.get("scopes", [None] * len(rows)), rows.get("grains", [None] * len(rows)))]
    return rows[keep]


def tile(row, label: str, lang: str, spark: list[float] | None = None, compare: bool = True,
         details: bool = True, currency: str | None = None, versus: str | None = None) -> None:
    """One KPI: value, change, target and status, certification, owner and first action.
    `compare` is off for a partial period with no like-for-like base (part of a week against a
    whole one misleads); `versus` names the base when it is not the previous period;
    `details` off gives the compact headline tile (owner and action are in the exceptions)."""
    has_value = not fmt.is_missing(row.value)
    unit = text(row.unit)
    delta = fmt.format_change(getattr(row, "change_vs_previous", None), unit, currency) if has_value and compare else None
    lower_better = text(row.direction) == "lower_is_better"
    st.metric(
        label,
        fmt.format_value(row.value, unit, currency) if has_value else t("no_data", lang),
        delta=delta,
        delta_color="off" if delta and delta.startswith("±") else (
            "inverse" if lower_better else ("normal" if text(row.direction) else "off")),
        delta_arrow="off" if delta and delta.startswith("±") else "auto",  # no change: neither up nor down
        delta_description=(versus or t("vs_previous", lang)) if delta else None,
        help=fmt.md_escape(localized(row, "description", lang) or "") or None,
        chart_data=spark if spark and len(spark) > 1 else None,
        chart_type="line",
    )
    if not has_value:
        st.markdown(f":gray-badge[{t('no_data', lang)}]")
        st.caption(t("no_data_help", lang))
        return
    certified = bool(row.certified) if not fmt.is_missing(row.certified) else False
    badges = [status_badge(row, lang)]
    if certified:
        badges.append(f":blue-badge[:material/verified: {t('certified', lang)}]")
    elif not is_provisional(row):  # provisional says why it is not certified yet
        badges.append(f":violet-badge[:material/warning: {t('not_certified', lang)}]")
    st.markdown(" ".join(badges))
    st.caption(fmt.md_escape(fmt.format_target(row.target, row.warning, unit, row.direction, lang, currency)))
    if is_zero_from_data(row) and localized(row, "zero_note", lang):
        st.caption(fmt.md_escape(localized(row, "zero_note", lang)))
    if not details:
        if not certified and not is_provisional(row):
            reason = reason_text(row.certification_reason, lang) or t("reason_unknown", lang)
            st.warning(t("not_certified_reason", lang, reason=fmt.md_escape(reason)), icon=":material/warning:")
        return
    year_ago = fmt.format_change(getattr(row, "change_vs_year_ago", None), unit, currency)
    if year_ago and compare and not versus:
        st.caption(fmt.md_escape(t("vs_year_ago", lang, change=year_ago)))
    if owner(row, lang):
        st.caption(f"**{t('owner', lang)}:** {fmt.md_escape(owner(row, lang))}")
    if first_action(row, lang):
        st.caption(f"**{t('first_action', lang)}:** {fmt.md_escape(first_action(row, lang))}")
    if not certified and not is_provisional(row):
        reason = reason_text(row.certification_reason, lang) or t("reason_unknown", lang)
        st.warning(t("not_certified_reason", lang, reason=fmt.md_escape(reason)), icon=":material/warning:")


def tiles(sel: filters.Selection, rows: pd.DataFrame, per_row: int = 3, sparklines: bool = True,
          compare: bool = True, details: bool = True, versus: str | None = None) -> None:
    """Tiles for the given scorecard rows, in their order, with the last periods as sparklines."""
    lang = sel.lang
    labels = kpi_labels(sel.snapshot.path, lang)
    currency = data.currency(sel.snapshot.path)
    spark: dict[str, list[float]] = {}
    if sparklines and not rows.empty:
        hist = data.history(sel.snapshot.path, sel.grain, sel.period, *sel.scope)
        spark = {k: [float(v) * fmt.display_scale(g["unit"].iloc[0]) for v in g["value"] if not fmt.is_missing(v)]
                 for k, g in hist.groupby("kpi", sort=False)}
    records = list(rows.itertuples(index=False))
    for start in range(0, len(records), per_row):
        columns = st.columns(per_row)
        for column, row in zip(columns, records[start:start + per_row]):
            with column, st.container(border=True):
                tile(row, labels.get(row.kpi, row.kpi), lang, spark.get(row.kpi), compare=compare, details=details,
                     currency=currency, versus=versus)


def kpi_table(rows: pd.DataFrame, lang: str, labels: dict[str, str], compare: bool = True,
              currency: str | None = None, versus: str | None = None) -> pd.DataFrame:
    """The scorecard as a person reads it: labels, values in the cards' units and words, the
    target with its direction, status, certification, owner. The CSV keeps scorecard_table."""
    def certified(row) -> str:
        if fmt.is_missing(row.value):
            return ""
        if not fmt.is_missing(row.certified) and bool(row.certified):
            return t("yes", lang)
        return t("no", lang)

    records = list(rows.itertuples(index=False))
    return pd.DataFrame(
        {
            t("col_area", lang): [t(f"area_{r.area}", lang) if text(getattr(r, "area", None)) else "" for r in records],
            t("col_label", lang): [labels.get(r.kpi, r.kpi) for r in records],
            t("col_value", lang): [fmt.format_value(r.value, text(r.unit), currency) for r in records],
            versus or t("col_vs_previous", lang): [
                (fmt.format_change(r.change_vs_previous, text(r.unit), currency) or "") if compare else ""
                for r in records],
            t("col_target", lang): [short_target(r, currency) for r in records],
            t("col_status", lang): [status_text(r, lang) for r in records],
            t("col_certified", lang): [certified(r) for r in records],
            t("col_owner", lang): [owner(r, lang) or "" for r in records],
        }
    )


def scorecard_table(rows: pd.DataFrame, lang: str, labels: dict[str, str]) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "kpi": rows["kpi"],
            "label": [labels.get(k, k) for k in rows["kpi"]],
            "value": rows["value"],
            "display": [fmt.format_value(v, u) for v, u in zip(rows["value"], rows["unit"])],
            "unit": rows["unit"],
            "target": rows["target"],
            "warning": rows["warning"],
            "direction": rows["direction"],
            "status": rows["status"],
            "previous_value": rows["previous_value"],
            "change_vs_previous": rows["change_vs_previous"],
            "year_ago_value": rows["year_ago_value"],
            "change_vs_year_ago": rows["change_vs_year_ago"],
            "previous_to_date_value": rows["previous_to_date_value"],
            "change_vs_previous_to_date": rows["change_vs_previous_to_date"],
            "previous_to_date_through": rows["previous_to_date_through"],
            "certified": rows["certified"],
            "certification_reason": rows["certification_reason"],
            "owner_role": rows["owner_role"],
            "first_action": rows["first_action"],
            "provisional_until": rows["provisional_until"],
            "numerator": rows["numerator"],
            "denominator": rows["denominator"],
            "as_of": rows["as_of"],
            "data_through": rows["data_through"],
            "grain": rows["grain"],
            "period_start": rows["period_start"],
            "scope_type": rows["scope_type"],
            "scope_id": rows["scope_id"],
        }
    )
    return table


SCORECARD_COLUMNS = {
    "kpi": "col_kpi", "label": "col_label", "value": "col_value", "display": "col_display",
    "unit": "col_unit", "target": "col_target", "warning": "col_warning", "direction": "col_direction",
    "status": "col_status", "previous_value": "col_previous", "change_vs_previous": "col_change_previous",
    "year_ago_value": "col_year_ago", "change_vs_year_ago": "col_change_year_ago",
    "certified": "col_certified", "certification_reason": "col_reason",
    "owner_role": "col_owner", "first_action": "col_first_action", "numerator": "col_numerator",
    "denominator": "col_denominator", "as_of": "col_as_of", "data_through": "col_data_through",
}


def column_labels(keys: dict[str, str], lang: str) -> dict[str, str]:
    return {col: t(key, lang) for col, key in keys.items()}


def kpi_columns(kpis, units: dict[str, str | None], labels: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Table columns of a wide table of KPI values: each KPI by its label, in its unit."""
    return {k: (labels.get(k, k), f"value:{units.get(k) or ''}") for k in kpis}


def rule_names(rules: object, lang: str) -> str:
    """signal_rules (rule_1,mr) as a reader names them."""
    if fmt.is_missing(rules):
        return ""
    names = [t(f"rule_{r.strip().removeprefix('rule_')}", lang) for r in str(rules).split(",") if r.strip()]
    return "; ".join(names)


# Certification reasons are composed in English by the models (kpi_certification,
# int_certification__*); these patterns give each part in the reader's language.
_REASONS = [
    (re.compile(r"^(?P<table>\w+) extract missing for (?P<day>[\d-]+)$"), "reason_missing"),
    (re.compile(r"^(?P<table>\w+) extract for (?P<day>[\d-]+) does not reconcile$"), "reason_unreconciled"),
    (re.compile(r"^(?P<table>\w+) (?P<n>\d+) rows quarantined on (?P<day>[\d-]+)$"), "reason_quarantined"),
    (re.compile(r"^(?P<suite>[^:]+): (?P<check>\S+) failed \((?P<n>\d+) unexpected\)$"), "reason_check_count"),
    (re.compile(r"^(?P<suite>[^:]+): (?P<check>\S+) failed$"), "reason_check"),
    (re.compile(r"^provisional: (?P<n>\d+) (?P<note>.+)$"), "reason_provisional"),
    (re.compile(r"^includes (?P<kind>queue|site) (?P<id>\S+), which is not configured \(defaults used\)$"),
     "reason_includes_unconfigured"),
    (re.compile(r"^(?P<kind>queue|site) (?P<id>\S+) is not configured in seeds/.*$"), "reason_unconfigured"),
    (re.compile(r"^(?P<kind>queue|site) (?P<id>\S+) is not in the reference data \(no time zone\)$"),
     "reason_no_time_zone"),
    (re.compile(r"^answered (?P<a>\d+) exceeds offered (?P<o>\d+) in the same period$"), "reason_answered"),
    (re.compile(r"^value (?P<v>\S+) is outside the plausible range of (?P<kpi>\w+) .*$"), "reason_implausible"),
]


def reason_text(reason: object, lang: str) -> str:
    """Why a value is not certified, part by part, in the reader's language (unknown parts as written)."""
    if fmt.is_missing(reason) or not str(reason).strip():
        return ""
    if lang != "zh":  # the models write them in English
        return str(reason)
    parts = []
    for part in str(reason).split("; "):
        for pattern, key in _REASONS:
            found = pattern.match(part)
            if found:
                values = found.groupdict()
                if "kind" in values:
                    values["kind"] = t(values["kind"], lang)
                if "note" in values and values["note"] in _PROVISIONAL_NOTES:
                    values["note"] = t(_PROVISIONAL_NOTES[values["note"]], lang)
                parts.append(t(key, lang, **values))
                break
        else:
            parts.append(part)
    return ("；" if lang == "zh" else "; ").join(parts)


# The catalogue's provisional notes (meta provisional_note of FCR and the training effect).
_PROVISIONAL_NOTES = {
    "handled contacts still inside their re-contact window": "note_fcr_window",
    "trainings whose after-course QA window is still open": "note_training_window",
}


def capitalised(text: str) -> str:
    """A label's scope words start lowercase (they are used mid-sentence); a table cell starts with a capital."""
    return text[:1].upper() + text[1:]
