"""Sidebar filters shared by every page, kept in the URL so a view can be shared.

The URL carries stable codes (grain=week&period=2026-03-02&queue=Q_BILLING&team=T01&lang=zh),
never display text, so a link means the same thing in either language. The URL is read only when
a session starts; after that the widgets own the state and are written back on every run.

kpi_values publishes one scope per row (the centre, a queue, a site, a team...), not crossings
of them, so the filters pick one scope: the most specific one set (team, then queue, then site);
a page says when a filter was set aside.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from app import data
from app.fmt import day_label, format_published, period_label
from app.i18n import DEFAULT_LANG, LANGUAGES, lang_or_default, t

ALL_QUEUES = "*"
ALL = "*"
_SELECTION = "_ccq_selection"


def _key(name: str) -> str:
    return f"flt_{name}"


@dataclass(frozen=True)
class Selection:
    snapshot: data.Snapshot
    lang: str
    grain: str
    period: str | None  # period key; None when the snapshot has nothing at this grain
    queue: str  # ALL_QUEUES or a queue_id
    team: str = ALL
    site: str = ALL

    @property
    def scope(self) -> tuple[str, str]:
        for scope_type, value in (("team", self.team), ("queue", self.queue), ("site", self.site)):
            if value != ALL:
                return scope_type, value
        return data.ALL_SCOPE

    @property
    def set_aside(self) -> list[str]:
        """Filters that are set but not the scope shown (kpi_values has no crossings)."""
        chosen = self.scope[0]
        return [n for n, v in (("team", self.team), ("queue", self.queue), ("site", self.site))
                if v != ALL and n != chosen]

    @property
    def bounds(self) -> tuple[date, date] | tuple[None, None]:
        """First day of the period and the day after it."""
        return data.period_bounds(self.period, self.grain) if self.period else (None, None)


def _seen(name: str) -> str:
    return f"_ccq_url_{name}"


def _seed(name: str, options: list[str], default: str | None) -> None:
    key = _key(name)
    wanted = st.query_params.get(name)
    if key not in st.session_state:
        st.session_state[key] = wanted if wanted in options else default
    elif wanted in options and wanted != st.session_state.get(_seen(name), wanted):
        # The URL changed under the session since this app last wrote it: a link inside the app
        # was followed (the scorecard's "Why?"), so it wins over the widget's last value.
        st.session_state[key] = wanted
    elif st.session_state[key] not in options:
        # e.g. the grain changed, or a new snapshot no longer has that period
        st.session_state[key] = default


def _one_or_all(container, name: str, labels: dict[str, str], all_value: str, all_label: str, lang: str) -> str:
    """A sidebar choice of one id (shown by its label) or all of them, seeded from the URL."""
    ids = [all_value, *labels]
    _seed(name, ids, all_value)
    return container.selectbox(
        t(name, lang),
        ids,
        format_func=lambda v: t(all_label, lang) if v == all_value else labels[v],
        key=_key(name),
    )


def language(container) -> str:
    _seed("lang", list(LANGUAGES), DEFAULT_LANG)
    lang = container.radio(
        t("language", st.session_state[_key("lang")]),
        list(LANGUAGES),
        format_func=LANGUAGES.__getitem__,
        horizontal=True,
        key=_key("lang"),
    )
    return lang_or_default(lang)


def sidebar(container, snap: data.Snapshot, lang: str) -> Selection:
    """Render the filters, sync the URL, and remember the selection for the page."""
    container.caption(
        ":material/update: " + t("data_refreshed", lang, when=format_published(snap.published_at, lang))
    )

    grains = list(data.GRAINS)
    _seed("grain", grains, grains[0])
    grain = container.selectbox(
        t("grain", lang), grains, format_func=lambda g: t(f"grain_{g}", lang), key=_key("grain")
    )

    period_keys = data.periods(snap.path, grain)
    period = None
    if period_keys:
        # The last complete period by default: a month two days old against a whole one misleads.
        # The partial one stays on offer, labelled as such.
        through = data.data_through(snap.path)
        partial = {k for k in period_keys if data.is_partial(k, grain, through)}
        complete = [k for k in period_keys if k not in partial]
        _seed("period", period_keys, complete[0] if complete else period_keys[0])

        def label(k: str) -> str:
            if k in partial:
                return f"{period_label(k, grain, lang)} ({t('partial_suffix', lang, through=day_label(through, lang))})"
            return period_label(k, grain, lang)

        period = container.selectbox(t("period", lang), period_keys, format_func=label, key=_key("period"))

    queue = _one_or_all(container, "queue", queue_labels(snap.path, lang), ALL_QUEUES, "all_queues", lang)
    site = _one_or_all(container, "site", site_labels(snap.path), ALL, "all_sites", lang)
    teams = {team_id: team_id for team_id in data.scope_ids(snap.path, "team")}
    team = _one_or_all(container, "team", teams, ALL, "all_teams", lang)

    _write_url({"lang": lang, "grain": grain, "period": period, "queue": queue, "team": team, "site": site})
    selection = Selection(
        snapshot=snap, lang=lang, grain=grain, period=period, queue=queue, team=team, site=site
    )
    st.session_state[_SELECTION] = selection
    return selection


def queue_labels(path: str, lang: str) -> dict[str, str]:
    """queue_id -> display name in the chosen language (falls back to English)."""
    df = data.queues(path)
    names = {}
    for row in df.itertuples(index=False):
        zh = row.queue_name_zh if lang == "zh" and isinstance(row.queue_name_zh, str) and row.queue_name_zh else None
        names[row.queue_id] = zh or row.queue_name
    return names


def site_labels(path: str) -> dict[str, str]:
    df = data.sites(path)
    return {row.site_id: f"{row.site_name} ({row.site_id})" if row.site_name and row.site_name != row.site_id
            else row.site_id for row in df.itertuples(index=False)}


def scope_label(sel: Selection) -> str:
    scope_type, scope_id = sel.scope
    lang = sel.lang
    if scope_type == "queue":
        return queue_labels(sel.snapshot.path, lang).get(scope_id, scope_id)
    if scope_type == "site":
        return site_labels(sel.snapshot.path).get(scope_id, scope_id)
    if scope_type == "team":
        return t("team_named", lang, team=scope_id)
    return t("all_queues", lang)


def page_choice(container, name: str, label: str, options: list[str], default: str | None = None,
                format_func=str) -> str | None:
    """A page's own control (a KPI to chart, an agent...), seeded from the URL like the filters
    and written back to it, so the exact view can be shared too."""
    if not options:
        return None
    _seed(name, options, default if default in options else options[0])
    value = container.selectbox(label, options, format_func=format_func, key=_key(name))
    _write_url({name: value})
    return value


def _write_url(values: dict[str, str | None]) -> None:
    # Only our keys are touched; update() sends the browser a single URL change.
    changed = {k: v for k, v in values.items() if v is not None and st.query_params.get(k) != v}
    if changed:
        st.query_params.update(changed)
    for name, value in values.items():
        st.session_state[_seen(name)] = value
    for name, value in values.items():
        if value is None and name in st.query_params:
            del st.query_params[name]


def current() -> Selection:
    """The selection made by the entry point in this run (pages call this)."""
    return st.session_state[_SELECTION]
