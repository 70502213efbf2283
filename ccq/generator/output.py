"""Daily extract files: rows are collected per table and UTC day, then written as CSV.

Rows reach the outbox as Arrow tables in the contract's column order (timestamps as epoch
seconds), tagged with the day whose file they belong to. A day is flushed once nothing can
still land on it; files are written by one background thread so that CSV formatting
overlaps with the (single-threaded) simulation of the next day.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ccq.contract import Table, tables
from ccq.generator.timeutil import DAY, index_date

ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMP": pa.int64(),  # epoch seconds until written
}
_TOD = pa.array([f"{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60)])


def ids(prefix: str, nums, width: int = 0) -> pa.Array:
    s = pc.cast(pa.array(np.asarray(nums, dtype=np.int64)), pa.string())
    if width:
        s = pc.utf8_lpad(s, width=width, padding="0")
    return pc.binary_join_element_wise(prefix, s, "")


def take(values, idx) -> pa.Array:
    """values[idx] as a string array; a negative index gives null."""
    idx = np.asarray(idx, dtype=np.int64)
    arr = values if isinstance(values, pa.Array) else pa.array(list(values), pa.string())
    return arr.take(pa.array(idx, mask=idx < 0))


def format_timestamps(secs: pa.Array) -> pa.Array:
    """Epoch seconds -> 'YYYY-MM-DDTHH:MM:SSZ' (nulls stay null), without per-row Python."""
    v = secs.to_numpy(zero_copy_only=False) if secs.null_count == 0 else np.asarray(secs.fill_null(0))
    v = v.astype(np.int64)
    if len(v) == 0:
        return pa.array([], pa.string())
    day = v // DAY
    d0 = int(day.min())
    days = pa.array([index_date(d).isoformat() + "T" for d in range(d0, int(day.max()) + 1)])
    out = pc.binary_join_element_wise(days.take(pa.array(day - d0)), _TOD.take(pa.array(v - day * DAY)), "")
    if secs.null_count:
        out = pc.if_else(pc.is_null(secs), pa.scalar(None, pa.string()), out)
    return out


def _column(value, arrow_type: pa.DataType, n: int) -> pa.Array:
    if value is None:
        return pa.nulls(n, arrow_type)
    if isinstance(value, (pa.Array, pa.ChunkedArray)):
        return value.cast(arrow_type) if value.type != arrow_type else value
    if isinstance(value, str):
        return pa.array([value] * n, arrow_type) if n else pa.array([], arrow_type)
    arr = np.asarray(value)
    if arrow_type == pa.float64():
        return pa.array(arr.astype(np.float64), arrow_type, from_pandas=True)  # NaN -> null
    if arrow_type == pa.bool_() and arr.dtype != np.bool_:
        arr = arr.astype(np.int8)
        return pa.array(arr == 1, pa.bool_(), mask=arr < 0)
    if arrow_type == pa.date32():
        arr = arr.astype(np.int32)
        return pa.array(arr, pa.date32(), mask=arr < 0)
    if arrow_type in (pa.int32(), pa.int64()):
        arr = arr.astype(np.int64)
        return pa.array(arr, arrow_type, mask=arr < 0)  # contract integers are never negative
    return pa.array(arr, arrow_type)


class Outbox:
    def __init__(self, landing: Path, first_day: int, last_day: int):
        self.landing = Path(landing)
        self.first_day, self.last_day = first_day, last_day
        self.tables: dict[str, Table] = tables()
        self.buffer: dict[str, dict[int, list[pa.Table]]] = {t: defaultdict(list) for t in self.tables}
        self.rows: dict[str, int] = {t: 0 for t in self.tables}
        self.files = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ccq-writer")
        self._futures: list[Future] = []
        for t in self.tables:
            (self.landing / t).mkdir(parents=True, exist_ok=True)

    def schema(self, name: str) -> list[tuple[str, pa.DataType]]:
        return [(c.name, ARROW_TYPES[c.data_type]) for c in self.tables[name].columns]

    def add(self, name: str, file_day, sort_key, **cols) -> None:
        """Queue rows of `name`; file_day (int day index per row) picks the file, sort_key orders it."""
        file_day = np.asarray(file_day, dtype=np.int64)
        n = len(file_day)
        if n == 0:
            return
        schema = self.schema(name)
        unknown = set(cols) - {c for c, _ in schema}
        if unknown:
            raise KeyError(f"{name}: no such column(s) {sorted(unknown)}")
        arrays = [_column(cols.get(c), t, n) for c, t in schema]
        arrays.append(pa.array(np.broadcast_to(np.asarray(sort_key, dtype=np.int64), (n,)).copy()))
        tbl = pa.Table.from_arrays(arrays, names=[c for c, _ in schema] + ["_sort"])
        keep = (file_day >= self.first_day) & (file_day <= self.last_day)
        if not keep.all():
            idx = np.flatnonzero(keep)
            tbl, file_day = tbl.take(pa.array(idx)), file_day[idx]
            if len(file_day) == 0:
                return
        days = np.unique(file_day)
        if len(days) == 1:
            self.buffer[name][int(days[0])].append(tbl)
            return
        order = np.argsort(file_day, kind="stable")
        bounds = np.searchsorted(file_day[order], days)
        bounds = np.append(bounds, n)
        for j, d in enumerate(days):
            self.buffer[name][int(d)].append(tbl.take(pa.array(order[bounds[j] : bounds[j + 1]])))

    def flush(self, name: str, day: int, label_day: int | None = None) -> None:
        """Write the file of `name` for `day` (header only when empty)."""
        parts = self.buffer[name].pop(day, [])
        label = index_date(label_day if label_day is not None else day).isoformat()
        path = self.landing / name / f"{name}_{label}.csv"
        n = sum(p.num_rows for p in parts)
        self.rows[name] += n
        self.files += 1
        cols = self.tables[name].columns
        self._futures.append(self._pool.submit(_write, path, cols, parts))
        self.check()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for f in self._futures:
            f.result()
        self._futures.clear()

    def check(self) -> None:
        """Re-raise a failure of the writer thread early."""
        done = [f for f in self._futures if f.done()]
        for f in done:
            f.result()
        self._futures = [f for f in self._futures if not f.done()]


def _write(path: Path, cols, parts: list[pa.Table]) -> None:
    header = (",".join(c.name for c in cols) + "\n").encode("utf-8")
    tmp = path.with_suffix(".csv.partial")
    with tmp.open("wb") as f:
        f.write(header)
        if parts:
            tbl = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
            if tbl.num_rows:
                tbl = tbl.take(pc.sort_indices(tbl["_sort"]))  # stable
                tbl = tbl.drop_columns(["_sort"])
                arrays = []
                for c, a in zip(cols, tbl.columns):
                    a = a.combine_chunks()
                    arrays.append(format_timestamps(a) if c.data_type == "TIMESTAMP" else a)
                tbl = pa.Table.from_arrays(arrays, names=[c.name for c in cols])
                try:
                    pcsv.write_csv(tbl, f, pcsv.WriteOptions(include_header=False, quoting_style="none"))
                except pa.ArrowInvalid:  # a value needs quoting: fall back to quoting strings
                    f.seek(len(header))
                    f.truncate()
                    pcsv.write_csv(tbl, f, pcsv.WriteOptions(include_header=False, quoting_style="needed"))
    tmp.replace(path)


def date_str(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(day))).isoformat()
