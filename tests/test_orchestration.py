"""The Dagster definitions load, show the whole graph, and (through the session fixture)
materialise it against a temporary DuckDB."""
from __future__ import annotations

import pytest
from dagster import AssetKey, DagsterInstance

from orchestration.definitions import defs


def test_definitions_hold_every_layer():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"acd/acd_queue_events", "hr/hr_roster", "finance/finance_costs"} <= keys  # raw, one per table
    assert len([k for k in keys if k.split("/")[0] in {"pbx", "acd", "ivr", "crm", "survey", "qa", "wfm", "hr", "finance"}]) == 16
    assert any(k.endswith("fct_queue_intervals") for k in keys)
    assert any(k.endswith("kpi_values") for k in keys)
    assert {"audit/check_results", "published_snapshot", "owner_digests"} <= keys
    checks = {c.name for c in graph.asset_check_keys}
    assert {"kpi_values_value_matches_parts", "gx_raw_acd_queue_events", "reconciles"} <= checks
    assert any(name.startswith("unique_stg_acd__queue_events") for name in checks)  # dbt tests as checks
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"refresh"}


def test_kpis_wait_for_the_checks_of_the_models():
    graph = defs.resolve_asset_graph()
    fct = next(k for k in graph.get_all_asset_keys() if k.path[-1] == "fct_queue_intervals")
    kpi = next(k for k in graph.get_all_asset_keys() if k.path[-1] == "kpi_values")
    ancestors = graph.get(kpi).parent_keys
    seen, stack = set(), list(ancestors)
    while stack:
        k = stack.pop()
        if k not in seen:
            seen.add(k)
            stack.extend(graph.get(k).parent_keys)
    assert fct in seen and AssetKey(["audit", "check_results"]) in seen
    # The parts' checks are dbt tests of the build before it (warehouse_models).
    parts = next(k for k in graph.get_all_asset_keys() if k.path[-1] == "int_kpi_parts")
    assert parts in seen and [c for c in graph.asset_check_keys if c.name == "int_kpi_parts_intervals_add_up_to_days"]


@pytest.mark.xdist_group("hand_built")
def test_runs_are_recorded_in_the_home_dagster_instance(hand_built):
    paths, info = hand_built
    instance = DagsterInstance.local_temp(str(paths.home / "dagster"))
    (run,) = instance.get_runs()
    assert run.job_name == "refresh" and run.tags["ccq/days"] == "2026-03-02..2026-03-03"
    assert run.tags["ccq/trigger"] == "cli"
    # Its output went to its own log file, not through Dagster's compute-log mirror, whose `tail`
    # process is stopped when the run ends and can lose the run's last lines.
    assert not list((paths.home / "dagster").rglob("compute_logs"))
    assert (info["rows_read"], info["rows_loaded"]) == (50 + 3 + 4, 57)  # ACD lines + roster lines, none quarantined


def test_a_failing_error_test_or_model_stops_the_build_and_a_warning_does_not():
    from orchestration.dbt_models import _failed_nodes

    results = {"results": [
        {"unique_id": "test.ccq.kpi_values_value_matches_parts", "status": "fail", "message": "Got 1 result"},
        {"unique_id": "test.ccq.fct_interval_length", "status": "warn", "message": "Got 2 results"},
        {"unique_id": "model.ccq.kpi_values", "status": "success"},
        {"unique_id": "model.ccq.fct_queue_intervals", "status": "error", "message": "Binder Error"},
    ]}
    assert _failed_nodes(results) == ["test.ccq.kpi_values_value_matches_parts: Got 1 result",
                                      "model.ccq.fct_queue_intervals: Binder Error"]


def test_the_dbt_resource_overrides_what_dagster_dbt_still_calls(monkeypatch):
    """orchestration.resources.DbtResource replaces two private methods of dagster-dbt (the
    `dbt --version` subprocess and the in-process adapter): if an upgrade renames them, the
    overrides would silently stop saving their 4.5 s per refresh."""
    import subprocess

    from dagster_dbt import DbtCliResource

    from orchestration.resources import DbtResource, dbt_resource

    for name in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert name in vars(DbtCliResource), f"dagster-dbt no longer has DbtCliResource.{name}"
        assert name in vars(DbtResource)
    resource = dbt_resource()
    assert isinstance(resource, DbtResource)

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"a subprocess was started: {args}")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    monkeypatch.setattr(subprocess, "check_output", no_subprocess)
    from importlib.metadata import version

    assert str(resource._cli_version) == version("dbt-core")
    assert resource._initialize_dbt_core_adapter(["build"]) is None


def test_a_new_working_folder_starts_from_the_projects_parse_state(tmp_path):
    """dbt parses only what changed since the state it is handed: a new working folder's first
    build gets the project's (prepare_manifest made it before the tests), a later one the folder's own."""
    from pathlib import Path

    from orchestration.dbt_models import PARTIAL_PARSE, _target_path
    from orchestration.resources import dbt_project

    project_state = (Path(dbt_project.manifest_path).parent / PARTIAL_PARSE).read_bytes()
    first = _target_path(tmp_path, "warehouse_models-1")
    assert (first / PARTIAL_PARSE).read_bytes() == project_state
    (tmp_path / PARTIAL_PARSE).write_bytes(b"the folder's own")
    assert (_target_path(tmp_path, "certified_kpis-1") / PARTIAL_PARSE).read_bytes() == b"the folder's own"


@pytest.mark.xdist_group("hand_built")
def test_the_dbt_steps_report_their_progress(hand_built):
    import json
    import re
    from pathlib import Path

    paths, info = hand_built
    log = Path(info["log"]).read_text(encoding="utf-8")
    # dbt's own output lines reach the log as they come, so lines may fall between a step's last
    # progress message and its end: take the last progress message before each step's end.
    ends, last = [], None
    for line in log.splitlines():
        if said := re.search(r"dbt (\d+) of (\d+) models, seeds and tests done$", line):
            last = said.groups()
        elif (step_end := re.fullmatch(r"\s+(\w+) done \(.*\)", line)) and last:
            ends.append((*last, step_end.group(1)))
            last = None
    # Each dbt step ends by saying that every model, seed and test it selected has ended: as many
    # as dbt's own record of the invocation holds.
    ran = {step: len(json.loads((paths.dbt_target_dir / f"{step}-{info['run_id'][:8]}" / "run_results.json")
                                .read_text(encoding="utf-8"))["results"]) for _, _, step in ends}
    assert [(step, int(done), int(total)) for done, total, step in ends] == [
        ("warehouse_models", ran["warehouse_models"], ran["warehouse_models"]),
        ("certified_kpis", ran["certified_kpis"], ran["certified_kpis"])]


@pytest.mark.xdist_group("hand_built")
def test_the_refresh_writes_the_owners_digests_after_the_publish(hand_built):
    from ccq import digest

    paths, info = hand_built
    # what the published snapshot holds for its last day, as ccq.digest reads it
    expected = sorted(d.file_name for d in digest.build(paths))
    written = sorted(p.name for p in (paths.reports / "digests").rglob("*.html"))
    assert written == expected and info["digests"] == len(expected)
    assert (info["digests_sent"], info["smtp"], info["digest_error"]) == (0, "", "")  # no mail server configured
