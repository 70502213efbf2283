from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Protocol

import duckdb

from ccq.ingest.audit import ensure_audit
from ccq.ingest.loader import sha256_file


@dataclass(frozen=True)
class SourceFile:
    """Reconciliation of one source file: every line read is mapped or quarantined."""

    path: Path
    rows_read: int
    rows_mapped: int
    rows_quarantined: int
    notes: tuple[str, ...] = ()

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_mapped + self.rows_quarantined


@dataclass
class AdapterResult:
    format: str
    sources: list[SourceFile] = field(default_factory=list)
    written: dict[str, int] = field(default_factory=dict)  # contract table -> rows written to landing
    files: list[Path] = field(default_factory=list)  # landing files written


class Adapter(Protocol):
    name: str  # e.g. "asterisk-queue-log"

    def __call__(
        self,
        con: duckdb.DuckDBPyConnection,
        sources: list[Path],
        landing: Path,
        site_time_zone: str,
        encoding: str,
        progress: Callable[[str], None],
    ) -> AdapterResult: ...


ADAPTERS: dict[str, Adapter] = {}


def register(name: str):
    def wrap(fn):
        ADAPTERS[name] = fn
        return fn

    return wrap


def source_files(paths: Iterable[Path], patterns: tuple[str, ...] = ("*",)) -> list[Path]:
    """Files given directly, or found (recursively) in folders, in a stable order."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(q for pat in patterns for q in p.rglob(pat) if q.is_file())
        else:
            out.append(p)
    return out


def record_source(
    con: duckdb.DuckDBPyConnection, fmt: str, src: SourceFile, encoding: str,
    quarantine_sql: str | None = None, quarantine_params: list | None = None,
) -> None:
    """Replace the reconciliation (and quarantine) of one source file.

    `quarantine_sql` selects (line_no BIGINT, field VARCHAR, rule VARCHAR, message VARCHAR,
    raw_text VARCHAR) for the lines of this source that could not be mapped."""
    ensure_audit(con)
    file_id = f"source:{fmt}/{src.path.name}"
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    digest = sha256_file(src.path)
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
        [file_id, f"source:{fmt}", str(src.path), digest, src.path.stat().st_size, encoding,
         src.rows_read, src.rows_mapped, src.rows_quarantined, now],
    )


def run_adapter(
    con: duckdb.DuckDBPyConnection,
    fmt: str,
    sources: list[Path],
    landing: Path,
    site_time_zone: str = "UTC",
    encoding: str = "utf-8",
    progress: Callable[[str], None] = lambda m: None,
) -> AdapterResult:
    # Adapters register themselves on import.
    from ccq.ingest.adapters import anonymous_bank, asterisk_cdr, asterisk_queue_log  # noqa: F401

    if fmt not in ADAPTERS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(sorted(ADAPTERS))}")
    con.execute("SET TimeZone = 'UTC'")
    result = ADAPTERS[fmt](con, sources, landing, site_time_zone, encoding, progress)
    bad = [s for s in result.sources if not s.reconciles]
    if bad:
        raise RuntimeError("source files do not reconcile: " + "; ".join(
            f"{s.path}: read {s.rows_read} != mapped {s.rows_mapped} + quarantined {s.rows_quarantined}" for s in bad))
    return result


def write_contract_files(
    con: duckdb.DuckDBPyConnection, table_name: str, relation_sql: str, day_expr: str, landing: Path,
    params: list | None = None,
) -> tuple[list[Path], int]:
    """Write the rows of `relation_sql` (which must have the contract's columns, typed) as one
    contract CSV per UTC day of `day_expr`, in the contract's column order and formats.
    An existing landing file for the same day is replaced (a re-run gives the same bytes)."""
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
    con.execute(f"CREATE OR REPLACE TEMP TABLE _ccq_out AS SELECT *, CAST({day_expr} AS DATE) AS _day FROM ({relation_sql})", params or [])
    folder = landing / table_name
    folder.mkdir(parents=True, exist_ok=True)
    files, total = [], 0
    for (day,) in con.execute("SELECT DISTINCT _day FROM _ccq_out WHERE _day IS NOT NULL ORDER BY 1").fetchall():
        path = folder / f"{table_name}_{day.isoformat()}.csv"
        con.execute(
            f"COPY (SELECT {', '.join(cols)} FROM _ccq_out WHERE _day = ? ORDER BY ALL) TO '{path}' (HEADER, DELIMITER ',')",
            [day],
        )
        files.append(path)
    total = con.execute("SELECT count(*) FROM _ccq_out WHERE _day IS NOT NULL").fetchone()[0]
    con.execute("DROP TABLE _ccq_out")
    return files, int(total)


def read_lines(con: duckdb.DuckDBPyConnection, files: list[Path], encoding: str, table: str) -> None:
    """TEMP `table`(file_idx, line_no, raw): every non-blank physical line of the files, with its
    1-based line number. Each file is read whole by DuckDB (no Python object per line)."""
    from ccq.ingest.loader import transcode_to_utf8

    names = Counter(p.name for p in files)
    dupes = [n for n, c in names.items() if c > 1]
    if dupes:
        raise ValueError(f"source files must have distinct names (audit ids use the name): {', '.join(dupes)}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (file_idx INTEGER, line_no BIGINT, raw VARCHAR)")

    def insert(idx: int, readable: Path) -> None:
        con.execute(
            f"""INSERT INTO {table}
            SELECT ?, line_no, raw FROM (
                SELECT line_no,
                       CASE WHEN line_no = 1 THEN ltrim(rtrim(line, chr(13)), chr(65279)) ELSE rtrim(line, chr(13)) END AS raw
                FROM (SELECT unnest(l) AS line, generate_subscripts(l, 1) AS line_no
                      FROM (SELECT string_split(content, chr(10)) AS l FROM read_text(?)))
            ) WHERE trim(raw) <> ''""",
            [idx, str(readable)],
        )

    utf8 = encoding.replace("_", "-").lower() in ("utf-8", "utf8", "ascii")
    with tempfile.TemporaryDirectory(prefix="ccq-adapter-") as tmp:
        for idx, path in enumerate(files):
            if not utf8:
                insert(idx, transcode_to_utf8(path, encoding, Path(tmp)))
                continue
            try:
                insert(idx, path)
            except duckdb.InvalidInputException:
                # Not valid UTF-8: bad bytes become U+FFFD and those lines are quarantined (rule encoding).
                insert(idx, transcode_to_utf8(path, "utf-8", Path(tmp)))
