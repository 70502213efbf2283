"""CSV files a person may open in a spreadsheet (`ccq kpis --format csv`, the app's downloads).

Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`, `-` or `@` (and, after
a tab or a carriage return, what follows) as a formula, even in a CSV file: a queue name, an agent
id or a certification reason such as `=HYPERLINK("http://evil.example/x","click")` would become a
live link or worse (CSV or formula injection). Following OWASP's guidance
(https://owasp.org/www-community/attacks/CSV_Injection), every text cell that starts with one of
those characters gets a leading single quote, and every text cell is written in double quotes
(quotes inside doubled), so neither the delimiter of the reader's locale (`;`) nor a line break
inside a cell can start a new cell. Numbers, booleans and dates are not text and are written as
they are: a negative value stays `-1.3`.

`raw=True` writes the values exactly as they are, for programs that read the file back; text
cells are quoted there too (a lone carriage return inside a cell would otherwise end the row).
"""
from __future__ import annotations

import csv
from typing import Any, TextIO

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text value a spreadsheet would run as a formula, prefixed with a single quote; any
    other value (numbers, dates, missing, harmless text) unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _is_text(column: pd.Series) -> bool:
    dtype = column.dtype
    return not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
                or pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype))


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` whose text cells (and header names) cannot run as formulas. Only str cells
    change: a number stored in a text column of mixed values is still a number."""
    out = df.copy()
    for i, name in enumerate(df.columns):
        column = df.iloc[:, i]
        if _is_text(column):
            out.isetitem(i, column.astype(object).map(neutralise))
    out.columns = [neutralise(c) for c in df.columns]
    return out


def write_csv(df: pd.DataFrame, out: TextIO | None = None, *, raw: bool = False) -> str | None:
    """`df` as CSV without the index, into `out` (or returned as a string, as DataFrame.to_csv).
    Spreadsheet-safe unless raw."""
    return (df if raw else spreadsheet_safe(df)).to_csv(out, index=False, quoting=csv.QUOTE_NONNUMERIC)


def csv_download(df: pd.DataFrame) -> bytes:
    """The bytes of a CSV download: spreadsheet-safe, UTF-8 with a BOM so Excel reads Chinese text."""
    return write_csv(df).encode("utf-8-sig")
