"""Operations under faults, with real processes, on the hand-built fixture.

One working folder goes through a day of trouble, in order (every pipeline run costs close to
a minute, so the steps share it; each test below checks what one step left behind):

1. first delivery: 03-02 arrives with a contact (c99) and a CONNECT time (c01) that a
   corrected re-delivery takes back; 03-03 has not arrived. Loaded and published.
2. the corrected 03-02 and the late 03-03 arrive, and the roster arrives a second time with
   the same bytes. `ccq refresh` starts as a subprocess and is killed (SIGKILL, with its dbt)
   as soon as dbt has written its first model.
3. a raw table loses a column the staging model reads: the build fails.
4. the column is back; `ccq refresh` runs while a reader thread opens the published snapshot
   in a loop, as the app does.
5. both extract days are loaded again and the models rebuilt with --full-refresh.

The result of 4 must equal the clean load of the session fixture `hand_built` (same files,
loaded once, same clock), and 5 must equal 4.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from orchestration.raw_extracts import raw_key
from orchestration.runs import run_refresh
from orchestration.status import status
from ccq.contract import tables
from ccq.publish import current_snapshot
from ccq.settings import PROJECT_ROOT, Paths
from tests.conftest import FIXTURES, HAND_BUILT_NOW, run_pipeline, sorted_rows

# Its own worker: the day of trouble is the longest scenario, and the other tests of the session
# fixture `hand_built` (the clean load compared with, built once per run) run beside it.
pytestmark = pytest.mark.xdist_group("operations")

LANDING = FIXTURES / "hand_calls" / "landing"
ACD_0302 = "acd_queue_events/acd_queue_events_2026-03-02.csv"
ACD_0303 = "acd_queue_events/acd_queue_events_2026-03-03.csv"
ROSTER = "hr_roster/hr_roster_2026-03-02.csv"


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _use(home: Path) -> tuple[Paths, DagsterInstance]:
    """Point this process's runs at `home` (other tests of the worker point it elsewhere)."""
    paths = Paths(home).ensure()
    os.environ["CCQ_HOME"] = str(home)
    os.environ["CCQ_NOW"] = HAND_BUILT_NOW
    return paths, DagsterInstance.local_temp(str(home / "dagster"))


def _ccq(home: Path, *args: str, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("CCQ_HOME", "CCQ_DUCKDB_PATH", "DAGSTER_HOME")}
    env["CCQ_NOW"] = HAND_BUILT_NOW
    return subprocess.Popen([sys.executable, "-m", "orchestration.cli", "--home", str(home), *args], cwd=PROJECT_ROOT, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def _wait_until_dbt_writes(instance: DagsterInstance, proc: subprocess.Popen, timeout: float = 900) -> str:
    """Poll the run history until the refresh run has recorded a dbt model; returns its name."""
    raw = {raw_key(t) for t in tables()}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the refresh ended before dbt started"
        for run in instance.get_runs(filters=RunsFilter(job_name="refresh", statuses=[DagsterRunStatus.STARTED])):
            mats = [m for m in instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
                    if m.dagster_event.asset_key not in raw]
            if mats:
                return mats[-1].dagster_event.asset_key.to_user_string()
        time.sleep(0.2)
    raise AssertionError("dbt did not start in time")


def _pointer(paths: Paths) -> tuple[bytes, str]:
    pointer = (paths.publish_dir / "CURRENT.json").read_bytes()
    return pointer, _sha(current_snapshot(paths))


KPIS = "SELECT * EXCLUDE (as_of) FROM marts.kpi_values"  # as_of: when the newest file was loaded
FACTS = "SELECT * EXCLUDE (_loaded_at) FROM marts.fct_queue_intervals"
LEGS = "SELECT * FROM intermediate.int_contacts__queue_legs"


@pytest.fixture(scope="module")
def trouble(tmp_path_factory):
    home = tmp_path_factory.mktemp("operations_home")
    seen = SimpleNamespace()

    # 1. First delivery, with mistakes, and without 03-03.
    first = home / "first_delivery"
    (first / "acd_queue_events").mkdir(parents=True)
    (first / "hr_roster").mkdir()
    day2 = (LANDING / ACD_0302).read_text()
    wrong = day2.replace("e0102,c01,1,2026-03-02T08:00:10Z", "e0102,c01,1,2026-03-02T08:00:40Z") + (
        "e9901,c99,1,2026-03-02T10:00:00Z,ENTERQUEUE,Q_GENERAL,,+447700900099,,\n"
        "e9902,c99,1,2026-03-02T10:00:30Z,ABANDON,Q_GENERAL,,,,\n")
    (first / ACD_0302).write_text(wrong)
    shutil.copy(LANDING / ROSTER, first / ROSTER)
    paths, seen.first = run_pipeline(home, first, HAND_BUILT_NOW)

    # 2. The corrections and the late day arrive; the roster arrives again, same bytes.
    shutil.copy(LANDING / ACD_0302, paths.landing / ACD_0302)
    shutil.copy(LANDING / ACD_0303, paths.landing / ACD_0303)
    shutil.copy(LANDING / ROSTER, paths.landing / ROSTER)
    paths, instance = _use(home)
    before = status(paths, instance)
    seen.waiting_before, seen.uncertified_before = before["waiting"], before["uncertified"]
    seen.before_kill = _pointer(paths)
    proc = _ccq(home, "refresh", log=home / "killed_refresh.log")
    try:
        seen.killed_after = _wait_until_dbt_writes(instance, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the refresh and its dbt, as a crash would
        proc.wait()
    seen.kill_returncode = proc.returncode
    seen.after_kill = _pointer(paths)
    seen.snapshot_rows_after_kill = sorted_rows(str(current_snapshot(paths)), "SELECT count(*) FROM marts.kpi_values")[0][0]
    con = duckdb.connect(str(paths.warehouse))  # read-write: replays what the killed run left in the WAL
    try:
        seen.reconciliation = con.execute(
            """SELECT f.table_name, sum(f.rows_loaded), (SELECT count(*) FROM raw.acd_queue_events)
               FROM audit.load_files f WHERE f.table_name = 'acd_queue_events' GROUP BY 1""").fetchall()
        con.execute("CHECKPOINT")
        # 3. Break the warehouse under dbt: the staging model reads raw.acd_queue_events.detail.
        con.execute("ALTER TABLE raw.acd_queue_events RENAME COLUMN detail TO detail_withheld")
    finally:
        con.close()
    seen.failed_build = run_refresh(instance, paths, days=[])  # nothing to load: the build alone
    seen.after_failure = _pointer(paths)
    con = duckdb.connect(str(paths.warehouse))
    con.execute("ALTER TABLE raw.acd_queue_events RENAME COLUMN detail_withheld TO detail")
    con.close()

    # 4. Recovery while the app reads.
    reads = SimpleNamespace(count=0, errors=[], snapshots=set())
    stop = threading.Event()

    def app_reads():
        while not stop.is_set():
            try:
                snap = str(current_snapshot(paths))
                with duckdb.connect(snap, read_only=True) as con:
                    con.execute("SELECT kpi, sum(numerator) FROM marts.kpi_values GROUP BY kpi").fetchall()
                reads.count += 1
                reads.snapshots.add(Path(snap).name)
            except Exception as e:  # noqa: BLE001 - any error is what this test looks for
                reads.errors.append(repr(e))
            time.sleep(0.02)

    reader = threading.Thread(target=app_reads, daemon=True)
    reader.start()
    proc = _ccq(home, "refresh", log=home / "recovery_refresh.log")
    seen.recovery_returncode = proc.wait(timeout=900)
    deadline = time.monotonic() + 10  # let the reader open the new snapshot once too
    while current_snapshot(paths).name not in reads.snapshots and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    reader.join(timeout=30)
    seen.reads = reads
    seen.recovery_log = (home / "recovery_refresh.log").read_text()
    seen.recovered = str(current_snapshot(paths))
    seen.legs_after_recovery = sorted_rows(str(paths.warehouse), LEGS)
    seen.still_started = instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED]))
    status_out = subprocess.run([sys.executable, "-m", "orchestration.cli", "--home", str(home), "status"], cwd=PROJECT_ROOT,
                                capture_output=True, text=True, timeout=300,
                                env={k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"})
    seen.status = status_out.stdout + status_out.stderr

    # 5. Re-run both partitions, and rebuild the incremental models from scratch.
    paths, instance = _use(home)
    ok, seen.rerun = run_refresh(instance, paths, ["2026-03-02", "2026-03-03"], full_refresh=True)
    assert ok, seen.rerun
    seen.legs_after_rerun = sorted_rows(str(paths.warehouse), LEGS)
    seen.paths = paths
    return seen


def test_status_lists_waiting_files_and_uncertified_periods(trouble):
    # The corrected 03-02 and the late 03-03 wait; the roster, same bytes again, does not.
    assert trouble.waiting_before == [("2026-03-02", [ACD_0302]), ("2026-03-03", [ACD_0303])]
    reasons = {(grain, str(period)): why for grain, period, why in trouble.uncertified_before}
    assert "acd_queue_events extract missing for 2026-03-03" in reasons[("week", "2026-03-02")]


def test_killed_refresh_leaves_the_published_snapshot_alone(trouble):
    assert trouble.kill_returncode == -signal.SIGKILL, trouble.killed_after
    assert trouble.after_kill == trouble.before_kill  # pointer and snapshot bytes
    assert trouble.snapshot_rows_after_kill == trouble.first["kpi_rows"]  # still opens, read-only


def test_killed_refresh_leaves_a_consistent_warehouse(trouble):
    # The load had committed before dbt started: raw rows reconcile with the audit of the files.
    ((table, loaded, in_raw),) = trouble.reconciliation
    assert loaded == in_raw == 53


def test_failed_model_publishes_nothing_and_says_which_and_why(trouble):
    ok, message = trouble.failed_build
    assert ok is False
    assert "model.ccq.stg_acd__queue_events" in message
    assert "detail" in message  # the column it could not find
    assert trouble.after_failure == trouble.before_kill


def test_next_refresh_recovers_while_the_app_reads(trouble):
    assert trouble.recovery_returncode == 0, trouble.recovery_log
    assert "published" in trouble.recovery_log
    assert "was interrupted" in trouble.recovery_log  # the killed run is closed, as failed
    assert trouble.still_started == []
    assert trouble.recovered != str(trouble.first["snapshot"])
    assert trouble.reads.errors == []
    assert trouble.reads.count > 20
    # The reader saw the old snapshot and then the new one: swapped under it, never blocked.
    assert {Path(trouble.first["snapshot"]).name, Path(trouble.recovered).name} <= trouble.reads.snapshots


def test_corrected_and_late_files_give_the_clean_load(trouble, hand_built):
    _, clean = hand_built
    assert sorted_rows(trouble.recovered, KPIS) == sorted_rows(clean["snapshot"], KPIS)
    assert sorted_rows(trouble.recovered, FACTS) == sorted_rows(clean["snapshot"], FACTS)
    # c99 was dropped by the re-delivery; c12's leg spans 03-02 and the late 03-03 file.
    legs = {(r[0], r[1]): r for r in trouble.legs_after_recovery}
    assert ("c99", 1) not in legs
    assert legs[("c12", 1)][10] is not None  # connected_at, from the late file


def test_status_shows_runs_failures_and_certification(trouble):
    out = trouble.status
    assert "refresh" in out and "2026-03-02..2026-03-03" in out  # the job and the days it loaded
    assert "stg_acd__queue_events" in out  # the failed model and why
    assert "interrupted" in out  # the killed run
    assert "Waiting: nothing" in out
    assert "service_level" in out and "2026-03-02" in out  # certified through


def test_rerun_and_full_refresh_give_identical_results(trouble):
    # as_of included: the same bytes are not loaded again, so even the load times stay.
    assert sorted_rows(trouble.rerun["snapshot"], KPIS.replace(" EXCLUDE (as_of)", "")) == \
        sorted_rows(trouble.recovered, KPIS.replace(" EXCLUDE (as_of)", ""))
    assert sorted_rows(trouble.rerun["snapshot"], "SELECT * FROM marts.fct_queue_intervals") == \
        sorted_rows(trouble.recovered, "SELECT * FROM marts.fct_queue_intervals")
    assert trouble.legs_after_rerun == trouble.legs_after_recovery
