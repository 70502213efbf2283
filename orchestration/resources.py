"""Resources, in one place: the warehouse (CCQ_HOME) and the dbt CLI."""

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource, DbtProject
from dagster_dbt.dbt_project import using_dagster_dev

from ccq.ingest import ensure_warehouse
from ccq.settings import DBT_PROJECT_DIR, SEEDS_DIR, Paths, ccq_home

# dagster-dbt looks for `dbt` on PATH; run from an unactivated virtualenv it is beside python.
_bin = str(Path(sys.executable).parent)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _manifest_is_stale() -> bool:
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [DBT_PROJECT_DIR / "dbt_project.yml", *DBT_PROJECT_DIR.glob("models/**/*"),
               *DBT_PROJECT_DIR.glob("macros/**/*"), *DBT_PROJECT_DIR.glob("tests/**/*"), *SEEDS_DIR.glob("*")]
    return any(p.stat().st_mtime > built for p in sources if p.is_file())


# A fresh clone has no manifest, and an edited model makes it stale: parse before the dbt
# assets are defined from it (`dagster dev` re-parses on every load anyway).
if using_dagster_dev() or _manifest_is_stale():
    dbt_project.preparer.prepare(dbt_project)


class WarehouseResource(ConfigurableResource):
    """The embedded DuckDB warehouse under CCQ_HOME. One writer at a time: every step opens
    its connection for as long as it needs it and closes it before dbt runs."""

    home: str = ""  # empty: CCQ_HOME at run time (else the project's .ccq folder)

    @property
    def paths(self) -> Paths:
        return Paths(ccq_home(self.home or None)).ensure()

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = duckdb.connect(str(self.paths.warehouse))
        try:
            ensure_warehouse(con)
            yield con
        finally:
            con.close()

    def export_dbt_env(self) -> None:
        # profiles.yml reads the warehouse path from the environment of the dbt subprocess, and its
        # plugin ccq.pii_plugin the personal-data key of the same working folder (CCQ_HOME/secrets).
        os.environ["CCQ_DUCKDB_PATH"] = str(self.paths.warehouse)
        os.environ["CCQ_HOME"] = str(self.paths.home)


def default_resources() -> dict:
    return {
        "warehouse": WarehouseResource(),
        "dbt": DbtCliResource(project_dir=dbt_project),
    }
