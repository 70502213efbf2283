"""dbt models as Dagster assets, in two steps around the mart validation:

1. warehouse_models: staging, intermediate and the facts (everything not tagged
   `certification`); dbt data tests become asset checks, and their outcomes are stored in
   audit.check_results with the raw tables in their lineage.
2. certified_kpis: the `certification`-tagged models (kpi_certification, kpi_values), built
   after every check of the run has been recorded. Their tests are the publish checks: those
   with severity error (a value that is not its parts, a part not published, a certified value
   that is implausible) fail the step, so nothing is published and the app keeps the last good
   snapshot.
"""

import os
import shutil
import time
from pathlib import Path
from typing import Any, Mapping

from dagster import AssetExecutionContext, Config, Failure, Output
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_dbt.asset_utils import get_manifest_and_translator_from_dbt_assets
from pydantic import Field

from ccq.quality import record_dbt_tests
from orchestration.resources import WarehouseResource, dbt_project

CERTIFICATION = "tag:certification"


class LayerTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


def _failed_nodes(run_results: dict) -> list[str]:
    # A data test "fails" only with severity error (the project's default is warn): those guard
    # the publish (kpi_values), like a model that does not build.
    return [
        f"{r['unique_id']}: {(r.get('message') or '').strip()[:500]}"
        for r in run_results.get("results", [])
        if r.get("status") in ("error", "runtime error", "fail")
    ]


class DbtBuildConfig(Config):
    full_refresh: bool = Field(
        default=False,
        description="Rebuild the incremental models (int_contacts__queue_legs, fct_queue_intervals) from scratch, as the nightly reconciliation does.",
    )


# dbt's artifacts and logs of each invocation go to the working folder (CCQ_HOME/dbt_target), never
# into the project. dbt parses only the files that changed since the saved parse state it is
# handed: the working folder's last one, else, in a new working folder, the project's own (made by
# prepare_manifest). The profile is the same for every working folder (ccq.warehouse_plugin opens
# the warehouse), so either serves; without one, a new working folder's first build parsed the
# whole project (4 s of the demo's main job).
PARTIAL_PARSE = "partial_parse.msgpack"
KEEP_RUNS = 4  # the target folders of the last runs stay, for their logs


def _target_path(root: Path, name: str) -> Path:
    target = root / name
    target.mkdir(parents=True, exist_ok=True)
    project_state = Path(dbt_project.manifest_path).parent / PARTIAL_PARSE
    state = next((f for f in (root / PARTIAL_PARSE, project_state) if f.exists()), None)
    if state:
        shutil.copyfile(state, target / PARTIAL_PARSE)
    for old in sorted((d for d in root.iterdir() if d.is_dir() and d != target), key=lambda d: d.stat().st_mtime)[:-KEEP_RUNS * 2]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def _keep_partial_parse(target: Path) -> None:
    state = target / PARTIAL_PARSE
    if state.exists():
        tmp = target.parent / f"{PARTIAL_PARSE}.{os.getpid()}.tmp"
        shutil.copyfile(state, tmp)
        os.replace(tmp, target.parent / PARTIAL_PARSE)


# dbt's models and tests as they end, every few seconds: a large build is not silent for minutes.
PROGRESS_EVERY_SECONDS = 5.0


def _with_progress(context: AssetExecutionContext, events, left_alone: frozenset[str] = frozenset()):
    """`left_alone`: the names of the selected nodes dbt is told to exclude."""
    total = (sum(_node_name(context, k) not in left_alone for k in context.selected_asset_keys)
             + sum(c.name not in left_alone for c in context.selected_asset_check_keys))
    done, said = 0, time.monotonic()
    for event in events:
        done += 1
        if time.monotonic() - said >= PROGRESS_EVERY_SECONDS:
            context.log.info(f"progress: dbt {done} of {total} models, seeds and tests done")
            said = time.monotonic()
        yield event
    context.log.info(f"progress: dbt {done} of {total} models, seeds and tests done")


def _node_name(context: AssetExecutionContext, key) -> str:
    return context.assets_def.specs_by_key[key].metadata["dagster_dbt/unique_id"].split(".")[-1]


def built_from_seeds_only(manifest: Mapping[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    """The seeds and the models computed from seeds alone (the KPI catalogue, its lineage, the
    time spine), and their tests: what they hold changes only with the project, which a changed
    project rebuilds whole. Excluding the nodes excludes their tests too (dbt's eager indirect
    selection); the tests' last outcomes stay recorded."""
    nodes = manifest["nodes"]
    static: dict[str, bool] = {}

    def from_seeds_only(uid: str) -> bool:
        if uid not in static:
            node = nodes.get(uid)  # sources are not nodes
            static[uid] = node is not None and (node["resource_type"] == "seed" or (
                node["resource_type"] == "model" and all(from_seeds_only(p) for p in node["depends_on"]["nodes"])))
        return static[uid]

    built = frozenset(n["name"] for uid, n in nodes.items() if n["resource_type"] in ("seed", "model") and from_seeds_only(uid))
    tests = frozenset(n["name"] for n in nodes.values() if n["resource_type"] == "test"
                      and any(p.split(".")[-1] in built for p in n["depends_on"]["nodes"]))
    return built, tests


def _unchanged(context: AssetExecutionContext, static: frozenset[str]):
    """What the steps after this one wait for, of what it did not rebuild: Dagster skips a step
    whose upstream outputs in the run were not all yielded."""
    for key in context.selected_asset_keys:
        if _node_name(context, key) in static:
            yield Output(None, output_name=context.assets_def.get_output_name_for_asset_key(key),
                         metadata={"unchanged": "built from seeds only; rebuilt when the project changes"})


def _build(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource, certifying: bool,
           full_refresh: bool = False, with_static: bool = True):
    # Unit tests check the SQL, not the data: they run in the test suite (tests/test_dbt_unit_tests.py),
    # not on every refresh.
    # dbt's file log at debug level (every statement it sends) cost a seventh of a build's CPU; the
    # statements are in the target folder's compiled and run SQL anyway.
    args = ["build", "--exclude-resource-type", "unit_test", "--log-level-file", "info",
            *(["--full-refresh"] if full_refresh else [])]
    static, static_tests = frozenset(), frozenset()
    if not with_static:
        # Each dbt node costs about 35 ms of dbt's own time, whatever its data: at the scale of a
        # day's refresh, nodes that cannot have changed are most of a refresh's cost.
        manifest, _, _ = get_manifest_and_translator_from_dbt_assets([context.assets_def])
        static, static_tests = built_from_seeds_only(manifest)
        args += ["--exclude", " ".join(sorted(static))]
    target = _target_path(warehouse.paths.dbt_target_dir, f"{context.op.name}-{context.run_id[:8]}")
    invocation = dbt.cli(args, context=context, raise_on_error=False, target_path=target)
    yield from _unchanged(context, static)  # first: Dagster wants a multi-asset's outputs in dependency order
    yield from _with_progress(context, invocation.stream(), static | static_tests)
    # The events end before the dbt process does; the warehouse is free once it has exited.
    succeeded = invocation.is_successful()
    _keep_partial_parse(target)
    run_results = invocation.get_artifact("run_results.json")
    manifest = invocation.get_artifact("manifest.json")
    with warehouse.connect() as con:
        # The checks of the certified scorecard come after its certification: they are recorded
        # against their models (no later certification reads them) and added to the run's report,
        # before a failure stops the publish.
        n = record_dbt_tests(con, context.run_id, run_results, manifest, by_lineage=not certifying)
        if certifying:
            from ccq.report import write_validation_report

            write_validation_report(con, warehouse.paths.reports, context.run_id)
    context.log.info(f"recorded {n} dbt test outcomes in audit.check_results")
    failed = _failed_nodes(run_results)
    if failed or not succeeded:
        raise Failure(description="dbt build failed; nothing will be published", metadata={"failed": "\n".join(failed) or "see dbt log"})


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    exclude=CERTIFICATION,
    name="warehouse_models",
    dagster_dbt_translator=LayerTranslator(),
)
def warehouse_models(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource,
                     config: DbtBuildConfig):
    from ccq.fingerprint import project_changed, project_fingerprint, remember_project

    # Rows built incrementally under other models, seeds or personal-data key are stale: start over.
    fingerprint = project_fingerprint()
    full_refresh = config.full_refresh or project_changed(warehouse.paths, fingerprint)
    if full_refresh:
        context.log.info("progress: full refresh of the incremental models")
    yield from _build(context, dbt, warehouse, certifying=False, full_refresh=full_refresh, with_static=full_refresh)
    remember_project(warehouse.paths, fingerprint)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select=CERTIFICATION,
    name="certified_kpis",
    dagster_dbt_translator=LayerTranslator(),
)
def certified_kpis(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    yield from _build(context, dbt, warehouse, certifying=True)
