"""Resources, in one place: the warehouse (CCQ_HOME) and the dbt CLI."""

import sys
from contextlib import contextmanager
from functools import cached_property
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Iterator

import duckdb
from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource, DbtProject
from dagster_dbt.dbt_project import using_dagster_dev
from packaging.version import Version

from ccq.ingest import ensure_warehouse
from ccq.fingerprint import files_fingerprint, manifest_stale, remember_manifest
from ccq.settings import DBT_PROJECT_DIR, Paths, ccq_home, engine, spark_dbt_executable

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# The dbt beside this Python, so an unactivated virtualenv needs nothing on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")


class DbtResource(DbtCliResource):
    """dagster-dbt's dbt CLI, without two costs it pays before every invocation that buy nothing
    here (4.5 s of a refresh's 45 on the hand-built fixture):

    - `dbt --version` in a subprocess, to learn the version: the dbt beside this Python
      (DBT_EXECUTABLE) is the installed dbt-core.
    - a dbt adapter in this process, with the project's macros loaded (2 s per invocation): it
      serves only the column metadata and row counts that `fetch_column_metadata` and
      `fetch_row_counts` add, and no asset asks for them. Without it dagster-dbt streams the
      events as they come (with it, on DuckDB, only after dbt has ended).

    Both are private methods of dagster-dbt (pinned in constraints.txt); tests/test_orchestration.py
    fails if an upgrade renames them."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None

    def cli(self, args, **kwargs):
        # The engine is the process's CCQ_ENGINE when dbt runs, as the working folder is its
        # CCQ_HOME: on Spark, dbt is ccq.spark's (its environment, `--target spark`; the same pins).
        # A resource that names its target (the parse: target duckdb) keeps it.
        if engine() == "spark" and self.target is None:
            spark = DbtResource(project_dir=self.project_dir, profiles_dir=self.profiles_dir,
                                dbt_executable=str(spark_dbt_executable()), target="spark")
            return spark.cli(args, **kwargs)
        return super().cli(args, **kwargs)


def dbt_resource(target: str | None = None) -> DbtCliResource:
    return DbtResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE, target=target)


def prepare_manifest() -> None:
    """Parse the dbt project when its manifest is missing or stale (ccq.fingerprint). The command
    line calls this before it loads the Definitions, the test session once before its workers
    start, and `dagster dev` on every code load; no import parses."""
    fingerprint = files_fingerprint()
    if manifest_stale(dbt_project.manifest_path, fingerprint):
        # The asset graph is the same on both engines: parsed with the embedded one.
        dbt_resource(target="duckdb").cli(["parse", "--quiet"], target_path=dbt_project.target_path).wait()
        remember_manifest(fingerprint)


class WarehouseResource(ConfigurableResource):
    """The embedded DuckDB warehouse under CCQ_HOME. One writer at a time: every step opens
    its connection for as long as it needs it and closes it before dbt runs.

    The working folder is the process's CCQ_HOME and nothing else: dagster-dbt hands dbt the
    process's environment and takes no other, and the dbt profile finds the warehouse (and the
    personal-data key) through it. A second setting here could point the two at different files."""

    @property
    def paths(self) -> Paths:
        return Paths(ccq_home()).ensure()

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = duckdb.connect(str(self.paths.warehouse))
        try:
            ensure_warehouse(con)
            yield con
        finally:
            con.close()


def default_resources() -> dict:
    return {
        "warehouse": WarehouseResource(),
        "dbt": dbt_resource(),
    }


# `dagster dev` loads this code afresh on every reload, while its files are being edited: parse then
# (dagster-dbt's prepare_if_dev pattern). Any other import only reads the manifest.
if using_dagster_dev():
    prepare_manifest()
