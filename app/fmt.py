"""Display formatting only: turns published values into text. No KPI arithmetic happens here."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from app.i18n import lang_or_default, t
# Own day and month names (shared with the digests) so output does not depend on the server's locale.
from ccq.display import MONTHS_EN, WEEKDAYS
from ccq.display import day_label as _day_label
from ccq.display import day_span as _day_span
from ccq.display import display_scale, format_change, format_value, is_missing  # noqa: F401 (display_scale, format_change: for the views)

STATUS_COLOURS = {"met": "green", "at_risk": "orange", "missed": "red"}
NO_TARGET_COLOUR = "gray"


def axis_unit(unit: str | None) -> str:
    return {"ratio": "%", "per_1000": "‰", "seconds": "s", "hours": "h", "per_hour": "/h"}.get(unit or "", "")


def format_target(target: object, warning: object, unit: str | None, direction: str | None, lang: str,
                  currency: str | None = None) -> str:
    if is_missing(target):
        return t("no_target", lang)
    op = "≤" if direction == "lower_is_better" else "≥"
    text = t("target_line", lang, op=op, target=format_value(target, unit, currency))
    if not is_missing(warning):
        sep = "，" if lang_or_default(lang) == "zh" else " · "
        text += sep + t("warning_line", lang, warning=format_value(warning, unit, currency))
    return text


def status_label(status: str | None, lang: str) -> str:
    if status in STATUS_COLOURS:
        return t(f"status_{status}", lang)
    return t("no_target", lang)


def status_colour(status: str | None) -> str:
    return STATUS_COLOURS.get(status or "", NO_TARGET_COLOUR)


def period_key(period_start: datetime | date) -> str:
    """The stable, shareable form of a period (used in the URL)."""
    return period_start.strftime("%Y-%m-%d")


def parse_period_key(key: str) -> datetime:
    return datetime.strptime(key, "%Y-%m-%d")


def period_label(key: str, grain: str, lang: str) -> str:
    d = parse_period_key(key).date()
    zh = lang_or_default(lang) == "zh"
    if grain == "week":
        year, week, _ = d.isocalendar()
        end = d + timedelta(days=6)
        if zh:
            return f"{year}年第{week}周（{d:%m-%d} – {end:%m-%d}）"
        return f"{year}-W{week:02d} ({d.day} {MONTHS_EN[d.month - 1][:3]} – {end.day} {MONTHS_EN[end.month - 1][:3]})"
    if grain == "month":
        return f"{d.year}年{d.month}月" if zh else f"{MONTHS_EN[d.month - 1]} {d.year}"
    weekday = WEEKDAYS["zh" if zh else "en"][d.weekday()]
    if zh:
        return f"{d:%Y-%m-%d} {weekday}"
    return f"{weekday} {d.day} {MONTHS_EN[d.month - 1][:3]} {d.year}"


def day_label(d: date | datetime, lang: str) -> str:
    return _day_label(d, lang_or_default(lang))


def day_span(first: date, last: date, lang: str) -> str:
    return _day_span(first, last, lang_or_default(lang))


def format_moment(value: object, lang: str) -> str | None:
    """A UTC timestamp from the marts: the day, and the time with its zone unless it is midnight."""
    if is_missing(value):
        return None
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    text = day_label(when, lang)
    if (when.hour, when.minute) != (0, 0):
        text += f" {when:%H:%M} UTC"
    return text


def format_published(iso: str | None, lang: str) -> str:
    if not iso:
        return t("unknown", lang)
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    return f"{when:%Y-%m-%d %H:%M} UTC"


def format_as_of(value: object) -> str | None:
    """When the newest extract was loaded: stored in UTC, as every load time."""
    if is_missing(value):
        return None
    try:
        return f"{value:%Y-%m-%d %H:%M} UTC"  # type: ignore[str-format]
    except (TypeError, ValueError):
        return str(value)


# Any ASCII punctuation may be backslash-escaped in CommonMark, so escaping more than strictly
# needed is harmless; missing one ($ starts LaTeX, :x[ a directive) is not.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:])")


def md_escape(text: object) -> str:
    """Escape text from the data before it goes into any Markdown-rendering element."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))
