from __future__ import annotations

import codecs
import importlib
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Protocol

import duckdb
import pyarrow as pa

from ccq.ingest.audit import ensure_audit
from ccq.ingest.loader import RAW_TEXT_LIMIT, sha256_file, transcode_to_utf8


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
    site: str | None = None  # the one site a data set belongs to (its zone is the seeds'), else any


ADAPTERS: dict[str, Registered] = {}
# Format name -> the module that registers it, imported when that format is asked for.
FORMATS: dict[str, str] = {
    "amazon-connect": "amazon_connect",
    "anonymous-bank": "anonymous_bank",
    "asterisk-cdr": "asterisk_cdr",
    "asterisk-queue-log": "asterisk_queue_log",
    "freeswitch-csv": "freeswitch_cdr",
    "freeswitch-json": "freeswitch_cdr",
}


def adapter_of(fmt: str) -> Registered:
    """The registered adapter of a format, its module imported on first use."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(sorted(FORMATS))}")
    importlib.import_module(f"ccq.ingest.adapters.{FORMATS[fmt]}")  # it registers itself
    return ADAPTERS[fmt]


def register(name: str, patterns: tuple[str, ...] = ("*",), local_times: bool = True, site: str | None = None):
    def wrap(fn):
        ADAPTERS[name] = Registered(fn, patterns, local_times, site)
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
    site_time_zone: str | None = None,
    encoding: str = "utf-8",
    progress: Callable[[str], None] = lambda m: None,
) -> AdapterResult:
    """Store the new source files, then map every stored source of the format (in the same
    site time zone, when the format has local times) onto the landing folder. Landing files are
    rewritten with the same bytes when nothing changed, so the same files again change nothing,
    and files ingested one by one give what one ingest of them all gives, in any order."""
    registered = adapter_of(fmt)
    explicit_zone = site_time_zone is not None
    site_time_zone = resolve_time_zone(fmt, site_time_zone)
    con.execute("SET TimeZone = 'UTC'")
    try:  # the adapters read local times in it; callers other than the CLI get the same check
        con.execute("SELECT timezone(?, TIMESTAMP '2000-01-01')", [site_time_zone])
    except duckdb.Error:
        raise ValueError(f"unknown site time zone {site_time_zone!r} (an IANA name such as Europe/London)") from None
    ensure_audit(con)
    files = source_files(sources, registered.patterns)
    if not files:
        raise ValueError(f"{', '.join(map(str, sources))}: no {fmt} files there (names like "
                         f"{', '.join(registered.patterns)})")
    con.execute("BEGIN TRANSACTION")
    try:
        # A file the adapter cannot map at all (a wrong header) is not kept, or it would stop every later ingest.
        new, known = archive_sources(con, fmt, files, encoding, site_time_zone)
        for path in known:
            progress(f"{fmt}: {path.name}: ingested before (same content): nothing new")
        zone = site_time_zone if registered.local_times else None
        stored = archived_sources(con, fmt, zone)
        suffix = landing_suffix(fmt, zone)
        queues = None
        if explicit_zone and not registered.local_times:
            # Every stored source maps together whatever zone it was ingested for, so the queues
            # said to be at this zone's site are those of the new files alone, mapped apart first
            # (the full mapping below then records their reconciliation again, over all files).
            given = {str(p) for p in new}
            fresh = [s for s in stored if str(s.path) in given]
            queues = set()
            if fresh:
                with tempfile.TemporaryDirectory(prefix="ccq-scopes-") as tmp:
                    alone = registered.adapter(con, fresh, Path(tmp), suffix, site_time_zone, lambda m: None)
                    queues = queues_in(con, alone.files)
        result = registered.adapter(con, stored, landing, suffix, site_time_zone, progress)
        bad = [s for s in result.sources if not s.reconciles]
        if bad:
            raise RuntimeError("source files do not reconcile: " + "; ".join(
                f"{s.path}: read {s.rows_read} != mapped {s.rows_mapped} + quarantined {s.rows_quarantined}" for s in bad))
        record_scopes(con, fmt, queues_in(con, result.files) if queues is None else queues, site_time_zone,
                      explicit_zone)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    result.new, result.known = new, known
    return result


def site_for(time_zone: str) -> str:
    """The site whose local times an ingest read in `time_zone`: the default site when it is in
    that zone, else the first configured site that is, else a new site named after the zone."""
    from ccq.reference import default_site, site_zones

    zones = site_zones()
    if zones.get(default_site()) == time_zone:
        return default_site()
    return next((site for site, zone in zones.items() if zone == time_zone), time_zone)


def resolve_time_zone(fmt: str, time_zone: str | None) -> str:
    """One truth for local times: the zone of the site the files belong to. A data set of one
    configured site (the bank's) reads in that site's zone; otherwise --time-zone, else the
    default site's. A --time-zone that contradicts the configured site is an error naming both."""
    from ccq.reference import default_site, site_zones

    site = adapter_of(fmt).site
    zones = site_zones()
    if site is not None and site in zones:
        if time_zone is not None and time_zone != zones[site]:
            raise ValueError(f"--time-zone {time_zone} contradicts site {site}, configured in seeds/sites.csv "
                             f"with time zone {zones[site]}: the {fmt} files are that site's; leave --time-zone out")
        return zones[site]
    return time_zone or zones.get(default_site(), "UTC")


def queues_in(con: duckdb.DuckDBPyConnection, files: list[Path]) -> set[str]:
    """The queues named by the acd_queue_events landing files among `files`."""
    events = [str(p) for p in files if p.parent.name == "acd_queue_events"]
    if not events:
        return set()
    return {q for (q,) in con.execute(
        "SELECT DISTINCT queue_id FROM read_csv(?, header = true, all_varchar = true) WHERE queue_id IS NOT NULL",
        [events]).fetchall()}


def record_scopes(con: duckdb.DuckDBPyConnection, fmt: str, queues: set[str], time_zone: str, explicit: bool) -> None:
    """audit.ingested_sites/_queues: the site (with its zone) the files were read in, and every
    queue they named. A queue the seeds configure at a site in another zone contradicts the
    zone the files were read in (or said to be from): an error naming both."""
    from ccq.reference import queue_sites, site_zones

    site = ADAPTERS[fmt].site or site_for(time_zone)
    configured, zones = queue_sites(), site_zones()
    # An unconfigured queue stays at the site of its first ingest; its zone is that ingest's.
    earlier = dict(con.execute(
        "SELECT q.queue_id, coalesce(s.time_zone, '') || '|' || q.site_id FROM audit.ingested_queues q "
        "LEFT JOIN audit.ingested_sites s USING (site_id)").fetchall())
    if ADAPTERS[fmt].local_times or explicit:
        for queue in sorted(queues):
            other = configured.get(queue)
            if other is not None and zones.get(other) not in (None, time_zone):
                raise ValueError(f"--time-zone {time_zone} contradicts site {other} of queue {queue}, configured in "
                                 f"seeds/queues.csv and seeds/sites.csv with time zone {zones[other]}: ingest with "
                                 f"--time-zone {zones[other]}, or move the queue to another site in the seeds")
            zone, _, first_site = earlier.get(queue, "|").partition("|")
            if other is None and zone and zone != time_zone:
                raise ValueError(f"--time-zone {time_zone} contradicts site {first_site} of queue {queue}, whose files "
                                 f"were first ingested with time zone {zone}: ingest with --time-zone {zone}, or "
                                 f"configure the queue's site in seeds/queues.csv (ccq configure --write-missing)")
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    con.execute("INSERT OR IGNORE INTO audit.ingested_sites VALUES (?, ?, ?, ?)", [site, time_zone, fmt, now])
    for queue in sorted(queues):
        con.execute("INSERT OR IGNORE INTO audit.ingested_queues VALUES (?, ?, ?, ?)", [queue, site, fmt, now])


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


# ---------------------------------------------------------------- SQL building blocks of the adapters

MAX_EPOCH = 32_503_680_000  # 3000-01-01: an epoch beyond it is out of range


def sql_values(rows: list[tuple], alias: str) -> str:
    """A VALUES list usable in FROM / JOIN, e.g. `sql_values([("a", 1)], "t(name, n)")`."""
    def lit(v):
        if v is None:
            return "NULL"
        if isinstance(v, int):
            return str(v)
        return "'" + str(v).replace("'", "''") + "'"

    body = ", ".join("(" + ", ".join(lit(v) for v in r) + ")" for r in rows)
    return f"(VALUES {body}) AS {alias}"


def sql_list(items: list[str]) -> str:
    return "[" + ", ".join("'" + s.replace("'", "''") + "'" for s in items) + "]"


def quoted_head(expr: str) -> str:
    return f"'''' || left({expr}, 60) || ''''"


def checks_case(checks: list[tuple[str, str, str | None, str]]) -> tuple[str, str, str]:
    """CASE expressions for (rule, field, message) from (condition, rule, field, message SQL)."""
    def lit(v):
        return "NULL" if v is None else "'" + v.replace("'", "''") + "'"

    rule = "CASE " + " ".join(f"WHEN {c} THEN {lit(r)}" for c, r, _, _ in checks) + " END"
    field = "CASE " + " ".join(f"WHEN {c} THEN {lit(f)}" for c, _, f, _ in checks) + " END"
    message = "CASE " + " ".join(f"WHEN {c} THEN {m}" for c, _, _, m in checks) + " END"
    return rule, field, message


def reconcile(
    con: duckdb.DuckDBPyConnection, fmt: str, files: list[Source], lines: str, status: str,
) -> list[SourceFile]:
    """Record every source file in the audit: `status`(file_idx, line_no, mapped, field, rule,
    message) has one row per line of `lines`; unmapped lines go to audit.quarantine."""
    counts = {
        r[0]: r[1:]
        for r in con.execute(
            f"""SELECT l.file_idx, count(*) FILTER (WHERE s.mapped), count(*) FILTER (WHERE NOT s.mapped)
                FROM {lines} l JOIN {status} s USING (file_idx, line_no) GROUP BY 1"""
        ).fetchall()
    }
    read = dict(con.execute(f"SELECT file_idx, count(*) FROM {lines} GROUP BY 1").fetchall())
    out = []
    for idx, source in enumerate(files):
        mapped, quarantined = counts.get(idx, (0, 0))
        src = SourceFile(source, int(read.get(idx, 0)), int(mapped), int(quarantined))
        record_source(
            con, fmt, src,
            quarantine_sql=f"""SELECT s.line_no, s.field, s.rule, s.message, left(l.raw, {RAW_TEXT_LIMIT}) AS raw_text
                               FROM {status} s JOIN {lines} l USING (file_idx, line_no)
                               WHERE s.file_idx = ? AND NOT s.mapped""",
            quarantine_params=[idx],
        )
        out.append(src)
    return out
