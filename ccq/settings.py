"""Where things live. One setting decides where the working data goes: CCQ_HOME.

Layout of CCQ_HOME:
    landing/<table>/<table>_<YYYY-MM-DD>.csv   extracts as the source systems drop them
    warehouse/ccq.duckdb                      the writer's database (pipeline only)
    publish/                                  read-only snapshots for the app + CURRENT pointer
    reports/                                  validation reports (HTML/JSON) per run
    dagster/                                  DAGSTER_HOME: run history, logs
    secrets/pii.key                           key of the personal-data pseudonyms (ccq.pii), 0600
    dbt_target/                               dbt's artifacts and logs of the last runs
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
SEEDS_DIR = PROJECT_ROOT / "seeds"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
APP_DIR = PROJECT_ROOT / "app"
DEFAULT_HOME = PROJECT_ROOT / ".ccq"
# DuckDB's default memory limit is 80% of RAM, and a year of a large centre uses it (13.7 GB at
# M before this): past the budget DuckDB spills to disk instead. Every writer of the warehouse
# (loader, validation, publish) sets it, and so does dbt's connection (ccq.warehouse_plugin).
MEMORY_LIMIT = os.environ.get("CCQ_DUCKDB_MEMORY_LIMIT", "4GB")


ENGINES = ("duckdb", "spark")


def engine() -> str:
    """The engine dbt builds the warehouse on: CCQ_ENGINE (`ccq --engine`), default duckdb."""
    return os.environ.get("CCQ_ENGINE") or "duckdb"


def spark_python() -> Path:
    """The interpreter of the Spark engine (ccq.spark runs in it): an environment of its own with
    dbt-spark and pyspark (`./dev` makes .venv-spark), as on a cluster; CCQ_SPARK_PYTHON names another."""
    return Path(os.environ.get("CCQ_SPARK_PYTHON") or PROJECT_ROOT / ".venv-spark" / "bin" / "python")


def spark_dbt_executable() -> Path:
    """dbt on Spark as the pipeline runs it (ccq.spark.dbt_main), beside that interpreter."""
    return spark_python().parent / "ccq-spark-dbt"


@dataclass(frozen=True)
class Paths:
    home: Path

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse" / "ccq.duckdb"

    @property
    def publish_dir(self) -> Path:
        return self.home / "publish"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def secrets(self) -> Path:
        """Owner-only folder (0700) of this installation's keys; created by ccq.pii on first use,
        never published."""
        return self.home / "secrets"

    @property
    def dbt_target_dir(self) -> Path:
        return self.home / "dbt_target"

    def ensure(self) -> "Paths":
        for p in (self.landing, self.warehouse.parent, self.publish_dir, self.reports, self.dagster_home):
            p.mkdir(parents=True, exist_ok=True)
        instance_yaml = self.dagster_home / "dagster.yaml"
        if not instance_yaml.exists():
            # Nothing may call out at run time; keep run history and logs local. The daemon of
            # `ccq dagster` runs one run at a time: DuckDB has one writer.
            instance_yaml.write_text("telemetry:\n  enabled: false\nrun_queue:\n  max_concurrent_runs: 1\n",
                                     encoding="utf-8")
        return self


def ccq_home(override: str | os.PathLike | None = None) -> Path:
    """--home beats CCQ_HOME beats the project's git-ignored .ccq folder."""
    value = override or os.environ.get("CCQ_HOME") or DEFAULT_HOME
    return Path(value).expanduser().resolve()


def paths(override: str | os.PathLike | None = None) -> Paths:
    return Paths(ccq_home(override))


def dbt_warehouse() -> Path:
    """The DuckDB file dbt works on (ccq.warehouse_plugin): CCQ_DUCKDB_PATH, relative to the
    current folder (a copy of a warehouse, in tests), else the working folder's."""
    override = os.environ.get("CCQ_DUCKDB_PATH")
    return Path(override).resolve() if override else paths().warehouse
