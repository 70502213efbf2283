"""Display formatting only: turns published values into text. No KPI arithmetic happens here."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from app.i18n import MONTHS_EN, WEEKDAYS, lang_or_default, t

STATUS_COLOURS = {"met": "green", "at_risk": "orange", "missed": "red"}
NO_TARGET_COLOUR = "gray"


def is_missing(value: object) -> bool:
    """None, NaN, NaT or pd.NA (what a missing cell comes back as depends on the column type)."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _decimal(value: float) -> Decimal:
    # repr() is the shortest decimal that round-trips, so 0.8125 stays 0.8125 and halves round
    # up as a person would (81.3%), not half-to-even as float formatting does (81.2%).
    return Decimal(repr(float(value)))


def _round(d: Decimal, places: int = 0) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def format_value(value: object, unit: str | None) -> str:
    if is_missing(value):
        return "—"
    d = _decimal(value)  # type: ignore[arg-type]
    if unit == "ratio":
        return f"{_round(d * 100, 1):,}%"
    if unit == "seconds":
        return _seconds(int(_round(d)))
    if unit in ("contacts", "count"):
        return f"{int(_round(d)):,}"
    if unit == "per_1000":
        # stored as the plain ratio (complaints / handled); shown per 1,000
        return f"{_round(d * 1000, 2):,}‰"
    if unit == "hours":
        return f"{_round(d, 1):,} h"
    if unit == "per_hour":
        return f"{_round(d, 1):,}/h"
    if unit in ("agents", "score"):
        return f"{_round(d, 1):,}"
    return f"{_round(d, 2):,}"


def format_change(change: object, unit: str | None) -> str | None:
    """A change between two published values (value - earlier value), signed, in display units:
    percentage points for ratios."""
    if is_missing(change):
        return None
    d = _decimal(change)  # type: ignore[arg-type]
    sign = "+" if d > 0 else ("-" if d < 0 else "±")
    magnitude = abs(d)
    if unit == "ratio":
        return f"{sign}{_round(magnitude * 100, 1):,} pp"
    if unit == "per_1000":
        return f"{sign}{_round(magnitude * 1000, 2):,}‰"
    return f"{sign}{format_value(float(magnitude), unit)}"


def display_scale(unit: str | None) -> float:
    """Factor from a stored value to the number a chart axis shows (formatting only)."""
    return {"ratio": 100.0, "per_1000": 1000.0}.get(unit or "", 1.0)


def axis_unit(unit: str | None) -> str:
    return {"ratio": "%", "per_1000": "‰", "seconds": "s", "hours": "h", "per_hour": "/h"}.get(unit or "", "")


def _seconds(total: int) -> str:
    if total < 60:
        return f"{total}s"
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"


def format_target(target: object, warning: object, unit: str | None, direction: str | None, lang: str) -> str:
    if is_missing(target):
        return t("no_target", lang)
    op = "≤" if direction == "lower_is_better" else "≥"
    text = t("target_line", lang, op=op, target=format_value(target, unit))
    if not is_missing(warning):
        sep = "，" if lang_or_default(lang) == "zh" else " · "
        text += sep + t("warning_line", lang, warning=format_value(warning, unit))
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
    if is_missing(value):
        return None
    try:
        return f"{value:%Y-%m-%d %H:%M}"  # type: ignore[str-format]
    except (TypeError, ValueError):
        return str(value)


# Any ASCII punctuation may be backslash-escaped in CommonMark, so escaping more than strictly
# needed is harmless; missing one ($ starts LaTeX, :x[ a directive) is not.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:])")


def md_escape(text: object) -> str:
    """Escape text from the data before it goes into any Markdown-rendering element."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))
