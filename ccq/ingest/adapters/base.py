"""What the adapters share: the source and result types, reading stored source lines, writing
contract files, reconciling and quarantining. The formats and how an ingest runs are in `registry`."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Protocol

import duckdb
import pyarrow as pa

from ccq.ingest.audit import ensure_audit
from ccq.ingest.lines import RAW_TEXT_LIMIT


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


def site_for(time_zone: str) -> str:
    """The site whose local times an ingest read in `time_zone`: the default site when it is in
    that zone, else the first configured site that is, else a new site named after the zone."""
    from ccq.reference import default_site, site_zones

    zones = site_zones()
    if zones.get(default_site()) == time_zone:
        return default_site()
    return next((site for site, zone in zones.items() if zone == time_zone), time_zone)


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
