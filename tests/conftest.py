"""Shared fixtures. `hand_built` runs the real pipeline (Dagster jobs: load, raw suites, dbt
build and tests, certification and the publish checks, publish) once per session on the hand-built fixture of
tests/fixtures/hand_calls, in a temporary CCQ_HOME with its own Dagster instance."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ccq.settings import DBT_PROJECT_DIR, Paths

FIXTURES = Path(__file__).parent / "fixtures"


# The slow tests (marker `slow`): those that share a pipeline scenario through xdist_group, and
# these, which build through the pipeline, run dbt, drive a browser, or start `ccq` or a fresh
# Python in a process of their own (seconds each). `-m "not slow"` runs the others.
SLOW = {"test_redelivery_withdrawn.py", "test_app_e2e.py",
        "test_pseudonyms.py::test_dbt_finds_the_environment_key_through_the_profile",
        "test_pseudonyms.py::test_importing_touches_no_file",
        "test_adapter_anonymous_bank.py::test_february_1999",
        "test_architecture.py::test_importing_every_module_touches_nothing",
        "test_architecture.py::test_ccq_never_imports_orchestration_even_indirectly",
        "test_cli_errors.py::test_refresh_with_nothing_to_load",
        "test_data_quality_corpus.py::test_status_and_changed_days_go_on_past_what_cannot_be_read"}


# Seconds each unit of xdist's scheduling (an xdist_group, else a module) took with --durations on
# 2 cores. Longest first: xdist hands the units out in collection order (with
# --no-loadscope-reorder, pyproject.toml), and the day of trouble alone is a quarter of the suite;
# started last, it ran long after the other worker had finished.
MEASURED_SECONDS = {"operations": 160, "agent_names": 70, "hand_built": 60, "app_e2e": 55,
                    "test_redelivery_withdrawn.py": 50, "faulty": 40, "asterisk": 35, "freeswitch": 35,
                    "amazon_connect": 33, "unconfigured_queues": 30, "incremental": 85, "spark": 380}


def _scheduling_unit(item) -> str:
    group = item.get_closest_marker("xdist_group")
    return group.args[0] if group else item.nodeid.split("::")[0].split("/")[-1]


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = item.nodeid.split("/")[-1]
        if item.get_closest_marker("xdist_group") or name.split("::")[0] in SLOW or name.split("[")[0] in SLOW:
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: -MEASURED_SECONDS.get(_scheduling_unit(item), 0))  # stable: the rest keep their order


def pytest_configure(config):
    """Parse the dbt project once, in the controlling process before any worker starts (the test
    modules that load the Definitions read its manifest; no import parses it)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        from orchestration.resources import prepare_manifest

        prepare_manifest()
# The fixture's extracts cover 2026-03-02 and 03-03; on 03-04 at noon both were due.
HAND_BUILT_NOW = "2026-03-04T12:00:00"


def run_pipeline(home: Path, landing: Path, now: str) -> tuple[Paths, dict]:
    from orchestration.runs import run_once

    paths, ok, info = run_once(home, landing, now)
    assert ok, info
    return paths, info


# What `ccq` commands and pipeline runs point at their home; a test that runs one in-process puts them back.
PIPELINE_ENV = ("CCQ_HOME", "CCQ_NOW", "CCQ_DUCKDB_PATH", "DAGSTER_HOME")


@contextlib.contextmanager
def restored_env():
    keep = {k: os.environ.get(k) for k in PIPELINE_ENV}
    try:
        yield
    finally:
        for k, v in keep.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def sorted_rows(db: str, sql: str) -> list[tuple]:
    """A query's rows on a DuckDB file opened read-only, in one order whatever the plan's."""
    con = duckdb.connect(db, read_only=True)
    try:
        return sorted(con.execute(sql).fetchall(), key=repr)
    finally:
        con.close()


def kpi_values_of(snapshot: str) -> dict[tuple, tuple]:
    """(kpi, grain, period start 'YYYY-MM-DD HH:MM:SS', scope id) -> (numerator, denominator, value)."""
    con = duckdb.connect(snapshot, read_only=True)
    try:
        rows = con.execute(
            """SELECT kpi, grain, strftime(period_start, '%Y-%m-%d %H:%M:%S'), scope_id, numerator, denominator, value
               FROM marts.kpi_values""").fetchall()
    finally:
        con.close()
    return {(r[0], r[1], r[2], r[3]): r[4:] for r in rows}


def assert_kpi(got: tuple | None, expected: tuple, key) -> None:
    """A KPI row (numerator, denominator, value) against its hand computation: the parts exactly
    (no denominator for a simple KPI), the value to 1e-12."""
    assert got is not None, f"missing KPI row {key}"
    numerator, denominator, value = expected
    assert got[0] == numerator
    assert (got[1] is None) if denominator is None else got[1] == denominator
    assert got[2] == pytest.approx(value, abs=1e-12)


@pytest.fixture(scope="session")
def hand_built(tmp_path_factory, worker_id) -> tuple[Paths, dict]:
    """Built once per test run and shared by the xdist workers (pytest-xdist's recipe: the first
    to ask builds it under a file lock in the run's common temporary folder, the others read
    what it recorded). Tests only read it, or copy its warehouse before writing."""
    if worker_id == "master":  # not distributed
        return run_pipeline(tmp_path_factory.mktemp("hand_built_home"), FIXTURES / "hand_calls" / "landing", HAND_BUILT_NOW)
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp().parent
    home, built = root / "hand_built_home", root / "hand_built.json"
    with FileLock(str(root / "hand_built.lock")):
        if not built.is_file():
            paths, info = run_pipeline(home, FIXTURES / "hand_calls" / "landing", HAND_BUILT_NOW)
            built.write_text(json.dumps(info), encoding="utf-8")
            return paths, info
    # What run_pipeline leaves in the environment of the worker that built it.
    os.environ["CCQ_HOME"], os.environ["CCQ_NOW"] = str(home), HAND_BUILT_NOW
    return Paths(home), json.loads(built.read_text(encoding="utf-8"))


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


# In the environment, not a module global: test modules import this file as tests.conftest, a
# second module object beside the one pytest loaded.
DBT_PARSE_STATE_ENV = "CCQ_TEST_DBT_PARSE_STATE"


@pytest.fixture(scope="session", autouse=True)
def _dbt_parse_state(tmp_path_factory):
    os.environ[DBT_PARSE_STATE_ENV] = str(tmp_path_factory.getbasetemp() / "dbt_partial_parse.msgpack")


def run_dbt(work: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """dbt on the warehouse copy in `work`, in its own process (dbt's in-process connection would
    stay open on the file), with its target/ and logs/ in `work`.

    dbt parses the whole project again (10 s) whenever the profile's connection differs, and the
    path of the warehouse is part of it: dbt runs in `work` with the same relative path every
    time, so the parse state of one copy serves the next (one per worker)."""
    shared = Path(os.environ[DBT_PARSE_STATE_ENV])
    state = work / "target" / "partial_parse.msgpack"
    if shared.exists() and not state.exists():
        state.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared, state)
    run = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(work / "target"), "--log-path", str(work / "logs")],
        cwd=work, env={**os.environ, "CCQ_DUCKDB_PATH": "ccq.duckdb"}, capture_output=True, text=True)
    if state.exists():
        tmp = shared.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(state, tmp)
        os.replace(tmp, shared)
    if check:
        assert run.returncode == 0, run.stdout[-3000:]
    return run
