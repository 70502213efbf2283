"""Sensors, schedules and the helpers they use, evaluated without the daemon (fast: no pipeline
run). The pipeline's own behaviour under faults is in test_operations.py."""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone

import duckdb
import pytest
from dagster import (
    DagsterEvent,
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    SkipReason,
    build_run_status_sensor_context,
    build_schedule_context,
    build_sensor_context,
    validate_run_config,
)

from ccq.fingerprint import project_changed, remember_project
from ccq.ingest.landing import changed_files
from orchestration.runs import FULL_REFRESH_TAG, THEN_BUILD_TAG, build_run_config, load_blocks
from ccq.settings import Paths
from orchestration.definitions import defs
from orchestration.resources import WarehouseResource
from tests.conftest import FIXTURES

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


@pytest.fixture
def home(tmp_path):
    shutil.copytree(FIXTURES / "hand_calls" / "landing", tmp_path / "landing")
    (tmp_path / "dagster").mkdir()
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


def test_load_blocks_follow_the_order_partitions_were_added_in():
    # Dynamic partitions keep insertion order: a late day comes after later days.
    assert load_blocks([], ["2026-03-03", "2026-03-02"]) == [["2026-03-02", "2026-03-03"]]
    known = ["2026-03-02", "2026-03-03", "2026-03-05"]
    assert load_blocks(known, ["2026-03-04"]) == [["2026-03-04"]]
    assert load_blocks(known, ["2026-03-05", "2026-03-04"]) == [["2026-03-05", "2026-03-04"]]
    assert load_blocks(known, ["2026-03-02", "2026-03-05"]) == [["2026-03-02"], ["2026-03-05"]]


def test_sensor_requests_each_new_file_set_once_and_registers_its_days(home):
    instance = _instance(home)
    sensor = defs.resolve_sensor_def("landing_files_sensor")
    resources = {"warehouse": WarehouseResource(home=str(home))}

    first = sensor(build_sensor_context(instance=instance, resources=resources))
    assert [r.partition_keys for r in first.dynamic_partitions_requests] == [["2026-03-02", "2026-03-03"]]
    (request,) = first.run_requests
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2026-03-02", "2026-03-03")
    assert request.tags[THEN_BUILD_TAG]  # build_after_load builds after it
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


def test_sensor_loads_a_late_day_on_its_own(home):
    instance = _instance(home)
    instance.add_dynamic_partitions("extract_day", ["2026-03-03", "2026-03-04"])
    paths = Paths(home)
    _publish_fake_snapshot(home, [f for f in changed_files(paths, against="snapshot") if f.day != "2026-03-02"])
    result = defs.resolve_sensor_def("landing_files_sensor")(
        build_sensor_context(instance=instance, resources={"warehouse": WarehouseResource(home=str(home))}))
    assert [r.partition_keys for r in result.dynamic_partitions_requests] == [["2026-03-02"]]
    (request,) = result.run_requests
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2026-03-02", "2026-03-02")


def _load_run_finished(instance, tags):
    run = DagsterRun(job_name="load_extracts", run_id="0123abcd-load", tags=tags)
    event = DagsterEvent(event_type_value=DagsterEventType.RUN_SUCCESS.value, job_name="load_extracts")
    context = build_run_status_sensor_context(sensor_name="build_after_load", dagster_event=event,
                                              dagster_instance=instance, dagster_run=run)
    return defs.resolve_sensor_def("build_after_load")(context)


def test_build_follows_sensor_schedule_and_backfill_loads_only(home):
    instance = _instance(home)
    request = _load_run_finished(instance, {THEN_BUILD_TAG: "files-abc"})
    assert request.run_key == "build-files-abc"
    assert "ops" not in request.run_config  # incremental
    nightly = _load_run_finished(instance, {THEN_BUILD_TAG: "nightly-1", FULL_REFRESH_TAG: "true"})
    assert nightly.run_config["ops"]["warehouse_models"]["config"] == {"full_refresh": True}
    assert _load_run_finished(instance, {"dagster/backfill": "bf1"}).run_key == "build-bf1"
    # `ccq refresh` builds itself; the sensor stays out of it.
    assert isinstance(_load_run_finished(instance, {"ccq/trigger": "cli"}), SkipReason)


def test_build_config_is_valid_for_the_job():
    job = defs.resolve_job_def("build_and_publish")
    validate_run_config(job, build_run_config(full_refresh=True))
    validate_run_config(job, build_run_config(full_refresh=False))


def test_intraday_refreshes_today_and_nightly_reconciles_with_a_full_refresh(home):
    instance = _instance(home)
    resources = {"warehouse": WarehouseResource(home=str(home))}

    def tick(name, when):
        context = build_schedule_context(instance=instance, scheduled_execution_time=when, resources=resources)
        return defs.resolve_schedule_def(name).evaluate_tick(context)

    intraday = defs.resolve_schedule_def("intraday_refresh")
    assert intraday.cron_schedule == "*/15 * * * *" and intraday.execution_timezone == "UTC"
    (request,) = tick("intraday_refresh", datetime(2026, 3, 3, 10, 15, tzinfo=timezone.utc)).run_requests
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2026-03-03", "2026-03-03")
    assert request.tags[THEN_BUILD_TAG] and FULL_REFRESH_TAG not in request.tags
    assert "2026-03-03" in instance.get_dynamic_partitions("extract_day")
    assert tick("intraday_refresh", datetime(2026, 3, 9, 10, 15, tzinfo=timezone.utc)).skip_message  # no file today

    nightly = defs.resolve_schedule_def("nightly_reconciliation")
    assert nightly.cron_schedule == "0 3 * * *"
    (request,) = tick("nightly_reconciliation", datetime(2026, 3, 4, 3, 0, tzinfo=timezone.utc)).run_requests
    # 03-03 was registered first (by the intraday tick), so the range runs 03-03 .. 03-02.
    assert instance.get_dynamic_partitions("extract_day") == ["2026-03-03", "2026-03-02"]
    assert (request.tags[RANGE_START], request.tags[RANGE_END]) == ("2026-03-03", "2026-03-02")
    assert request.tags[FULL_REFRESH_TAG] == "true"


def test_a_changed_project_asks_for_a_full_refresh(tmp_path):
    paths = Paths(tmp_path).ensure()
    assert project_changed(paths)  # never built here
    remember_project(paths)
    assert not project_changed(paths)
    (paths.warehouse.parent / "dbt_project.sha256").write_text("built with other seeds")
    assert project_changed(paths)
