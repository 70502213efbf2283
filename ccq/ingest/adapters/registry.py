"""The formats `ccq ingest` reads, and the one way to run their adapters.

This module imports the adapters; an adapter imports only the helpers in `base`, so the
registry and the adapters never import each other.
"""
from __future__ import annotations

import codecs
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import duckdb

from ccq.ingest.adapters import amazon_connect, anonymous_bank, asterisk_cdr, asterisk_queue_log, freeswitch_cdr
from ccq.ingest.adapters.base import Adapter, AdapterResult, Source, site_for
from ccq.ingest.audit import ensure_audit
from ccq.ingest.landing import sha256_file
from ccq.ingest.lines import transcode_to_utf8


@dataclass(frozen=True)
class Registered:
    adapter: Adapter
    patterns: tuple[str, ...]  # file names an adapter takes from a folder
    local_times: bool  # reads local clock times: only files ingested with the same --time-zone map together
    site: str | None = None  # the one site a data set belongs to (its zone is the seeds'), else any


ADAPTERS: dict[str, Registered] = {
    # ISO 8601 UTC: no local clock time is read.
    amazon_connect.FORMAT: Registered(amazon_connect.amazon_connect, amazon_connect.FOLDER_PATTERNS, local_times=False),
    anonymous_bank.FORMAT: Registered(anonymous_bank.anonymous_bank, ("*.txt",), local_times=True,
                                      site=anonymous_bank.SITE_ID),
    asterisk_cdr.FORMAT: Registered(asterisk_cdr.asterisk_cdr, asterisk_cdr.FOLDER_PATTERNS, local_times=True),
    # Epoch seconds: no local clock time is read.
    asterisk_queue_log.FORMAT: Registered(asterisk_queue_log.asterisk_queue_log, asterisk_queue_log.FOLDER_PATTERNS,
                                          local_times=False),
    # The *_stamp variables and start_stamp, answer_stamp, end_stamp are local times.
    freeswitch_cdr.FORMAT: Registered(freeswitch_cdr.freeswitch_json, freeswitch_cdr.FOLDER_PATTERNS, local_times=True),
    freeswitch_cdr.CSV_FORMAT: Registered(freeswitch_cdr.freeswitch_csv, freeswitch_cdr.CSV_FOLDER_PATTERNS,
                                          local_times=True),
}
FORMATS = sorted(ADAPTERS)


def adapter_of(fmt: str) -> Registered:
    if fmt not in ADAPTERS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    return ADAPTERS[fmt]


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
