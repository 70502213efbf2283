"""Sidebar filters shared by every page, kept in the URL so a view can be shared.

The URL carries stable codes (grain=week&period=2026-03-02&queue=Q_BILLING&lang=zh), never
display text, so a link means the same thing in either language. The URL is read only when a
session starts; after that the widgets own the state and are written back on every run.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from app import data
from app.fmt import format_published, period_label
from app.i18n import DEFAULT_LANG, LANGUAGES, lang_or_default, t

ALL_QUEUES = "*"
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

    @property
    def scope(self) -> tuple[str, str]:
        return data.ALL_SCOPE if self.queue == ALL_QUEUES else ("queue", self.queue)


def _seed(name: str, options: list[str], default: str | None) -> None:
    key = _key(name)
    if key not in st.session_state:
        wanted = st.query_params.get(name)
        st.session_state[key] = wanted if wanted in options else default
    elif st.session_state[key] not in options:
        # e.g. the grain changed, or a new snapshot no longer has that period
        st.session_state[key] = default


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
        _seed("period", period_keys, period_keys[0])
        period = container.selectbox(
            t("period", lang), period_keys, format_func=lambda k: period_label(k, grain, lang), key=_key("period")
        )

    queue_names = queue_labels(snap.path, lang)
    queue_ids = [ALL_QUEUES, *queue_names]
    _seed("queue", queue_ids, ALL_QUEUES)
    queue = container.selectbox(
        t("queue", lang),
        queue_ids,
        format_func=lambda q: t("all_queues", lang) if q == ALL_QUEUES else queue_names[q],
        key=_key("queue"),
    )

    _write_url({"lang": lang, "grain": grain, "period": period, "queue": queue})
    selection = Selection(snapshot=snap, lang=lang, grain=grain, period=period, queue=queue)
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


def _write_url(values: dict[str, str | None]) -> None:
    # Only our keys are touched; update() sends the browser a single URL change.
    changed = {k: v for k, v in values.items() if v is not None and st.query_params.get(k) != v}
    if changed:
        st.query_params.update(changed)
    for name, value in values.items():
        if value is None and name in st.query_params:
            del st.query_params[name]


def current() -> Selection:
    """The selection made by the entry point in this run (pages call this)."""
    return st.session_state[_SELECTION]
