"""Shared fixtures. `hand_built` runs the real pipeline (Dagster jobs: load, raw suites, dbt
build, mart suite, certification, publish) once per session on the hand-built fixture of
tests/fixtures/hand_calls, in a temporary CCQ_HOME with its own Dagster instance."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from ccq.settings import Paths

FIXTURES = Path(__file__).parent / "fixtures"
# The fixture's extracts cover 2026-03-02 and 03-03; on 03-04 at noon both were due.
HAND_BUILT_NOW = "2026-03-04T12:00:00"


def run_pipeline(home: Path, landing: Path, now: str) -> tuple[Paths, dict]:
    from dagster import DagsterInstance

    from ccq.pipeline import changed_days, run_build, run_load

    shutil.copytree(landing, home / "landing", dirs_exist_ok=True)
    os.environ["CCQ_HOME"] = str(home)
    os.environ["CCQ_NOW"] = now
    paths = Paths(home).ensure()
    os.environ["CCQ_DUCKDB_PATH"] = str(paths.warehouse)
    instance = DagsterInstance.local_temp(str(home / "dagster"))
    load = run_load(instance, paths, changed_days(paths))
    ok, info = run_build(instance, paths)
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
