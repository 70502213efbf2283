"""A published value as a person reads it, in the same words in the app and on the command line:
units, rounding half up, times as m:ss. Formatting only; no KPI arithmetic happens here."""
from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd


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
    rounded = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    # A small negative value rounds to 0, shown without a sign (0.0, not -0.0).
    return rounded.copy_abs() if rounded.is_zero() else rounded


# Stored value -> the number a reader sees: ratios and NPS are stored as fractions, complaints
# per 1,000 as the plain ratio. The one place the scale is written (values, changes, chart axes).
DISPLAY_SCALE = {"ratio": 100, "nps": 100, "per_1000": 1000}


def display_scale(unit: str | None) -> float:
    """Factor from a stored value to the number shown (formatting only)."""
    return float(DISPLAY_SCALE.get(unit or "", 1))


def format_value(value: object, unit: str | None, currency: str | None = None) -> str:
    """`currency`: the ISO code money is reported in (the centre's cost rates), shown after amounts."""
    if is_missing(value):
        return "—"
    d = _decimal(value)  # type: ignore[arg-type]
    if unit == "currency":
        return f"{_round(d, 2):,} {currency}" if currency else f"{_round(d, 2):,}"
    if unit == "ratio":
        return f"{_round(d * DISPLAY_SCALE['ratio'], 1):,}%"
    if unit == "nps":
        # Net promoter score: stored as a ratio (-1 to 1), read as points from -100 to 100, never as a percentage.
        return f"{_round(d * DISPLAY_SCALE['nps'], 1):,}"
    if unit == "seconds":
        return _seconds(int(_round(d)))
    if unit in ("contacts", "count"):
        return f"{int(_round(d)):,}"
    if unit == "per_1000":
        # stored as the plain ratio (complaints / handled); shown per 1,000
        return f"{_round(d * DISPLAY_SCALE['per_1000'], 2):,}‰"
    if unit == "hours":
        return f"{_round(d, 1):,} h"
    if unit == "per_hour":
        return f"{_round(d, 1):,}/h"
    if unit == "agents":
        # Average agents over the period: full-time equivalents, the word planners use in both languages.
        return f"{_round(d, 1):,} FTE"
    if unit == "score":
        return f"{_round(d, 1):,}"
    return f"{_round(d, 2):,}"


def format_change(change: object, unit: str | None, currency: str | None = None) -> str | None:
    """A change between two published values (value - earlier value), signed, in display units:
    percentage points for ratios. A change that rounds to nothing shows as ±0, not +0."""
    if is_missing(change):
        return None
    d = _decimal(change)  # type: ignore[arg-type]
    magnitude = abs(d)
    if unit == "ratio":
        shown = f"{_round(magnitude * DISPLAY_SCALE['ratio'], 1):,} pp"
    elif unit == "per_1000":
        shown = f"{_round(magnitude * DISPLAY_SCALE['per_1000'], 2):,}‰"
    else:
        shown = format_value(float(magnitude), unit, currency)
    zero = format_value(0.0, unit, currency) if unit not in ("ratio", "per_1000") else None
    if shown in (zero, "0.0 pp", "0.00‰"):
        return f"±{shown}"
    return f"{'+' if d > 0 else '-'}{shown}"


def _seconds(total: int) -> str:
    if total < 60:
        return f"{total}s"
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"


MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July",
             "August", "September", "October", "November", "December"]
WEEKDAYS = {
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "zh": ["周一", "周二", "周三", "周四", "周五", "周六", "周日"],
}


def day_span(first: date, last: date, lang: str) -> str:
    """Days of one month as a reader writes them: 1–5 Nov 2026, or 2026年11月1日–5日."""
    if first == last:
        return day_label(first, lang)
    if lang == "zh":
        return f"{first.year}年{first.month}月{first.day}日–{last.day}日"
    return f"{first.day}–{last.day} {MONTHS_EN[last.month - 1][:3]} {last.year}"


def day_label(d: date | datetime, lang: str) -> str:
    """A calendar day as a reader writes it: 5 Dec 2026, or 2026年12月5日 (no locale needed)."""
    if lang == "zh":
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.day} {MONTHS_EN[d.month - 1][:3]} {d.year}"
