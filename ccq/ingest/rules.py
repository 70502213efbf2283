"""The raw contract's column rules as SQL, for the loader's one pass over a file's staged rows:
how a text value is cast to the column's type, and for each rule the condition that breaks it
and the message a quarantined row carries.
"""
from __future__ import annotations

from ccq.contract import Column


def cast_expr(col: Column) -> str:
    q = f'"{col.name}"'
    v = f"nullif(trim({q}), '')"
    t = col.data_type
    if t == "VARCHAR":
        return f"nullif({q}, '')"
    if t == "TIMESTAMP":
        # Naive text means UTC (the session time zone is UTC); an explicit offset is honoured.
        return f"try_cast(try_cast({v} AS TIMESTAMPTZ) AS TIMESTAMP)"
    return f"try_cast({v} AS {t})"


def rule_checks(col: Column, transcoded_from: str | None = None) -> list[tuple[str, str, str]]:
    """(rule, SQL condition that is TRUE when broken, message SQL) for one column."""
    q = f'"{col.name}"'
    v = f"nullif(trim({q}), '')"
    cast = cast_expr(col)
    shown = f"left({q}, 60)"
    out: list[tuple[str, str, str]] = []
    # The transcoder (transcode_to_utf8) turned undecodable bytes into U+FFFD: the value is not
    # what the source wrote, whether this load or `ccq ingest` converted the file.
    source = transcoded_from.upper() if transcoded_from else "in the encoding the file was converted from"
    out.append((
        "encoding",
        f"strpos({q}, chr(65533)) > 0",
        f"'{col.name}: bytes that are not valid {source} (shown as U+FFFD): ''' || {shown} || ''''",
    ))
    if col.required:
        out.append(("required", f"{v} IS NULL", f"'{col.name} is required but empty'"))
    if col.data_type != "VARCHAR":
        out.append(
            (
                "type",
                f"{v} IS NOT NULL AND {cast} IS NULL",
                f"'{col.name}: cannot read ''' || {shown} || ''' as {col.data_type}'",
            )
        )
    if col.allowed:
        codes = ", ".join("'" + a.replace("'", "''") + "'" for a in col.allowed)
        out.append(
            (
                "allowed_values",
                f"{v} IS NOT NULL AND {v} NOT IN ({codes})",
                f"'{col.name}: unknown code ''' || {shown} || ''' (allowed: {', '.join(col.allowed)})'",
            )
        )
    if col.min is not None:
        out.append(("range", f"{cast} < {col.min}", f"'{col.name}: ' || {shown} || ' is below the minimum {col.min}'"))
    if col.max is not None:
        out.append(("range", f"{cast} > {col.max}", f"'{col.name}: ' || {shown} || ' is above the maximum {col.max}'"))
    return out
