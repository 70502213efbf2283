"""Load contract-format CSV extracts into raw.<table>, the files of one table in batches (one
set of statements for up to 64 files), each file its own unit of account.

Every file reconciles: rows_read = rows_loaded + rows_quarantined, where a row is a
non-blank physical line after the header. Parsing and type checks run inside DuckDB (no
Python object per row, the rules from ccq.ingest.rules); Python only indexes line boundaries
with numpy (ccq.ingest.lines) so that every
quarantined row keeps its line number and raw text, including lines DuckDB's reader
would otherwise swallow: a line whose quotes do not pair up (a truncated record, a line
break inside quotes) is quarantined on its own before parsing, so a quote left open
mid-file does not take the lines after it. A value holding U+FFFD, the mark the transcoder
leaves for bytes not valid in the source encoding (GB18030; converted here or by `ccq ingest`),
is quarantined under the rule `encoding`.

Loading is idempotent per file: the file id is `<table>/<file name>`; the same bytes
again change nothing, different bytes under the same name (a corrected re-delivery)
replace the earlier load, rows and quarantine alike.

Only regular files inside the landing folder are read (`scan_landing`): a symlink, a
directory or a file named unlike an extract is skipped and reported by name with the reason,
and the run goes on. A line longer than MAX_LINE_BYTES is quarantined whatever its quoting.
"""
from __future__ import annotations

import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import duckdb
import numpy as np
import pyarrow as pa

from ccq.contract import RAW_SCHEMA, Table, table as contract_table, tables
from ccq.ingest.audit import ensure_audit, ensure_raw
from ccq.ingest.landing import FILE_NAME, landing_files, sha256_file
from ccq.ingest.lines import (MAX_LINE_BYTES, RAW_TEXT_LIMIT, blank_lines, line_index, line_text, open_quote_field,
                              transcode_to_utf8, unbalanced_quote_lines)
from ccq.ingest.rules import cast_expr, rule_checks
from ccq.settings import MEMORY_LIMIT

GLOB_CHARACTERS = re.compile(r"[\[\]?*{}]")

# Each file is its own file id (`<table>/<file name>`), copies people make of a file included
# ("acd_queue_events_2026-10-09 副本 (1).csv", "..._v2.csv"): staging keeps the latest version of
# every key, so a copy adds nothing twice.


class LoadError(Exception):
    """A file that cannot be loaded at all (unreadable, unknown table). Rows are never the reason."""


@dataclass(frozen=True)
class FileLoad:
    file_id: str
    table_name: str
    file_date: date | None
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    skipped: bool  # same bytes already loaded
    seconds: float
    problems: tuple[str, ...] = ()  # first few quarantine messages, human-readable

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_quarantined


# Each file is its own transaction; at the default 16 MB of write-ahead log DuckDB checkpointed
# every few files, rewriting the last row group of the growing raw table each time: COMMIT was
# 42% of the time to load a year's ACD files (docs/performance.md). The log keeps the data safe
# either way; a bigger threshold only means fewer, larger checkpoints.
CHECKPOINT_THRESHOLD = "512MB"


def ensure_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    ensure_raw(con)
    ensure_audit(con)


# A batch is one set of statements for many files of one table: DuckDB plans a statement in
# milliseconds whatever its size, and per file that was most of a small file's load (19 ms a file,
# 12 s for the demo's 527). Bounded so that its staged rows stay well within the memory budget.
BATCH_FILES = 64
BATCH_BYTES = 256 * 1024 * 1024


@dataclass
class _Prepared:
    """One file read and checked line by line in Python, before its rows go to DuckDB."""
    path: Path
    tbl: Table
    file_id: str
    file_date: date | None
    digest: str
    size: int
    encoding: str
    replacing: bool
    loaded_at: datetime
    started: float
    data: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    data_lines: np.ndarray  # 0-based indexes of the non-blank physical lines after the header
    kept: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # lines DuckDB parses
    readable: Path | None = None  # the file DuckDB reads (UTF-8, set-aside lines blanked)
    transcoded_from: str | None = None
    qrows: list[tuple] = field(default_factory=list)  # quarantine rows built in Python

    def quarantine_line(self, idx: int, field_name: str | None, rule: str, message: str) -> None:
        data, starts, ends, tbl = self.data, self.starts, self.ends, self.tbl
        if field_name is None and "line size" in message.lower():
            # Name the field that made the line too long: the widest span between the commas
            # that are outside quotes (an even number of quotes before them on the line).
            line = data[starts[idx]:ends[idx]]
            commas = np.flatnonzero(line == 44)
            quotes_before = np.cumsum(line == 34)[commas] if commas.size else commas
            commas = commas[quotes_before % 2 == 0]
            bounds = np.concatenate(([-1], commas, [ends[idx] - starts[idx]]))
            longest = int(np.argmax(np.diff(bounds)))
            if longest < len(tbl.column_names):
                field_name = tbl.column_names[longest]
                message += f" ({field_name} is {int(np.diff(bounds)[longest]) - 1:,} bytes; the limit is {MAX_LINE_BYTES:,} a line)"
        self.qrows.append((idx + 1, field_name, rule, f"{self.path.name} line {idx + 1}: {message}",
                           line_text(data, starts[idx], ends[idx])))


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table_name: str | None = None,
    encoding: str = "utf-8",
) -> FileLoad:
    """Load one extract file into raw.<table>. Never raises for bad rows: they go to quarantine."""
    (result,) = load_files(con, [path], table_name=table_name, encoding=encoding)
    if isinstance(result, LoadError):
        raise result
    return result


def load_files(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[Path],
    table_name: str | None = None,
    encoding: str = "utf-8",
    progress: Callable[[FileLoad | LoadError], None] | None = None,
) -> list[FileLoad | LoadError]:
    """Load extract files, in batches of one table, and return, in the order given, each file's
    FileLoad or the LoadError that kept it out (the other files still load). Each file keeps its
    own reconciliation, quarantine and idempotence: a batch is one transaction, and a batch that
    fails is loaded again file by file, so one file's error never takes the others with it."""
    paths = [Path(p) for p in paths]
    out: dict[int, FileLoad | LoadError] = {}

    def done(i: int, result: FileLoad | LoadError) -> None:
        out[i] = result
        if progress:
            progress(result)

    by_table: dict[str, list[int]] = {}
    for i, path in enumerate(paths):
        try:
            by_table.setdefault(_table_of(path, table_name), []).append(i)
        except LoadError as e:
            done(i, e)
    for name, indexes in by_table.items():
        tbl = contract_table(name)
        batch: list[int] = []
        names: set[str] = set()  # one file id per batch: the same file twice loads in order
        size = 0
        for i in indexes:
            if batch and (len(batch) >= BATCH_FILES or size >= BATCH_BYTES or paths[i].name in names):
                _load_batch(con, tbl, [(j, paths[j]) for j in batch], encoding, done)
                batch, names, size = [], set(), 0
            batch.append(i)
            names.add(paths[i].name)
            size += _size(paths[i])
        if batch:
            _load_batch(con, tbl, [(j, paths[j]) for j in batch], encoding, done)
    return [out[i] for i in range(len(paths))]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _table_of(path: Path, table_name: str | None) -> str:
    m = FILE_NAME.match(path.name)
    if table_name is None:
        if not m:
            raise LoadError(f"{path}: file name must be <table>_<YYYY-MM-DD>.csv")
        table_name = m.group("table")
    if table_name not in tables():
        raise LoadError(f"{path}: unknown raw table {table_name!r}")
    return table_name


def _load_batch(con, tbl: Table, files: list[tuple[int, Path]], encoding: str, done) -> None:
    with tempfile.TemporaryDirectory(prefix="ccq-load-") as tmp:
        prepared: list[tuple[int, _Prepared]] = []
        for i, path in files:
            try:
                p = _prepare(con, tbl, path, encoding, Path(tmp) / str(i))
            except LoadError as e:
                done(i, e)
                continue
            except OSError as e:  # gone or unreadable since it was listed
                done(i, LoadError(f"{path}: {e}"))
                continue
            if isinstance(p, FileLoad):
                done(i, p)
            else:
                prepared.append((i, p))
        if not prepared:
            return
        try:
            results = _insert(con, tbl, [p for _, p in prepared])
        except (LoadError, duckdb.Error) as e:
            if len(prepared) > 1:  # find which file it was: the others load
                for i, p in prepared:
                    _load_batch(con, tbl, [(i, p.path)], encoding, done)
            else:
                i, p = prepared[0]
                done(i, e if isinstance(e, LoadError) else LoadError(f"{p.path}: {e}"))
            return
        for (i, _), result in zip(prepared, results):
            done(i, result)


def _prepare(con, tbl: Table, path: Path, encoding: str, tmp: Path) -> _Prepared | FileLoad:
    """Read the file's lines, and quarantine in Python what DuckDB's reader must not see: a
    header that does not match, a line too long, a quote left open (it would swallow the lines
    after it into one record, so it is set aside alone and blanked out)."""
    t0 = time.perf_counter()
    m = FILE_NAME.match(path.name)
    file_date = date.fromisoformat(m.group("day")) if m and m.group("table") == tbl.name else None
    file_id = f"{tbl.name}/{path.name}"
    if path.is_symlink() or not path.is_file():
        raise LoadError(f"{path}: not a regular file (symlinks and folders are never read)")
    size, digest = path.stat().st_size, sha256_file(path)
    seen = con.execute("SELECT sha256 FROM audit.load_files WHERE file_id = ?", [file_id]).fetchone()
    if seen and seen[0] == digest:
        r = con.execute(
            "SELECT rows_read, rows_loaded, rows_quarantined FROM audit.load_files WHERE file_id = ?", [file_id]
        ).fetchone()
        return FileLoad(file_id, tbl.name, file_date, *r, skipped=True, seconds=time.perf_counter() - t0)

    native = encoding.replace("_", "-").lower() in ("utf-8", "utf8", "ascii")
    tmp.mkdir(parents=True, exist_ok=True)
    readable = path if native else transcode_to_utf8(path, encoding, tmp, out=tmp / "transcoded.csv")
    if GLOB_CHARACTERS.search(str(readable)):
        # DuckDB's reader takes a path with [, ?, * or { as a pattern ("..._v[1].csv" would read
        # "..._v1.csv"): it reads a copy under a plain name.
        readable = Path(shutil.copyfile(readable, tmp / "renamed.csv"))
    data = np.memmap(readable, dtype=np.uint8, mode="r") if readable.stat().st_size else np.empty(0, np.uint8)
    starts, ends = line_index(data)
    nonblank = np.flatnonzero(ends > starts)
    p = _Prepared(path=path, tbl=tbl, file_id=file_id, file_date=file_date, digest=digest, size=size, encoding=encoding,
                  replacing=seen is not None, loaded_at=datetime.now(timezone.utc).replace(tzinfo=None),
                  started=t0, data=data, starts=starts, ends=ends,
                  data_lines=nonblank[1:] if nonblank.size else np.empty(0, np.int64),
                  transcoded_from=None if native else encoding)
    if nonblank.size == 0:
        return p  # empty file: nothing read, nothing lost
    header = line_text(data, starts[nonblank[0]], ends[nonblank[0]]).lstrip("\ufeff")
    got = [h.strip().strip('"').strip().lower() for h in header.split(",")]
    want = tbl.column_names
    if got != want:
        missing = [c for c in want if c not in got]
        extra = [c for c in got if c not in want]
        why = (
            f"header does not match the {tbl.name} contract"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unexpected: {', '.join(extra)}" if extra else "")
            + ("; same columns in another order" if not missing and not extra else "")
        )
        for idx in p.data_lines:
            p.quarantine_line(int(idx), (missing or extra or [None])[0], "header", why)
        return p
    if not p.data_lines.size:
        return p
    too_long = p.data_lines[(ends[p.data_lines] - starts[p.data_lines]) > MAX_LINE_BYTES]
    for idx in too_long:
        p.quarantine_line(int(idx), None, "parse", "line size exceeds the maximum")
    data_lines_ok = np.setdiff1d(p.data_lines, too_long, assume_unique=True)
    unbalanced = unbalanced_quote_lines(data, starts, ends, data_lines_ok)
    for idx in unbalanced:
        opened = open_quote_field(line_text(data, starts[idx], ends[idx]), want)
        p.quarantine_line(int(idx), None, "parse",
                          "unbalanced quotes: a quoted field"
                          + (f" ({opened})" if opened else "")
                          + " is not closed on this line (truncated record, or a line break inside quotes)")
    p.kept = np.setdiff1d(data_lines_ok, unbalanced, assume_unique=True)
    set_aside = np.union1d(too_long, unbalanced)
    if p.kept.size:
        p.readable = blank_lines(data, starts, ends, set_aside, tmp / "blanked.csv") \
            if set_aside.size else readable
    return p


def _insert(con, tbl: Table, files: list[_Prepared]) -> list[FileLoad]:
    """One transaction for the files: their rows parsed, checked and inserted by one set of
    statements, their quarantine and their reconciliation."""
    con.execute("BEGIN TRANSACTION")
    try:
        replaced = [p.file_id for p in files if p.replacing]
        if replaced:
            # Only a file loaded before has rows to replace (a failed load leaves none). The
            # deletes scan the whole table, since the file ids share their first bytes and
            # DuckDB's min/max statistics cannot skip row groups by them: on a year of data,
            # deleting for every new file made loading quadratic in the number of days.
            for sql in (f"DELETE FROM {RAW_SCHEMA}.{tbl.name} WHERE _file_id IN (SELECT unnest(?))",
                        "DELETE FROM audit.quarantine WHERE file_id IN (SELECT unnest(?))",
                        "DELETE FROM audit.load_files WHERE file_id IN (SELECT unnest(?))"):
                con.execute(sql, [replaced])
        parsed = [p for p in files if p.readable is not None]
        loaded = _parse_and_insert(con, tbl, parsed) if parsed else {}
        qrows = [(p.file_id, tbl.name, str(p.path), *q[:4], q[4], p.loaded_at) for p in files for q in p.qrows]
        if qrows:
            con.executemany("INSERT INTO audit.quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", qrows)
        # A line can break several rules: it counts once.
        quarantined = dict(con.execute(
            "SELECT file_id, count(DISTINCT line_no) FROM audit.quarantine WHERE file_id IN (SELECT unnest(?)) GROUP BY 1",
            [[p.file_id for p in files]]).fetchall())
        results = []
        for p in files:
            rows_read, rows_loaded = int(p.data_lines.size), loaded.get(p.file_id, 0)
            rows_quarantined = int(quarantined.get(p.file_id, 0))
            if rows_read != rows_loaded + rows_quarantined:
                raise LoadError(f"{p.path}: reconciliation failed: read {rows_read} != loaded {rows_loaded} "
                                f"+ quarantined {rows_quarantined}")
            problems = tuple(q[3] for q in p.qrows[:5])
            if not p.qrows and rows_quarantined:
                problems = tuple(r[0] for r in con.execute(
                    "SELECT message FROM audit.quarantine WHERE file_id = ? ORDER BY line_no LIMIT 5", [p.file_id]
                ).fetchall())
            results.append(FileLoad(p.file_id, tbl.name, p.file_date, rows_read, rows_loaded, rows_quarantined,
                                    skipped=False, seconds=time.perf_counter() - p.started, problems=problems))
        con.executemany(
            "INSERT INTO audit.load_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            [[p.file_id, tbl.name, p.file_date, str(p.path), p.digest, p.size, p.encoding,
              r.rows_read, r.rows_loaded, r.rows_quarantined, p.loaded_at] for p, r in zip(files, results)],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return results


def _reject_message(kind: str, msg: str, field: str | None) -> str:
    text = msg.splitlines()[0]
    counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if counts:
        text = f"expected {counts.group(1)} columns, found {counts.group(2)}"
        if "MISSING" in kind and field:
            text += f" (first missing: {field})"
    return f"{kind.lower()}: {text}"


def _parse_and_insert(con, tbl: Table, files: list[_Prepared]) -> dict[str, int]:
    """Parse the files with DuckDB's reader, quarantine the records it rejects or a rule
    breaks, insert the others; returns the rows loaded per file id."""
    cols = tbl.column_names
    col_spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in cols) + "}"
    for t in ("_ccq_rejects", "_ccq_reject_scans", "_ccq_stage"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    # An unordered row_number() is computed as the scan streams, one thread, file after file in
    # the order given: a record's number in the scan, less its file's first, is its number in its
    # file (tests/test_loader.py loads files with every kind of problem together and alone).
    con.execute(
        f"""CREATE TEMP TABLE _ccq_stage AS
        SELECT row_number() OVER () AS _scan_no, *
        FROM read_csv(?, header = true, columns = {col_spec}, auto_detect = false, delim = ',',
                      quote = '"', escape = '"', parallel = false, strict_mode = true, filename = '_ccq_file',
                      max_line_size = {MAX_LINE_BYTES}, store_rejects = true,
                      rejects_table = '_ccq_rejects', rejects_scan = '_ccq_reject_scans')""",
        [[str(p.readable) for p in files]],
    )
    by_readable = {str(p.readable): p for p in files}
    accepted = dict(con.execute("SELECT _ccq_file, count(*) FROM _ccq_stage GROUP BY 1").fetchall())
    scanned = {r[0] for r in con.execute("SELECT DISTINCT file_path FROM _ccq_reject_scans").fetchall()}
    if not (set(accepted) | scanned) <= set(by_readable):
        raise LoadError(f"{tbl.name}: DuckDB read files not asked for: {sorted((set(accepted) | scanned) - set(by_readable))}")
    rejects = con.execute(
        # A short line gets one reject per missing column: name the first of them.
        "SELECT s.file_path, r.line, coalesce(arg_min(r.column_name, r.column_idx), any_value(r.column_name)), "
        "string_agg(DISTINCT r.error_type::VARCHAR, ', '), "
        "coalesce(arg_min(r.error_message, r.column_idx), any_value(r.error_message)) "
        "FROM _ccq_rejects r JOIN _ccq_reject_scans s USING (scan_id, file_id) GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    rejected: dict[str, list[int]] = {}
    for (file_path, line, field_name, kind, msg) in rejects:
        by_readable[file_path].quarantine_line(int(line) - 1, field_name, "parse", _reject_message(kind, msg, field_name))
        rejected.setdefault(file_path, []).append(int(line) - 1)

    # Accepted records map, in order, onto the data lines DuckDB did not reject.
    file_nos, record_nos, line_nos = [], [], []
    for k, p in enumerate(files):
        readable = str(p.readable)
        candidates = np.setdiff1d(p.kept, np.array(rejected.get(readable, []), dtype=np.int64), assume_unique=True)
        n = int(accepted.get(readable, 0))
        if n > candidates.size:
            # Quoted fields spanning lines: line numbers are no longer one per record.
            candidates = np.concatenate((candidates, np.full(n - candidates.size, -1)))
        for idx in candidates[n:]:
            p.quarantine_line(int(idx), None, "parse", "line could not be parsed (unterminated quote or truncated record)")
        line_nos.append(candidates[:n] + 1)
        record_nos.append(np.arange(1, n + 1, dtype=np.int64))
        file_nos.append(np.full(n, k, dtype=np.int32))
    # Zero-copy from numpy: a list parameter would build a Python object per line.
    lines = pa.table({"_file_no": np.concatenate(file_nos), "_record_no": np.concatenate(record_nos),
                      "line_no": np.concatenate(line_nos).astype(np.int64)})
    meta = pa.table({"_file_no": pa.array(range(len(files)), pa.int32()),
                     "_ccq_file": [str(p.readable) for p in files], "_file_id": [p.file_id for p in files],
                     "_source_file": [str(p.path) for p in files], "_file_name": [p.path.name for p in files],
                     "_loaded_at": pa.array([p.loaded_at for p in files], pa.timestamp("us"))})
    con.register("_ccq_lines", lines)
    con.register("_ccq_files", meta)

    # Every rule of every column in one pass over the staged rows: each row carries the list of
    # rules it breaks (empty for a good row). A UNION ALL of one query per rule read the stage
    # once per rule, and twice over (quarantine, then the good rows).
    transcoded_from = files[0].transcoded_from  # one encoding for a batch
    checks = [(c.name, rule, cond, msg) for c in tbl.columns for rule, cond, msg in rule_checks(c, transcoded_from)]
    problems = (
        "list_filter([" + ", ".join(
            f"CASE WHEN {cond} THEN {{'field': '{name}', 'rule': '{rule}', 'message': {msg}}} END"
            for name, rule, cond, msg in checks
        ) + "], lambda x: x IS NOT NULL)"
        if checks else "[]::STRUCT(field VARCHAR, rule VARCHAR, message VARCHAR)[]"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _ccq_checked AS
        SELECT s.* EXCLUDE (_scan_no), l.line_no AS _line_no, f._file_id, f._source_file, f._file_name, f._loaded_at,
               {problems} AS _problems
        FROM (SELECT *, _scan_no - min(_scan_no) OVER (PARTITION BY _ccq_file) + 1 AS _record_no FROM _ccq_stage) s
        JOIN _ccq_files f USING (_ccq_file)
        JOIN _ccq_lines l USING (_file_no, _record_no)"""
    )
    con.unregister("_ccq_lines")
    con.unregister("_ccq_files")
    raw_text = " || ',' || ".join(f"coalesce(\"{c}\", '')" for c in cols)
    con.execute(
        f"""INSERT INTO audit.quarantine
        SELECT _file_id, ?, _source_file, _line_no, p.field, p.rule, _file_name || ' line ' || _line_no || ': ' || p.message,
               left({raw_text}, {RAW_TEXT_LIMIT}), _loaded_at
        FROM (SELECT *, unnest(_problems) AS p FROM _ccq_checked WHERE len(_problems) > 0)""",
        [tbl.name],
    )
    casts = ", ".join(f"{cast_expr(c)} AS \"{c.name}\"" for c in tbl.columns)
    con.execute(
        f"""INSERT INTO {RAW_SCHEMA}.{tbl.name}
        SELECT {casts}, _file_id, _source_file, _line_no, _loaded_at
        FROM _ccq_checked WHERE len(_problems) = 0
        ORDER BY _source_file, _line_no"""
    )
    loaded = dict(con.execute("SELECT _file_id, count(*) FROM _ccq_checked WHERE len(_problems) = 0 GROUP BY 1").fetchall())
    con.execute("DROP TABLE IF EXISTS _ccq_stage")
    con.execute("DROP TABLE IF EXISTS _ccq_checked")
    return loaded


def load_landing(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    tables_wanted: Iterable[str] | None = None,
    days: Iterable[date] | None = None,
    progress: Callable[[int, int, FileLoad], None] | None = None,
) -> list[FileLoad]:
    ensure_warehouse(con)
    wanted_days = {d.isoformat() for d in days} if days is not None else None
    files = [
        p for p in landing_files(landing, tables_wanted)
        if wanted_days is None or FILE_NAME.match(p.name).group("day") in wanted_days
    ]
    results: list[FileLoad] = []

    def report(result: FileLoad | LoadError) -> None:
        if isinstance(result, LoadError):
            raise result
        results.append(result)
        if progress:
            progress(len(results), len(files), result)

    load_files(con, files, progress=report)
    return results
