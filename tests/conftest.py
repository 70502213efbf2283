"""Shared fixtures. `hand_built` runs the real pipeline (Dagster jobs: load, raw suites, dbt
build, mart suite, certification, publish) once per session on the hand-built fixture of
tests/fixtures/hand_calls, in a temporary CCQ_HOME with its own Dagster instance."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ccq.settings import DBT_PROJECT_DIR, Paths

FIXTURES = Path(__file__).parent / "fixtures"
# The fixture's extracts cover 2026-03-02 and 03-03; on 03-04 at noon both were due.
HAND_BUILT_NOW = "2026-03-04T12:00:00"


def run_pipeline(home: Path, landing: Path, now: str) -> tuple[Paths, dict]:
    from ccq.pipeline import run_once

    paths, load, ok, info = run_once(home, landing, now)
    assert ok, info
    return paths, {"load": load, **info}


@pytest.fixture(scope="session")
def hand_built(tmp_path_factory) -> tuple[Paths, dict]:
    home = tmp_path_factory.mktemp("hand_built_home")
    return run_pipeline(home, FIXTURES / "hand_calls" / "landing", HAND_BUILT_NOW)


@pytest.fixture(scope="session")
def hand_built_snapshot(hand_built):
    paths, info = hand_built
    con = duckdb.connect(info["snapshot"], read_only=True)
    yield con
    con.close()


def source_id(fmt: str, path: Path) -> str:
    """The audit file id of a source file an adapter ingested: its name and its content."""
    import hashlib

    return f"source:{fmt}/{path.name}@{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}"


def warehouse_copy(paths: Paths, work: Path) -> Path:
    """A copy of a built warehouse in `work`: dbt can write to it while other tests read the original."""
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(paths.warehouse, work / "ccq.duckdb")
    return work / "ccq.duckdb"


def run_dbt(work: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """dbt on the warehouse copy in `work`, in its own process (dbt's in-process connection would
    stay open on the file), with its target/ and logs/ in `work`."""
    run = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(work / "target"), "--log-path", str(work / "logs")],
        env={**os.environ, "CCQ_DUCKDB_PATH": str(work / "ccq.duckdb")}, capture_output=True, text=True)
    if check:
        assert run.returncode == 0, run.stdout[-3000:]
    return run
