"""Data trust: certification of each KPI by period, failing checks, freshness and reconciliation
of every source, quarantine counts, and the validation report."""
import altair as alt
import pandas as pd
import streamlit as st

from app import data, fmt, ui
from app.i18n import t

HISTORY = 14
SYSTEMS = {f"system_{s}" for s in ("pbx", "acd", "ivr", "crm", "survey", "qa", "wfm", "hr", "finance")}
# The loader's quarantine rules (ccq.ingest: the raw contract, and lines it cannot read).
CONTRACT_RULES = ("encoding", "required", "type", "allowed_values", "range", "header", "parse", "duplicate")

sel = ui.page_header("trust")
lang = sel.lang
path = sel.snapshot.path
labels = ui.kpi_labels(path, lang)

cert = data.certification(path, sel.grain, sel.period, *sel.scope, HISTORY)
checks = data.check_counts(path)
quarantine = data.quarantine(path)
in_period = cert[cert["period_start"] == pd.Timestamp(data.parse_month(sel.period))]

c1, c2, c3, c4 = st.columns(4)
c1.metric(t("certified_values", lang), f"{int(in_period['certified'].fillna(False).sum())} / {len(in_period)}")
if checks.empty:
    c2.metric(t("checks_failed", lang), "—")
else:
    c2.metric(t("checks_failed", lang), f"{int(checks['failed'].iloc[0]):,} / {int(checks['checks'].iloc[0]):,}")
c3.metric(t("rows_quarantined", lang), f"{int(quarantine['rows'].sum()):,}")
through = data.scorecard(path, sel.grain, sel.period, *sel.scope)["data_through"].dropna()
c4.metric(t("col_data_through", lang), f"{pd.Timestamp(through.max()):%Y-%m-%d}" if not through.empty else "—")

# --- queues and sites the data names but the seeds do not configure ---------------------------------
queues, sites = data.queues(path), data.sites(path)
missing = pd.concat([
    queues[~queues["is_configured"]].assign(
        kind=t("queue", lang), name=lambda d: d["queue_id"],
        used=lambda d: [t("unconfigured_queue_used", lang, zone=z) for z in d["time_zone"]]),
    sites[~sites["is_configured"]].assign(
        kind=t("site", lang), name=lambda d: d["site_id"], site_id="",
        used=lambda d: [t("unconfigured_site_used", lang, zone=z) for z in d["time_zone"]]),
], ignore_index=True)
if not missing.empty:
    st.subheader(t("unconfigured", lang))
    st.warning(t("unconfigured_help", lang, n=len(missing)), icon=":material/settings:")
    ui.table(missing[["kind", "name", "site_id", "time_zone", "used"]], ui.csv_name(sel, "unconfigured"), lang,
             columns={"kind": (t("col_kind", lang), "text"), "name": (t("col_id", lang), "text"),
                      "site_id": (t("site", lang), "text"), "time_zone": (t("time_zone", lang), "text"),
                      "used": (t("col_used", lang), "text")})

# --- certification by KPI and period -------------------------------------------------------------
st.subheader(t("certification_by_period", lang))
if cert.empty:
    st.info(t("no_data_help", lang), icon=":material/info:")
else:
    cert = cert.assign(
        label=[labels.get(k, k) for k in cert["kpi"]],
        period=[fmt.period_label(f"{p:%Y-%m-%d}", sel.grain, lang) for p in cert["period_start"]],
        state=[t("certified", lang) if c else t("not_certified", lang) for c in cert["certified"].fillna(False)],
    )
    order = [labels.get(k, k) for k in data.catalogue(path)["kpi"] if labels.get(k, k) in set(cert["label"])]
    grid = alt.Chart(cert).mark_rect(stroke="white").encode(
        x=alt.X("period:O", sort=list(dict.fromkeys(cert.sort_values("period_start")["period"])), title=None),
        y=alt.Y("label:N", sort=order or None, title=None, axis=alt.Axis(labelLimit=280)),
        color=alt.Color("state:N", title=None,
                        scale=alt.Scale(domain=[t("certified", lang), t("not_certified", lang)],
                                        range=["#1565c0", "#8e24aa"])),
        tooltip=["label", "period", "state", "certification_reason"],
    )
    st.altair_chart(grid, width="stretch")
    uncertified = cert[~cert["certified"].fillna(False)]
    st.caption(t("uncertified_values", lang, n=len(uncertified)))
    uncertified = uncertified.assign(reason=[ui.reason_text(r, lang) for r in uncertified["certification_reason"]])
    ui.table(
        uncertified[["kpi", "label", "period_start", "certification_reason", "period", "reason"]],
        ui.csv_name(sel, "uncertified"), lang,
        csv=uncertified[["kpi", "label", "period_start", "certification_reason"]],
        columns={"label": (t("col_label", lang), "text"), "period": (t("period", lang), "text"),
                 "reason": (t("col_reason", lang), "text")},
    )

# --- failing checks -------------------------------------------------------------------------------
st.subheader(t("failing_checks", lang))
failing = data.failing_checks(path)
if not data.has(path, "audit.check_results"):
    ui.missing(lang, t("failing_checks", lang), "audit.check_results")
elif failing.empty:
    st.success(t("all_checks_passed", lang), icon=":material/check_circle:")
else:
    failing = failing.assign(severity_shown=[t(f"severity_{v}", lang) if v in ("critical", "warning") else v
                                             for v in failing["severity"]])
    ui.table(failing, "failing-checks", lang, csv=failing.drop(columns=["severity_shown"]), columns={
        "table_name": (t("source", lang), "text"), "check_name": (t("check", lang), "text"),
        "severity_shown": (t("severity", lang), "text"), "partition_date": (t("col_day", lang), "day"),
        "unexpected_count": (t("unexpected", lang), "value:count"), "checked_at": (t("checked_at", lang), "utc"),
    })

# --- sources: freshness, reconciliation, quarantine -------------------------------------------------
st.subheader(t("sources", lang))
src = data.sources(path)
if src.empty:
    ui.missing(lang, t("sources", lang), "audit.load_files")
else:
    if "system" in src:
        src = src.assign(system_shown=[t(f"system_{v}", lang) if f"system_{v}" in SYSTEMS else v for v in src["system"]])
    ui.table(src, "sources", lang, csv=src.drop(columns=["system_shown"], errors="ignore"), columns={
        "table_name": (t("source", lang), "text"), "system_shown": (t("system", lang), "text"),
        "files": (t("files", lang), "value:count"), "rows_read": (t("rows_read", lang), "value:count"),
        "rows_loaded": (t("rows_loaded", lang), "value:count"),
        "rows_quarantined": (t("rows_quarantined", lang), "value:count"),
        "last_file_date": (t("last_file_date", lang), "day"), "last_loaded_at": (t("last_loaded_at", lang), "utc"),
        "age_hours": (t("age_hours", lang), "value:hours"), "is_fresh": (t("is_fresh", lang), "yes_no"),
    })

st.subheader(t("quarantine", lang))
if quarantine.empty:
    st.success(t("nothing_quarantined", lang), icon=":material/check_circle:")
else:
    quarantine = quarantine.assign(rule_shown=[t(f"contract_rule_{r}", lang) if r in CONTRACT_RULES else r
                                               for r in quarantine["rule"]])
    ui.table(quarantine, "quarantine", lang, csv=quarantine.drop(columns=["rule_shown"]), columns={
        "table_name": (t("source", lang), "text"), "field": (t("field", lang), "text"),
        "rule_shown": (t("rule", lang), "text"), "rows": (t("rows_quarantined", lang), "value:count")})

# --- validation report ------------------------------------------------------------------------------
st.subheader(t("validation_report", lang))
report = data.validation_report()
if report is None:
    st.info(t("no_report", lang), icon=":material/info:")
else:
    st.caption(f"`{str(report).replace('`', '')}`")
    st.download_button(
        t("open_report", lang), data=report.read_bytes(), file_name=report.name, mime="text/html",
        icon=":material/description:", on_click="ignore", key="report",
    )
