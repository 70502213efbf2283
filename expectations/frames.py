"""What DuckDB prepares so that GX can judge what one batch of the partition does not show.

GX validates DataFrames batch by batch, so a rule about the whole table, the schema, other
sources or the weeks before cannot be judged from the partition's rows alone. DuckDB, which holds
the data, computes the rows such a rule needs; GX's own expectations judge them:

- `key_copies`: every row of the whole table whose key occurs in the partition, ordered by key and
  batched so that no key is split between batches: `expect_column_values_to_be_unique` or
  `expect_compound_columns_to_be_unique` sees every copy, with its file and line.
- `column_types`: one row per contract column with the type DuckDB has and the type the contract
  declares: `expect_column_pair_values_to_be_equal`.
- `volume`: one row per extract day of the partition, with the rows read (the load audit) and the
  bounds of the norm, the median of the same weekday in the previous weeks:
  `expect_column_pair_values_a_to_be_greater_than_b` (a day without a norm has no bound, and GX
  skips it).

A reference to another source needs no frame of its own: the partition's frame carries, beside
each value, the same value when the other table holds it (a derived column of the raw suite,
expectations.raw_suites), and `expect_column_pair_values_to_be_equal` judges the pair.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from expectations.catalog import quote_ident


@dataclass(frozen=True)
class Frame:
    sql: str
    index_columns: list[str]  # named in each failure sample
    keep_together: list[str] | None = None  # a batch never splits rows equal on these columns


def _sql_string(v: Any) -> str:
    return "'" + str(v).replace("'", "''") + "'"


def _key_copies(spec: dict, relation: str, where: str | None) -> Frame:
    cols = [str(c) for c in spec["columns"]]
    keys = ", ".join(quote_ident(c) for c in cols)
    not_null = " and ".join(f"{quote_ident(c)} is not null" for c in cols)
    sql = (f"select {keys}, _file_id, _line_no from {relation} "
           f"join (select distinct {keys} from {relation} where ({where or 'true'}) and {not_null}) as part "
           f"using ({keys}) order by {keys}, _file_id, _line_no")
    return Frame(sql, ["_file_id", "_line_no"], cols)


def _column_types(spec: dict, relation: str, where: str | None) -> Frame:
    schema, _, name = relation.rpartition(".")
    declared = ", ".join(f"({_sql_string(c)}, {_sql_string(str(t).upper())})" for c, t in spec["types"].items())
    # Missing or extra columns are the column set's expectation; here: the type of each shared column.
    sql = (f"select c.column_name, upper(c.data_type) as data_type, d.declared_type "
           f"from information_schema.columns as c join (values {declared}) as d (column_name, declared_type) "
           f"using (column_name) where c.table_schema = {_sql_string(schema or 'main')} "
           f"and c.table_name = {_sql_string(name)} order by c.ordinal_position")
    return Frame(sql, ["column_name"])


def _volume(spec: dict, relation: str, where: str | None) -> Frame:
    # `where` must be a filter on _file_id (expectations.runner.raw_files_filter): it is applied to
    # the load audit, whose file_id is the raw rows' _file_id.
    table = _sql_string(spec["table"])
    weeks = int(spec["weeks"])
    sql = f"""
with delivered as (
    select file_date, sum(rows_read) as rows_read
    from (select *, file_id as _file_id from audit.load_files where table_name = {table}) as f
    where ({where or 'true'}) and file_date is not null
    group by file_date
),
earlier as (
    select d.file_date, h.file_date as earlier_date, sum(h.rows_read) as rows_read
    from delivered as d
    join audit.load_files as h
      on h.table_name = {table} and h.file_date < d.file_date and h.file_date >= d.file_date - {7 * weeks}
     and date_diff('day', h.file_date, d.file_date) % 7 = 0
    group by all
),
norms as (
    select file_date, median(rows_read) as norm, count(*) as earlier_days,
           string_agg(format('{{:,}}', rows_read), ', ' order by rows_read) as earlier_same_weekday
    from earlier group by file_date
)
select cast(d.file_date as varchar) as file_date, d.rows_read, n.norm, coalesce(n.earlier_days, 0) as earlier_days, n.earlier_same_weekday,
       case when n.earlier_days >= {int(spec['min_history'])} and n.norm >= {float(spec['min_rows'])}
            then n.norm * {float(spec['low'])} end as volume_floor,
       case when n.earlier_days >= {int(spec['min_history'])} and n.norm >= {float(spec['min_rows'])}
            then n.norm * {float(spec['high'])} end as volume_ceiling
from delivered as d left join norms as n using (file_date)
order by 1"""
    return Frame(sql, ["file_date", "norm", "earlier_same_weekday"])


FRAMES = {
    "key_copies": _key_copies,
    "column_types": _column_types,
    "volume": _volume,
}


def frame(spec: dict, relation: str, where: str | None) -> Frame:
    """The frame a suite's `meta.ccq.frames` entry declares, over `relation` restricted by `where`."""
    return FRAMES[spec["kind"]](spec, relation, where)
