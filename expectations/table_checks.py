"""Checks GX cannot make batch by batch (`meta.ccq.table_checks` of a suite), run as DuckDB queries
over the whole relation: key uniqueness, column types, references, volume against the norm."""
from __future__ import annotations

from typing import Callable

from expectations.catalog import quote_ident
from expectations.results import CheckOutcome, SAMPLE_LIMIT, _file_line, _fmt

def _key_unique(con, relation: str, where: str | None, check: dict, rows: int, params: dict | None = None) -> CheckOutcome:
    cols = [str(c) for c in check["columns"]]
    keys = ", ".join(quote_ident(c) for c in cols)
    not_null = " and ".join(f"{quote_ident(c)} is not null" for c in cols)
    # Raw tables: name the file and line of every copy.
    located = ", string_agg(_file_id || coalesce(':' || _line_no, ''), ', ' order by _file_id, _line_no) as copies" \
        if check.get("locate") else ", null as copies"
    if where and check.get("scope", "table") == "table":
        dup = (
            f"select {keys}, count(*) as n{located} from {relation} "
            f"join (select distinct {keys} from {relation} where ({where}) and {not_null}) as part using ({keys}) "
            f"group by {keys} having count(*) > 1"
        )
        scope = f"the whole of {relation}"
    else:
        dup = (
            f"select {keys}, count(*) as n{located} from {relation} where ({where or 'true'}) and {not_null} "
            f"group by {keys} having count(*) > 1"
        )
        scope = "the partition" if where else relation
    sql = (
        f"select *, count(*) over () as dup_keys, sum(n) over () as dup_rows from ({dup}) as d "
        f"order by n desc, {keys} limit {SAMPLE_LIMIT}"
    )
    found = con.execute(sql).fetchall()
    dup_keys = int(found[0][-2]) if found else 0
    dup_rows = int(found[0][-1]) if found else 0
    if dup_keys:
        samples = []
        for r in found:
            key = ", ".join(f"{c}={_fmt(v)}" for c, v in zip(cols, r[: len(cols)]))
            copies = r[len(cols) + 1]
            where_from = ""
            if copies:
                where_from = " (" + ", ".join(
                    _file_line(*(c.rsplit(":", 1) if ":" in c else (c, None))) for c in copies.split(", ")) + ")"
            samples.append(f"{key} x{r[len(cols)]}{where_from}")
        details = (
            f"{dup_rows:,} rows share {dup_keys:,} key value(s) with another row in {scope}; e.g. "
            + "; ".join(samples)
        )
    else:
        details = f"ok ({rows:,} checked against {scope})"
    return _table_outcome(check, ", ".join(cols), dup_keys == 0, dup_rows, rows, details)


def _table_outcome(check: dict, column: str | None, success: bool, unexpected: int, elements: int,
                   details: str) -> CheckOutcome:
    return CheckOutcome(
        name=check["name"],
        column=column,
        success=success,
        unexpected_count=int(unexpected),
        element_count=int(elements),
        details=details,
        expectation=f"table:{check['kind']}",
        notes=str(check.get("notes", "")),
        severity=str(check.get("severity", "critical")),
    )


def _split_relation(relation: str) -> tuple[str, str]:
    schema, _, name = relation.rpartition(".")
    return schema or "main", name


def _column_types(con, relation: str, where: str | None, check: dict, rows: int, params: dict | None = None) -> CheckOutcome:
    schema, name = _split_relation(relation)
    actual = dict(con.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, name]).fetchall())
    want = {str(k): str(v).upper() for k, v in check["types"].items()}
    # Missing or extra columns are the column-set check's business; here: the type of each shared column.
    wrong = [f"{c} is {actual[c]}, expected {t}" for c, t in want.items() if c in actual and actual[c].upper() != t]
    details = "; ".join(wrong) if wrong else f"ok ({len([c for c in want if c in actual])} columns as declared)"
    return _table_outcome(check, None, not wrong, len(wrong), len(want), details)


def _references(con, relation: str, where: str | None, check: dict, rows: int, params: dict | None = None) -> CheckOutcome:
    cols = [str(c) for c in check["columns"]]
    to_cols = [str(c) for c in check.get("to_columns", cols)]
    target = str(check["to"])
    cond = " and ".join([f"({where or 'true'})", *(f"s.{quote_ident(c)} is not null" for c in cols),
                         f"({check['condition']})" if check.get("condition") else "true"])
    match = " and ".join(f"t.{quote_ident(tc)} = s.{quote_ident(c)}" for c, tc in zip(cols, to_cols))
    keys = ", ".join(f"s.{quote_ident(c)}" for c in cols)
    [(elements,)] = con.execute(f"select count(*) from {relation} as s where {cond}").fetchall()
    found = con.execute(
        f"""select {keys}, count(*) as n, min(s._line_no) as first_line, arg_min(s._file_id, s._line_no) as file_id,
                   count(*) over () as missing_values, sum(count(*)) over () as missing_rows
            from {relation} as s
            where {cond} and not exists (select 1 from {target} as t where {match})
            group by {keys} order by n desc, {keys} limit {SAMPLE_LIMIT}"""
        if check.get("locate", True) else
        f"""select {keys}, count(*) as n, null, null, count(*) over (), sum(count(*)) over ()
            from {relation} as s where {cond} and not exists (select 1 from {target} as t where {match})
            group by {keys} order by n desc, {keys} limit {SAMPLE_LIMIT}""").fetchall()
    missing_rows = int(found[0][-1]) if found else 0
    missing_values = int(found[0][-2]) if found else 0
    ref = f"{target} ({', '.join(to_cols)})"
    if found:
        samples = []
        for r in found:
            key = ", ".join(f"{c}={_fmt(v)}" for c, v in zip(cols, r[: len(cols)]))
            n, first_line, file_id = r[len(cols): len(cols) + 3]
            at = _file_line(file_id, first_line)
            samples.append(f"{key} x{n}" + (f" (first at {at})" if at else ""))
        details = (f"{missing_rows:,} of {elements:,} rows ({missing_values:,} value(s)) have no match in {ref}; e.g. "
                   + "; ".join(samples))
    else:
        details = f"ok ({elements:,} rows found in {ref})"
    return _table_outcome(check, ", ".join(cols), not found, missing_rows, elements, details)


def volume_norm(con, relation: str, where: str | None, check: dict, rows: int, params: dict | None = None) -> CheckOutcome:
    """Rows read on the partition's day against the median of the same weekday in the previous weeks."""
    from datetime import date, timedelta

    day = (params or {}).get("partition_date")
    if day is None:
        return _table_outcome(check, None, True, 0, 0, "not applicable (no extract day given)")
    day = date.fromisoformat(str(day)[:10])
    history_days = [day - timedelta(days=7 * w) for w in range(1, int(check.get("weeks", 4)) + 1)]
    counts = dict(con.execute(
        "select file_date, sum(rows_read) from audit.load_files where table_name = ? and file_date in "
        "(select unnest(?::DATE[])) group by file_date",
        [check["table"], [day, *history_days]]).fetchall())
    if day not in counts:
        return _table_outcome(check, None, True, 0, 0, "not applicable (no extract for the day)")
    today = int(counts[day])
    history = sorted(int(counts[d]) for d in history_days if d in counts)
    if len(history) < int(check.get("min_history", 2)):
        return _table_outcome(check, None, True, 0, today,
                              f"not enough history ({len(history)} earlier {day:%A}s); {today:,} rows read")
    mid = len(history) // 2
    norm = history[mid] if len(history) % 2 else (history[mid - 1] + history[mid]) / 2
    if norm < float(check.get("min_rows", 0)):
        return _table_outcome(check, None, True, 0, today,
                              f"no norm for so small an extract (median {norm:,.0f} rows); {today:,} rows read")
    ratio = float(check["ratio"])
    share = today / norm if norm else 0.0
    ok = share >= ratio if check.get("bound", "low") == "low" else share <= ratio
    bound = "at least" if check.get("bound", "low") == "low" else "at most"
    details = (f"{today:,} rows read on {day} = {share:.0%} of the norm {norm:,.0f} (median of {len(history)} earlier "
               f"{day:%A}s: {', '.join(f'{h:,}' for h in history)}); expected {bound} {ratio:.0%}")
    return _table_outcome(check, None, ok, 0 if ok else 1, 1, details)


TABLE_CHECKS: dict[str, Callable[..., CheckOutcome]] = {
    "key_unique": _key_unique,
    "column_types": _column_types,
    "references": _references,
    "volume_norm": volume_norm,
}
