"""Shared fixtures. `hand_built` runs the real pipeline (Dagster jobs: load, raw suites, dbt
build, mart suite, certification, publish) once per session on the hand-built fixture of
tests/fixtures/hand_calls, in a temporary CCQ_HOME with its own Dagster instance."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ccq.settings import Paths

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
