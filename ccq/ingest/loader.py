"""Load contract-format CSV extracts into raw.<table>, file by file.

Every file reconciles: rows_read = rows_loaded + rows_quarantined, where a row is a
non-blank physical line after the header. Parsing and type checks run inside DuckDB (no
Python object per row); Python only indexes line boundaries with numpy so that every
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
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import duckdb
import numpy as np
import pyarrow as pa

from ccq.contract import RAW_SCHEMA, Column, Table, table as contract_table, tables
from ccq.ingest.audit import ensure_audit, ensure_raw
from ccq.ingest.landing import FILE_NAME, landing_files, sha256_file
from ccq.settings import MEMORY_LIMIT

# `<table>_<YYYY-MM-DD>.csv`, and the copies people make of such a file: anything after the date
# that does not start with a digit ("acd_queue_events_2026-10-09 副本 (1).csv", "..._v2.csv").
# Each is its own file id; staging keeps the latest version of every key, so a copy adds nothing twice.
# One limit for every line, quoted or not (the raw contract page documents it).
MAX_LINE_BYTES = 2_000_000
RAW_TEXT_LIMIT = 4_000


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


def _line_index(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end byte offsets (end exclusive, without CR/LF) of every physical line."""
    if data.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    nl = np.flatnonzero(data == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [data.size]))
    if starts[-1] == data.size:  # file ends with a newline: no last line after it
        starts, ends = starts[:-1], ends[:-1]
    has_cr = (ends > starts) & (data[np.maximum(ends - 1, 0)] == 13)
    return starts, ends - has_cr


def _text(data: np.ndarray, start: int, end: int, encoding: str = "utf-8") -> str:
    raw = bytes(data[start : min(end, start + RAW_TEXT_LIMIT)])
    return raw.decode(encoding, errors="backslashreplace")


def _cast_expr(col: Column) -> str:
    q = f'"{col.name}"'
    v = f"nullif(trim({q}), '')"
    t = col.data_type
    if t == "VARCHAR":
        return f"nullif({q}, '')"
    if t == "TIMESTAMP":
        # Naive text means UTC (the session time zone is UTC); an explicit offset is honoured.
        return f"try_cast(try_cast({v} AS TIMESTAMPTZ) AS TIMESTAMP)"
    return f"try_cast({v} AS {t})"


def _rule_checks(col: Column, transcoded_from: str | None = None) -> list[tuple[str, str, str]]:
    """(rule, SQL condition that is TRUE when broken, message SQL) for one column."""
    q = f'"{col.name}"'
    v = f"nullif(trim({q}), '')"
    cast = _cast_expr(col)
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


def transcode_to_utf8(path: Path, encoding: str, workdir: Path, out: Path | None = None) -> Path:
    """The file in UTF-8, in `workdir` (or at `out`). DuckDB reads UTF-8 natively; other
    encodings (GB18030 from Chinese systems) are converted first, in blocks. Undecodable bytes
    become U+FFFD, and the value holding them is quarantined by the rule `encoding`."""
    out = out or workdir / (path.name + ".utf8")
    with path.open("r", encoding=encoding, errors="replace", newline="") as src, out.open(
        "w", encoding="utf-8", newline=""
    ) as dst:
        for block in iter(lambda: src.read(1 << 20), ""):
            dst.write(block)
    return out


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table_name: str | None = None,
    encoding: str = "utf-8",
) -> FileLoad:
    """Load one extract file into raw.<table>. Never raises for bad rows: they go to quarantine."""
    t0 = time.perf_counter()
    path = Path(path)
    m = FILE_NAME.match(path.name)
    if table_name is None:
        if not m:
            raise LoadError(f"{path}: file name must be <table>_<YYYY-MM-DD>.csv")
        table_name = m.group("table")
    if table_name not in tables():
        raise LoadError(f"{path}: unknown raw table {table_name!r}")
    tbl = contract_table(table_name)
    file_date = date.fromisoformat(m.group("day")) if m and m.group("table") == table_name else None
    file_id = f"{table_name}/{path.name}"
    if path.is_symlink() or not path.is_file():
        raise LoadError(f"{path}: not a regular file (symlinks and folders are never read)")
    digest = sha256_file(path)
    seen = con.execute("SELECT sha256 FROM audit.load_files WHERE file_id = ?", [file_id]).fetchone()
    if seen and seen[0] == digest:
        r = con.execute(
            "SELECT rows_read, rows_loaded, rows_quarantined FROM audit.load_files WHERE file_id = ?", [file_id]
        ).fetchone()
        return FileLoad(file_id, table_name, file_date, *r, skipped=True, seconds=time.perf_counter() - t0)

    native = encoding.replace("_", "-").lower() in ("utf-8", "utf8", "ascii")
    with (nullcontext(None) if native else tempfile.TemporaryDirectory(prefix="ccq-load-")) as tmp:
        readable = path if native else transcode_to_utf8(path, encoding, Path(tmp))
        result = _load_readable(con, tbl, path, readable, file_id, file_date, digest, encoding,
                                replacing=seen is not None)
    return FileLoad(**result, seconds=time.perf_counter() - t0)


def _load_readable(con, tbl: Table, path: Path, readable: Path, file_id, file_date, digest, encoding,
                   replacing: bool = True) -> dict:
    data = np.memmap(readable, dtype=np.uint8, mode="r") if readable.stat().st_size else np.empty(0, np.uint8)
    starts, ends = _line_index(data)
    nonblank = np.flatnonzero(ends > starts)  # 0-based physical line indexes
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    qrows: list[tuple] = []  # quarantine rows built in Python: only for lines that are not loaded

    def quarantine_line(idx: int, field: str | None, rule: str, message: str) -> None:
        if field is None and "line size" in message.lower():
            # Name the field that made the line too long: the widest span between the commas
            # that are outside quotes (an even number of quotes before them on the line).
            line = data[starts[idx]:ends[idx]]
            commas = np.flatnonzero(line == 44)
            quotes_before = np.cumsum(line == 34)[commas] if commas.size else commas
            commas = commas[quotes_before % 2 == 0]
            bounds = np.concatenate(([-1], commas, [ends[idx] - starts[idx]]))
            longest = int(np.argmax(np.diff(bounds)))
            if longest < len(tbl.column_names):
                field = tbl.column_names[longest]
                message += f" ({field} is {int(np.diff(bounds)[longest]) - 1:,} bytes; the limit is {MAX_LINE_BYTES:,} a line)"
        qrows.append((idx + 1, field, rule, f"{path.name} line {idx + 1}: {message}", _text(data, starts[idx], ends[idx])))

    con.execute("BEGIN TRANSACTION")
    try:
        if replacing:
            # Only a file loaded before has rows to replace (a failed load leaves none). The
            # deletes scan the whole table, since the file ids share their first bytes and
            # DuckDB's min/max statistics cannot skip row groups by them: on a year of data,
            # deleting for every new file made loading quadratic in the number of days.
            con.execute(f"DELETE FROM {RAW_SCHEMA}.{tbl.name} WHERE _file_id = ?", [file_id])
            con.execute("DELETE FROM audit.quarantine WHERE file_id = ?", [file_id])
            con.execute("DELETE FROM audit.load_files WHERE file_id = ?", [file_id])

        rows_loaded = 0
        quarantined_in_sql = 0
        if nonblank.size == 0:
            data_lines = np.empty(0, np.int64)  # empty file: nothing read, nothing lost
        else:
            header_idx = int(nonblank[0])
            data_lines = nonblank[1:]
            header = _text(data, starts[header_idx], ends[header_idx]).lstrip("\ufeff")
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
                field = (missing or extra or [None])[0]
                for idx in data_lines:
                    quarantine_line(int(idx), field, "header", why)
            elif data_lines.size:
                # A quote left open would swallow the lines after it into one record: such a line
                # is quarantined alone and blanked out, so the rest of the file keeps its lines.
                too_long = data_lines[(ends[data_lines] - starts[data_lines]) > MAX_LINE_BYTES]
                for idx in too_long:
                    quarantine_line(int(idx), None, "parse", "line size exceeds the maximum")
                data_lines_ok = np.setdiff1d(data_lines, too_long, assume_unique=True)
                unbalanced = _unbalanced_quote_lines(data, starts, ends, data_lines_ok)
                for idx in unbalanced:
                    opened = _open_quote_field(_text(data, starts[idx], ends[idx]), want)
                    quarantine_line(int(idx), None, "parse",
                                    "unbalanced quotes: a quoted field"
                                    + (f" ({opened})" if opened else "")
                                    + " is not closed on this line (truncated record, or a line break inside quotes)")
                kept = np.setdiff1d(data_lines_ok, unbalanced, assume_unique=True)
                transcoded_from = encoding if readable != path else None
                set_aside = np.union1d(too_long, unbalanced)
                if kept.size and set_aside.size:
                    with tempfile.TemporaryDirectory(prefix="ccq-load-") as tmp:
                        blanked = _blank_lines(data, starts, ends, set_aside, Path(tmp) / readable.name)
                        rows_loaded, quarantined_in_sql = _parse_and_insert(
                            con, tbl, blanked, path, file_id, loaded_at, kept, quarantine_line,
                            transcoded_from=transcoded_from)
                elif kept.size:
                    rows_loaded, quarantined_in_sql = _parse_and_insert(
                        con, tbl, readable, path, file_id, loaded_at, kept, quarantine_line,
                        transcoded_from=transcoded_from)

        if qrows:
            con.executemany(
                "INSERT INTO audit.quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(file_id, tbl.name, str(path), ln, f, r, msg, raw, loaded_at) for ln, f, r, msg, raw in qrows],
            )
        rows_quarantined = con.execute(
            "SELECT count(DISTINCT line_no) FROM audit.quarantine WHERE file_id = ?", [file_id]
        ).fetchone()[0] if qrows or quarantined_in_sql else 0
        rows_read = int(data_lines.size)
        con.execute(
            "INSERT INTO audit.load_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            [file_id, tbl.name, file_date, str(path), digest, path.stat().st_size, encoding,
             rows_read, rows_loaded, rows_quarantined, loaded_at],
        )
        if rows_read != rows_loaded + rows_quarantined:
            raise LoadError(
                f"{path}: reconciliation failed: read {rows_read} != loaded {rows_loaded} + quarantined {rows_quarantined}"
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    problems = tuple(q[3] for q in qrows[:5])
    if not qrows and rows_quarantined:
        problems = tuple(
            r[0] for r in con.execute(
                "SELECT message FROM audit.quarantine WHERE file_id = ? ORDER BY line_no LIMIT 5", [file_id]
            ).fetchall()
        )
    return dict(
        file_id=file_id, table_name=tbl.name, file_date=file_date, rows_read=rows_read,
        rows_loaded=rows_loaded, rows_quarantined=rows_quarantined, skipped=False, problems=problems,
    )


def _reject_message(kind: str, msg: str, field: str | None) -> str:
    text = msg.splitlines()[0]
    counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if counts:
        text = f"expected {counts.group(1)} columns, found {counts.group(2)}"
        if "MISSING" in kind and field:
            text += f" (first missing: {field})"
    return f"{kind.lower()}: {text}"


def _unbalanced_quote_lines(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Lines with an odd number of double quotes (an escaped quote counts two)."""
    quotes = np.flatnonzero(data == 34)
    if quotes.size == 0 or lines.size == 0:
        return np.empty(0, np.int64)
    counts = np.searchsorted(quotes, ends[lines]) - np.searchsorted(quotes, starts[lines])
    return lines[counts % 2 == 1]


def _open_quote_field(text: str, columns: list[str]) -> str | None:
    """The column whose quoted value is left open on the line."""
    field, quoted, opened = 0, False, None
    for ch in text:
        if ch == '"':
            quoted = not quoted
            if quoted:
                opened = field
        elif ch == "," and not quoted:
            field += 1
    return columns[opened] if quoted and opened is not None and opened < len(columns) else None


def _blank_lines(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, lines: np.ndarray, out: Path) -> Path:
    """A copy of the file with these lines emptied; every other line keeps its number."""
    with out.open("wb") as f:
        pos = 0
        for idx in lines:
            f.write(data[pos:starts[idx]].tobytes())
            pos = int(ends[idx])  # keeps the line's own CR LF or LF
        f.write(data[pos:].tobytes())
    return out


def _parse_and_insert(con, tbl: Table, readable: Path, path: Path, file_id, loaded_at, data_lines, quarantine_line,
                      transcoded_from: str | None = None) -> tuple[int, int]:
    cols = tbl.column_names
    col_spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in cols) + "}"
    con.execute("DROP TABLE IF EXISTS _ccq_rejects")
    con.execute("DROP TABLE IF EXISTS _ccq_reject_scans")
    con.execute("DROP TABLE IF EXISTS _ccq_stage")
    con.execute(
        f"""CREATE TEMP TABLE _ccq_stage AS
        SELECT row_number() OVER () AS _record_no, *
        FROM read_csv(?, header = true, columns = {col_spec}, auto_detect = false, delim = ',',
                      quote = '"', escape = '"', parallel = false, strict_mode = true,
                      max_line_size = {MAX_LINE_BYTES}, store_rejects = true,
                      rejects_table = '_ccq_rejects', rejects_scan = '_ccq_reject_scans')""",
        [str(readable)],
    )
    rejects = con.execute(
        # A short line gets one reject per missing column: name the first of them.
        "SELECT line, coalesce(arg_min(column_name, column_idx), any_value(column_name)), "
        "string_agg(DISTINCT error_type::VARCHAR, ', '), "
        "coalesce(arg_min(error_message, column_idx), any_value(error_message)) FROM _ccq_rejects GROUP BY line ORDER BY line"
    ).fetchall()
    rejected_idx = np.array([int(r[0]) - 1 for r in rejects], dtype=np.int64)
    for (line, field, kind, msg) in rejects:
        quarantine_line(int(line) - 1, field, "parse", _reject_message(kind, msg, field))

    # Accepted records map, in order, onto the data lines DuckDB did not reject.
    candidates = np.setdiff1d(data_lines, rejected_idx, assume_unique=True)
    accepted = con.execute("SELECT count(*) FROM _ccq_stage").fetchall()[0][0]
    if accepted > candidates.size:
        # Quoted fields spanning lines: line numbers are no longer one per record.
        candidates = np.concatenate((candidates, np.full(accepted - candidates.size, -1)))
    for idx in candidates[accepted:]:
        quarantine_line(int(idx), None, "parse", "line could not be parsed (unterminated quote or truncated record)")
    line_map = candidates[:accepted] + 1
    # Zero-copy from numpy: a list parameter would build a Python int per line.
    lines = pa.table({"line_no": line_map.astype(np.int64), "_record_no": np.arange(1, accepted + 1, dtype=np.int64)})
    con.register("_ccq_lines", lines)

    # Every rule of every column in one pass over the staged rows: each row carries the list of
    # rules it breaks (empty for a good row). A UNION ALL of one query per rule read the stage
    # once per rule, and twice over (quarantine, then the good rows).
    checks = [(c.name, rule, cond, msg) for c in tbl.columns for rule, cond, msg in _rule_checks(c, transcoded_from)]
    problems = (
        "list_filter([" + ", ".join(
            f"CASE WHEN {cond} THEN {{'field': '{name}', 'rule': '{rule}', 'message': {msg}}} END"
            for name, rule, cond, msg in checks
        ) + "], lambda x: x IS NOT NULL)"
        if checks else "[]::STRUCT(field VARCHAR, rule VARCHAR, message VARCHAR)[]"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _ccq_checked AS
        SELECT s.*, l.line_no AS _line_no, {problems} AS _problems
        FROM _ccq_stage s JOIN _ccq_lines l USING (_record_no)"""
    )
    con.unregister("_ccq_lines")
    raw_text = " || ',' || ".join(f"coalesce(\"{c}\", '')" for c in cols)
    quarantined = con.execute(
        f"""INSERT INTO audit.quarantine
        SELECT ?, ?, ?, _line_no, p.field, p.rule, ? || ' line ' || _line_no || ': ' || p.message,
               left({raw_text}, {RAW_TEXT_LIMIT}), ?
        FROM (SELECT *, unnest(_problems) AS p FROM _ccq_checked WHERE len(_problems) > 0)""",
        [file_id, tbl.name, str(path), path.name, loaded_at],
    ).fetchall()[0][0]
    casts = ", ".join(f"{_cast_expr(c)} AS \"{c.name}\"" for c in tbl.columns)
    n = con.execute(
        f"""INSERT INTO {RAW_SCHEMA}.{tbl.name}
        SELECT {casts}, ? AS _file_id, ? AS _source_file, _line_no, ? AS _loaded_at
        FROM _ccq_checked WHERE len(_problems) = 0
        ORDER BY _line_no""",
        [file_id, str(path), loaded_at],
    ).fetchall()[0][0]
    con.execute("DROP TABLE IF EXISTS _ccq_stage")
    con.execute("DROP TABLE IF EXISTS _ccq_checked")
    return int(n), int(quarantined)


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
    results = []
    for i, p in enumerate(files, 1):
        r = load_file(con, p)
        results.append(r)
        if progress:
            progress(i, len(files), r)
    return results
