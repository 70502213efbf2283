"""Atomic publish of a read-only snapshot for the app.

The pipeline is the only writer of warehouse/ccq.duckdb. After a run has fully succeeded and
certified, the warehouse is checkpointed and copied to publish/ccq-<run stamp>.duckdb, then
the CURRENT pointer file is replaced atomically (os.replace). The app opens whatever CURRENT
names, read-only, so a refresh never blocks it and a failed refresh never shows it half-built
numbers. Older snapshots are pruned once nobody can be opening them (we keep a few).
"""
from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from ccq.settings import Paths

POINTER = "CURRENT.json"
KEEP = 3


def publish(paths: Paths, con: duckdb.DuckDBPyConnection | None = None) -> Path:
    """Copy the warehouse to a new snapshot and point CURRENT at it. Returns the snapshot path."""
    paths.ensure()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = paths.publish_dir / f"ccq-{stamp}.duckdb"
    tmp = target.with_suffix(".partial")
    if con is not None:
        con.execute("CHECKPOINT")
        shutil.copyfile(paths.warehouse, tmp)
    else:
        # Open briefly to fold the WAL into the file, then copy the file itself.
        with duckdb.connect(str(paths.warehouse)) as c:
            c.execute("CHECKPOINT")
        shutil.copyfile(paths.warehouse, tmp)
    os.replace(tmp, target)
    pointer_tmp = paths.publish_dir / (POINTER + ".tmp")
    pointer_tmp.write_text(
        json.dumps({"snapshot": target.name, "published_at": datetime.now(timezone.utc).isoformat()}),
        encoding="utf-8",
    )
    os.replace(pointer_tmp, paths.publish_dir / POINTER)
    _prune(paths, keep=target)
    return target


def current_snapshot(paths: Paths) -> Path | None:
    """The snapshot the app should read, or None when nothing has been published yet."""
    pointer = paths.publish_dir / POINTER
    try:
        info = json.loads(pointer.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    snap = paths.publish_dir / info["snapshot"]
    return snap if snap.exists() else None


def published_at(paths: Paths) -> str | None:
    try:
        return json.loads((paths.publish_dir / POINTER).read_text(encoding="utf-8"))["published_at"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return None


def connect_snapshot(paths: Paths) -> duckdb.DuckDBPyConnection:
    snap = current_snapshot(paths)
    if snap is None:
        raise FileNotFoundError(f"nothing published yet under {paths.publish_dir}; run `ccq demo` or `ccq refresh`")
    return duckdb.connect(str(snap), read_only=True)


def _prune(paths: Paths, keep: Path) -> None:
    snaps = sorted(paths.publish_dir.glob("ccq-*.duckdb"))
    for old in snaps[:-KEEP]:
        if old != keep:
            try:
                old.unlink()
            except OSError:
                pass  # still open on some platforms; next publish tries again
