"""The sensor and the schedules of the one `refresh` job, and the helpers they use, evaluated without the daemon (fast: no pipeline
run). The pipeline's own behaviour under faults is in test_operations.py."""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone

import duckdb
import pytest
from dagster import DagsterInstance, SkipReason, build_schedule_context, build_sensor_context, validate_run_config

from ccq.fingerprint import project_changed, remember_project
from ccq.ingest.landing import changed_files
from orchestration.runs import DAYS_TAG, FULL_REFRESH_TAG, refresh_config
from ccq.settings import Paths
from orchestration.definitions import defs
from orchestration.resources import WarehouseResource
from tests.conftest import FIXTURES

@pytest.fixture
def home(tmp_path, monkeypatch):
    shutil.copytree(FIXTURES / "hand_calls" / "landing", tmp_path / "landing")
    (tmp_path / "dagster").mkdir()
    monkeypatch.setenv("CCQ_HOME", str(tmp_path))  # the one setting of a process's working folder
    return tmp_path


def _instance(home) -> DagsterInstance:
    return DagsterInstance.local_temp(str(home / "dagster"))


def _publish_fake_snapshot(home, files) -> None:
    """A snapshot that holds exactly `files` (LandingFile) in audit.load_files."""
    paths = Paths(home).ensure()
    snap = paths.publish_dir / "ccq-test.duckdb"
    con = duckdb.connect(str(snap))
    con.execute("CREATE SCHEMA audit")
    con.execute("CREATE TABLE audit.load_files (file_id VARCHAR, sha256 VARCHAR)")
    con.executemany("INSERT INTO audit.load_files VALUES (?, ?)", [(f.file_id, f.sha256) for f in files])
    con.close()
    (paths.publish_dir / "CURRENT.json").write_text(json.dumps({"snapshot": snap.name, "published_at": "now"}))


def test_sensor_requests_each_new_file_set_once(home):
    instance = _instance(home)
    sensor = defs.resolve_sensor_def("landing_files_sensor")
    resources = {"warehouse": WarehouseResource()}

    first = sensor(build_sensor_context(instance=instance, resources=resources))
    (request,) = first.run_requests
    assert request.job_name in (None, "refresh")
    # The run loads what the warehouse does not hold; the tags say which days were waiting.
    assert request.run_config == refresh_config() == {"ops": {"raw_extracts": {"config": {"days": None}}}}
    assert request.tags[DAYS_TAG] == "new and changed files" and request.tags["ccq/trigger"] == "sensor"
    # The same bytes give the same run key, so the daemon does not start them twice ...
    again = sensor(build_sensor_context(instance=instance, resources=resources))
    assert again.run_requests[0].run_key == request.run_key
    # ... and a changed file gives a new one.
    late = home / "landing" / "acd_queue_events" / "acd_queue_events_2026-03-03.csv"
    late.write_text(late.read_text() + "e1205,c12,1,2026-03-03T00:03:00Z,ACWEND,Q_GENERAL,A0003,,,\n")
    changed = sensor(build_sensor_context(instance=instance, resources=resources))
    assert changed.run_requests[0].run_key != request.run_key

    # Once a snapshot holds every file, nothing is waiting.
    _publish_fake_snapshot(home, changed_files(Paths(home), against="snapshot"))
    assert isinstance(sensor(build_sensor_context(instance=instance, resources=resources)), SkipReason)


def test_one_job_for_the_command_line_the_sensor_and_the_schedules():
    assert [j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")] == ["refresh"]
    assert defs.resolve_sensor_def("landing_files_sensor").job_name == "refresh"
    assert {defs.resolve_schedule_def(s).job_name for s in ("intraday_refresh", "nightly_reconciliation")} == {"refresh"}
    job = defs.resolve_job_def("refresh")
    for config in (refresh_config(), refresh_config(["2026-03-02"]), refresh_config(full_refresh=True),
                   refresh_config([], full_refresh=True)):
        assert validate_run_config(job, config)
    assert refresh_config(["2026-03-03", "2026-03-02"], full_refresh=True) == {"ops": {
        "raw_extracts": {"config": {"days": ["2026-03-02", "2026-03-03"]}},
        "warehouse_models": {"config": {"full_refresh": True}}}}


def test_intraday_refreshes_today_and_nightly_reconciles_with_a_full_refresh(home):
    instance = _instance(home)
    resources = {"warehouse": WarehouseResource()}

    def tick(name, when):
        context = build_schedule_context(instance=instance, scheduled_execution_time=when, resources=resources)
        return defs.resolve_schedule_def(name).evaluate_tick(context)

    intraday = defs.resolve_schedule_def("intraday_refresh")
    assert intraday.cron_schedule == "*/15 * * * *" and intraday.execution_timezone == "UTC"
    (request,) = tick("intraday_refresh", datetime(2026, 3, 3, 10, 15, tzinfo=timezone.utc)).run_requests
    assert request.run_config == refresh_config(["2026-03-03"])
    assert request.tags[DAYS_TAG] == "2026-03-03" and FULL_REFRESH_TAG not in request.tags
    assert tick("intraday_refresh", datetime(2026, 3, 9, 10, 15, tzinfo=timezone.utc)).skip_message  # no file today

    nightly = defs.resolve_schedule_def("nightly_reconciliation")
    assert nightly.cron_schedule == "0 3 * * *"
    (request,) = tick("nightly_reconciliation", datetime(2026, 3, 4, 3, 0, tzinfo=timezone.utc)).run_requests
    # Every file the warehouse does not hold, then a from-scratch build.
    assert request.run_config == refresh_config(full_refresh=True)
    assert request.run_config["ops"]["warehouse_models"]["config"] == {"full_refresh": True}
    assert request.tags[FULL_REFRESH_TAG] == "true" and request.run_key == "nightly-20260304"


def test_a_changed_project_asks_for_a_full_refresh(tmp_path):
    paths = Paths(tmp_path).ensure()
    assert project_changed(paths)  # never built here
    remember_project(paths)
    assert not project_changed(paths)
    (paths.warehouse.parent / "dbt_project.sha256").write_text("built with other seeds")
    assert project_changed(paths)
