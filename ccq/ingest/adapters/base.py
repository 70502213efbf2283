from __future__ import annotations

import codecs
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Protocol

import duckdb
import pyarrow as pa

from ccq.ingest.audit import ensure_audit
from ccq.ingest.loader import sha256_file, transcode_to_utf8


@dataclass(frozen=True)
class Source:
    """One source content an adapter ingested (audit.source_files), read from its stored lines."""

    path: Path  # where it was first ingested from (it may have moved or gone since)
    sha256: str
    bytes: int
    encoding: str

    @property
    def name(self) -> str:
        return self.path.name

    def file_id(self, fmt: str) -> str:
        # Keyed by content and path: fifteen files all called queue_log keep fifteen records.
        return f"source:{fmt}/{self.path.name}@{self.sha256[:16]}"


@dataclass(frozen=True)
class SourceFile:
    """Reconciliation of one source file: every line read is mapped or quarantined."""

    source: Source
    rows_read: int
    rows_mapped: int
    rows_quarantined: int
    notes: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        return self.source.path

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_mapped + self.rows_quarantined


@dataclass
class AdapterResult:
    format: str
    sources: list[SourceFile] = field(default_factory=list)
    written: dict[str, int] = field(default_factory=dict)  # contract table -> rows written to landing
    files: list[Path] = field(default_factory=list)  # landing files written
    new: list[Path] = field(default_factory=list)  # files given whose content was not ingested before
    known: list[Path] = field(default_factory=list)  # files given whose content was ingested before


class Adapter(Protocol):
    def __call__(
        self,
        con: duckdb.DuckDBPyConnection,
        sources: list[Source],
        landing: Path,
        suffix: str,  # of the landing files it writes (write_contract_files)
        site_time_zone: str,
        progress: Callable[[str], None],
    ) -> AdapterResult: ...


@dataclass(frozen=True)
class Registered:
    adapter: Adapter
    patterns: tuple[str, ...]  # file names an adapter takes from a folder
    local_times: bool  # reads local clock times: only files ingested with the same --time-zone map together


ADAPTERS: dict[str, Registered] = {}


def register(name: str, patterns: tuple[str, ...] = ("*",), local_times: bool = True):
    def wrap(fn):
        ADAPTERS[name] = Registered(fn, patterns, local_times)
        return fn

    return wrap


def source_files(paths: Iterable[Path], patterns: tuple[str, ...] = ("*",)) -> list[Path]:
    """Files given directly, or found (recursively) in folders, in a stable order. Symbolic
    links inside a folder are not followed."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(q for pat in patterns for q in p.rglob(pat) if q.is_file() and not q.is_symlink())
        else:
            out.append(p)
    return out


def record_source(
    con: duckdb.DuckDBPyConnection, fmt: str, src: SourceFile,
    quarantine_sql: str | None = None, quarantine_params: list | None = None,
) -> None:
    """Record the reconciliation (and quarantine) of one source content; mapping it again with
    the files ingested after it replaces its own record only.

    `quarantine_sql` selects (line_no BIGINT, field VARCHAR, rule VARCHAR, message VARCHAR,
    raw_text VARCHAR) for the lines of this source that could not be mapped."""
    ensure_audit(con)
    file_id = src.source.file_id(fmt)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    con.execute("DELETE FROM audit.quarantine WHERE file_id = ?", [file_id])
    con.execute("DELETE FROM audit.load_files WHERE file_id = ?", [file_id])
    if quarantine_sql:
        con.execute(
            f"""INSERT INTO audit.quarantine
                SELECT ?, ?, ?, q.line_no, q.field, q.rule, ? || ' line ' || q.line_no || ': ' || q.message, q.raw_text, ?
                FROM ({quarantine_sql}) q""",
            [file_id, f"source:{fmt}", str(src.path), src.path.name, now] + list(quarantine_params or []),
        )
    con.execute(
        "INSERT INTO audit.load_files VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        [file_id, f"source:{fmt}", str(src.path), src.source.sha256, src.source.bytes, src.source.encoding,
         src.rows_read, src.rows_mapped, src.rows_quarantined, now],
    )


def archive_sources(
    con: duckdb.DuckDBPyConnection, fmt: str, files: list[Path], encoding: str, time_zone: str,
) -> tuple[list[Path], list[Path]]:
    """Store the lines of every file whose content was not ingested before (audit.source_lines).
    Returns (new, known): the files given, split by whether their content is new."""
    
    new: list[Path] = []
    known: list[Path] = []
    seen: set[str] = set()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for path in files:
        if path.is_dir() or not path.exists():
            raise ValueError(f"{path}: no such file")
        digest = sha256_file(path)
        if digest in seen or con.execute("SELECT 1 FROM audit.source_files WHERE sha256 = ?", [digest]).fetchone():
            known.append(path)
            continue
        seen.add(digest)
        _read_into(con, path, encoding, digest)
        con.execute("INSERT INTO audit.source_files VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [digest, fmt, time_zone, str(path), path.stat().st_size, encoding, now])
        new.append(path)
    return new, known


def archived_sources(con: duckdb.DuckDBPyConnection, fmt: str, time_zone: str | None) -> list[Source]:
    """The source contents of a format (read in `time_zone`, unless None), in the order ingested."""
    rows = con.execute(
        "SELECT source_file, sha256, bytes, encoding FROM audit.source_files WHERE format = ? "
        "AND (? IS NULL OR time_zone = ?) ORDER BY ingested_at, source_file, sha256",
        [fmt, time_zone, time_zone],
    ).fetchall()
    return [Source(Path(f), sha, int(n), enc) for f, sha, n, enc in rows]


def run_adapter(
    con: duckdb.DuckDBPyConnection,
    fmt: str,
    sources: list[Path],
    landing: Path,
    site_time_zone: str = "UTC",
    encoding: str = "utf-8",
    progress: Callable[[str], None] = lambda m: None,
) -> AdapterResult:
    """Store the new source files, then map every stored source of the format (in the same
    site time zone, when the format has local times) onto the landing folder. Landing files are
    rewritten with the same bytes when nothing changed, so the same files again change nothing,
    and files ingested one by one give what one ingest of them all gives, in any order."""
    # Adapters register themselves on import.
    from ccq.ingest.adapters import anonymous_bank, asterisk_cdr, asterisk_queue_log  # noqa: F401

    if fmt not in ADAPTERS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(sorted(ADAPTERS))}")
    registered = ADAPTERS[fmt]
    con.execute("SET TimeZone = 'UTC'")
    try:  # the adapters read local times in it; callers other than the CLI get the same check
        con.execute("SELECT timezone(?, TIMESTAMP '2000-01-01')", [site_time_zone])
    except duckdb.Error:
        raise ValueError(f"unknown site time zone {site_time_zone!r} (an IANA name such as Europe/London)") from None
    ensure_audit(con)
    files = source_files(sources, registered.patterns)
    con.execute("BEGIN TRANSACTION")
    try:
        # A file the adapter cannot map at all (a wrong header) is not kept, or it would stop every later ingest.
        new, known = archive_sources(con, fmt, files, encoding, site_time_zone)
        for path in known:
            progress(f"{fmt}: {path.name}: ingested before (same content): nothing new")
        zone = site_time_zone if registered.local_times else None
        stored = archived_sources(con, fmt, zone)
        result = registered.adapter(con, stored, landing, landing_suffix(fmt, zone), site_time_zone, progress)
        bad = [s for s in result.sources if not s.reconciles]
        if bad:
            raise RuntimeError("source files do not reconcile: " + "; ".join(
                f"{s.path}: read {s.rows_read} != mapped {s.rows_mapped} + quarantined {s.rows_quarantined}" for s in bad))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    result.new, result.known = new, known
    return result


def _sql_text(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def write_contract_files(
    con: duckdb.DuckDBPyConnection, table_name: str, relation_sql: str, day_expr: str, landing: Path,
    suffix: str, params: list | None = None,
) -> tuple[list[Path], int]:
    """Write the rows of `relation_sql` (which must have the contract's columns, typed) as one
    contract CSV per UTC day of `day_expr`, `<table>_<day><suffix>.csv`, in the contract's column
    order and formats; the same rows give the same bytes. The files with this suffix are this
    adapter's own (one format, one time zone): a day it no longer has rows for is rewritten
    empty, so the loader withdraws what it held. Returns the files and the number of rows."""
    from ccq.contract import table as contract_table

    tbl = contract_table(table_name)
    cols = []
    for c in tbl.columns:
        q = f'"{c.name}"'
        if c.data_type == "TIMESTAMP":
            cols.append(f"strftime({q}, '%Y-%m-%dT%H:%M:%SZ') AS {q}")
        elif c.data_type == "BOOLEAN":
            cols.append(f"CASE WHEN {q} THEN 'true' WHEN NOT {q} THEN 'false' END AS {q}")
        else:
            cols.append(f"CAST({q} AS VARCHAR) AS {q}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _ccq_out AS SELECT *, CAST({day_expr} AS DATE) AS _day FROM ({relation_sql})",
                params or [])
    folder = landing / table_name
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for (day,) in con.execute("SELECT DISTINCT _day FROM _ccq_out WHERE _day IS NOT NULL ORDER BY 1").fetchall():
        path = folder / f"{table_name}_{day.isoformat()}{suffix}.csv"
        # Written beside it and renamed over it: a symlink planted under that name is replaced,
        # never written through, and a reader never sees half a file.
        tmp = folder / f".{path.name}.{os.getpid()}.tmp"
        con.execute(
            f"COPY (SELECT {', '.join(cols)} FROM _ccq_out WHERE _day = ? ORDER BY ALL) TO {_sql_text(str(tmp))} (HEADER, DELIMITER ',')",
            [day],
        )
        os.replace(tmp, path)
        files.append(path)
    total = con.execute("SELECT count(*) FROM _ccq_out WHERE _day IS NOT NULL").fetchone()[0]
    con.execute("DROP TABLE _ccq_out")
    written = set(files)
    for stale in sorted(folder.glob(f"{table_name}_*{suffix}.csv")):
        if stale not in written and stale.name[len(table_name) + 11:] == f"{suffix}.csv":
            write_header_only(stale, table_name)
    return files, int(total)


def write_header_only(path: Path, table_name: str) -> None:
    """An extract with no rows: the source was delivered for that day and had nothing."""
    from ccq.contract import table as contract_table

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(",".join(contract_table(table_name).column_names) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def landing_suffix(fmt: str, time_zone: str | None) -> str:
    """`.<format>` (and `.<time zone>` for formats with local times): the landing files one
    adapter owns, beside the extracts other systems deliver for the same days."""
    zone = "" if time_zone is None else "." + time_zone.replace("/", "-")
    return f".{fmt}{zone}"


def _read_into(con: duckdb.DuckDBPyConnection, path: Path, encoding: str, digest: str) -> None:
    """audit.source_lines of one file: every non-blank physical line with its 1-based number,
    read whole by DuckDB (no Python object per line). Text in another encoding is converted
    first; bytes that are not valid become U+FFFD, and the adapters quarantine those lines."""

    def insert(readable: Path) -> None:
        con.execute(
            """INSERT INTO audit.source_lines
            SELECT ?, line_no, raw FROM (
                SELECT line_no,
                       CASE WHEN line_no = 1 THEN ltrim(rtrim(line, chr(13)), chr(65279)) ELSE rtrim(line, chr(13)) END AS raw
                FROM (SELECT unnest(l) AS line, generate_subscripts(l, 1) AS line_no
                      FROM (SELECT string_split(content, chr(10)) AS l FROM read_text(?)))
            ) WHERE trim(raw) <> ''""",
            [digest, str(readable)],
        )

    utf8 = encoding.replace("_", "-").lower() in ("utf-8", "utf8", "ascii")
    with tempfile.TemporaryDirectory(prefix="ccq-adapter-") as tmp:
        if not utf8:
            insert(transcode_to_utf8(path, encoding, Path(tmp)))
            return
        if _valid_utf8(path):
            insert(path)
        else:
            # Bad bytes become U+FFFD and those lines are quarantined (rule encoding). Checked
            # first: DuckDB's error on invalid UTF-8 would abort the ingest's transaction.
            insert(transcode_to_utf8(path, "utf-8", Path(tmp)))


def _valid_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as f:
        try:
            for block in iter(lambda: f.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def read_lines(con: duckdb.DuckDBPyConnection, sources: list[Source], table: str) -> None:
    """TEMP `table`(file_idx, line_no, raw, encoding, dup_file_idx, dup_line_no): every stored
    line of the sources (file_idx is the index in `sources`). A line that repeats, word for word,
    a line of an earlier source (a log ingested at noon and again at night, grown since) names
    that line in dup_file_idx/dup_line_no: the same event must not count twice."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (file_idx INTEGER, line_no BIGINT, raw VARCHAR, encoding VARCHAR, "
                "dup_file_idx INTEGER, dup_line_no BIGINT)")
    if not sources:
        return
    index = pa.table({"file_idx": pa.array(range(len(sources)), pa.int32()),
                      "sha256": [s.sha256 for s in sources], "encoding": [s.encoding for s in sources]})
    con.register("_ccq_sources", index)
    try:
        con.execute(
            f"""INSERT INTO {table}
            WITH lines AS (
                SELECT s.file_idx, l.line_no, l.raw, s.encoding,
                       row_number() OVER (PARTITION BY s.file_idx, l.raw ORDER BY l.line_no) AS occurrence
                FROM audit.source_lines l JOIN _ccq_sources s USING (sha256)
            ), firsts AS (
                SELECT *, first_value(file_idx) OVER w AS first_file, first_value(line_no) OVER w AS first_line
                FROM lines WINDOW w AS (PARTITION BY raw, occurrence ORDER BY file_idx, line_no)
            )
            SELECT file_idx, line_no, raw, encoding,
                   CASE WHEN first_file <> file_idx THEN first_file END,
                   CASE WHEN first_file <> file_idx THEN first_line END
            FROM firsts ORDER BY file_idx, line_no"""
        )
    finally:
        con.unregister("_ccq_sources")
