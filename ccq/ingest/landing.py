"""The landing folder: which files in it are extracts (named `<table>/<table>_<YYYY-MM-DD>.csv`),
what is skipped there and why, and which extracts are not loaded yet (or loaded with other bytes)
in the warehouse or in the published snapshot."""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterable

import duckdb

from ccq.contract import tables
from ccq.settings import Paths

FILE_NAME = re.compile(r"^(?P<table>[a-z_]+?)_(?P<day>\d{4}-\d{2}-\d{2})(?P<copy>(?![0-9])[^/\\]*)?\.(?i:csv)$")
FILE_LAYOUT = "<table>/<table>_<YYYY-MM-DD>.csv"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Skipped:
    """Something in the landing folder that is not loaded, and why."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def scan_landing(landing: Path, tables_wanted: Iterable[str] | None = None) -> tuple[list[Path], list[Skipped]]:
    """The extract files to load, and everything else in the landing folder with the reason it
    is not loaded. Only regular files directly inside landing/<table>/ are read: a symlink (it
    could point anywhere on the machine), a folder, a device or a file named unlike an extract
    is skipped, never followed, so nothing a user drops there stops the run or reads outside it."""
    known = set(tables())
    wanted = set(tables_wanted) if tables_wanted else known
    files: list[Path] = []
    skipped: list[Skipped] = []
    if not landing.is_dir():
        return files, skipped
    for top in sorted(os.scandir(landing), key=lambda e: e.name):
        where = Path(top.path)
        if top.is_symlink():
            skipped.append(Skipped(where, "a symbolic link: only regular files inside the landing folder are read"))
        elif not top.is_dir(follow_symlinks=False):
            skipped.append(Skipped(where, f"not in a table folder: extracts go in {FILE_LAYOUT}"))
        elif top.name not in known:
            skipped.append(Skipped(where, f"{top.name!r} is not a raw table of the contract (ccq contract lists them)"))
        elif top.name in wanted:
            for entry in sorted(os.scandir(top.path), key=lambda e: e.name):
                why = _not_an_extract(entry, top.name)
                if why:
                    skipped.append(Skipped(Path(entry.path), why))
                else:
                    files.append(Path(entry.path))
    return files, skipped


def _not_an_extract(entry: os.DirEntry, table: str) -> str | None:
    if entry.is_symlink():
        return "a symbolic link: only regular files inside the landing folder are read"
    if entry.is_dir(follow_symlinks=False):
        return "a folder, not an extract file"
    if not entry.is_file(follow_symlinks=False):
        return "not a regular file"
    if not os.access(entry.path, os.R_OK):
        return "not readable (file permissions)"
    m = FILE_NAME.match(entry.name)
    if not m:
        return f"not named {table}_<YYYY-MM-DD>.csv"
    if m.group("table") != table:
        return f"named for table {m.group('table')!r} but in the {table!r} folder"
    try:
        date.fromisoformat(m.group("day"))
    except ValueError:
        return f"{m.group('day')} in its name is not a date"
    return None


def landing_files(landing: Path, tables_wanted: Iterable[str] | None = None) -> list[Path]:
    return scan_landing(landing, tables_wanted)[0]


@dataclass(frozen=True)
class LandingFile:
    file_id: str  # <table>/<file name>, as in audit.load_files
    day: str
    sha256: str
    path: Path


def landing_state(paths: Paths) -> list[LandingFile]:
    out = []
    for p in landing_files(paths.landing):
        m = FILE_NAME.match(p.name)
        out.append(LandingFile(f"{m.group('table')}/{p.name}", m.group("day"), sha256_file(p), p))
    return out


def skipped_landing(paths: Paths) -> list[Skipped]:
    """What is in the landing folder but is never loaded, and why (symlinks, folders, odd names)."""
    return scan_landing(paths.landing)[1]


def loaded_files(db: Path | None) -> dict[str, str]:
    """file_id -> sha256 of the files recorded in audit.load_files of a DuckDB file (the
    warehouse, or a published snapshot, which carries the same table)."""
    if db is None or not Path(db).exists():
        return {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema='audit' AND table_name='load_files'").fetchall()[0][0]:
            return {}
        return dict(con.execute("SELECT file_id, sha256 FROM audit.load_files").fetchall())
    finally:
        con.close()


def changed_files(paths: Paths, against: str = "warehouse") -> list[LandingFile]:
    """Landing files that are not loaded yet, or loaded with other bytes.

    against="warehouse" asks the warehouse (only the writer itself may: a read-only
    connection from another process would lock the pipeline out); against="snapshot" asks
    the published snapshot, i.e. what the app does not show yet. Sensors and `ccq status`
    use the snapshot so that they never touch the warehouse."""
    if against == "snapshot":
        from ccq.publish import current_snapshot

        loaded = loaded_files(current_snapshot(paths))
    else:
        loaded = loaded_files(paths.warehouse)
    return [f for f in landing_state(paths) if loaded.get(f.file_id) != f.sha256]


def changed_days(paths: Paths, against: str = "warehouse") -> list[str]:
    """Extract days with a landing file that is not loaded yet, or loaded with other bytes."""
    return sorted({f.day for f in changed_files(paths, against)})


def files_key(files: Iterable[LandingFile]) -> str:
    """One key for a set of file versions: the same files never trigger twice."""
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.file_id):
        h.update(f"{f.file_id}:{f.sha256}\n".encode())
    return h.hexdigest()[:32]
