"""The KPI formulas live once, in the semantic layer (docs/semantic_layer.md). MetricFlow, querying
those definitions on its own, must give the values the scorecard published; `dbt docs generate`
documents every KPI."""
from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ccq.settings import DBT_PROJECT_DIR, SEEDS_DIR

pytestmark = pytest.mark.xdist_group("hand_built")

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def project(hand_built, tmp_path_factory):
    """A copy of the dbt project (mf reads the project's own target/ folder) on a copy of the
    hand-built warehouse."""
    paths, _ = hand_built
    work = tmp_path_factory.mktemp("semantic_layer")
    shutil.copy(paths.warehouse, work / "ccq.duckdb")
    project = work / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    shutil.copytree(SEEDS_DIR, work / "seeds")
    env = {**os.environ, "CCQ_DUCKDB_PATH": str(work / "ccq.duckdb"), "DBT_PROFILES_DIR": str(project)}
    subprocess.run([str(BIN / "dbt"), "parse", "-q"], cwd=project, env=env, check=True)
    return project, env


def _metricflow_by_day(project: Path, env: dict, metrics: list[str]) -> dict[tuple[str, str], float | None]:
    out = project.parent / "metricflow.csv"
    run = subprocess.run([str(BIN / "mf"), "query", "--metrics", ",".join(metrics),
                          "--group-by", "metric_time__day", "--csv", str(out)],
                         cwd=project, env=env, capture_output=True, text=True)
    assert out.exists(), run.stdout + run.stderr
    values = {}
    with out.open() as f:
        for row in csv.DictReader(f):
            day = row.pop("metric_time__day")[:10]
            for metric, value in row.items():
                values[(metric, day)] = float(value) if value not in ("", None) else None
    return values


def test_metricflow_agrees_with_the_scorecard(project, hand_built_snapshot):
    published = {
        (kpi, str(day)[:10]): value
        for kpi, day, value in hand_built_snapshot.execute(
            "SELECT kpi, period_start, value FROM marts.kpi_values WHERE grain = 'day' AND scope_type = 'all'").fetchall()
    }
    metricflow = _metricflow_by_day(*project, sorted({kpi for kpi, _ in published}))
    compared = set()
    for key, value in published.items():
        if value is None:
            continue
        assert key in metricflow, key
        # kpi_values' parts are rounded to a millionth (int_kpi_parts): hours and agents differ from MetricFlow's below that.
        assert math.isclose(metricflow[key], value, rel_tol=1e-5, abs_tol=1e-6), (key, metricflow[key], value)
        compared.add(key[0])
    assert {"offered", "service_level", "asa", "asa_p90", "longest_wait", "aht"} <= compared


def test_dbt_docs_document_every_kpi(project, hand_built_snapshot):
    project_dir, env = project
    subprocess.run([str(BIN / "dbt"), "docs", "generate", "-q"], cwd=project_dir, env=env, check=True)
    manifest = json.loads((project_dir / "target" / "manifest.json").read_text())
    catalog = json.loads((project_dir / "target" / "catalog.json").read_text())
    kpis = dict(hand_built_snapshot.execute("SELECT kpi, model FROM marts.kpi_catalogue").fetchall())
    assert len(kpis) >= 50
    for kpi, model in kpis.items():
        metric = manifest["metrics"][f"metric.ccq.{kpi}"]
        meta = metric["config"]["meta"]["ccq"]
        assert metric["description"] and metric["label"] and meta["label_zh"] and meta["formula"], kpi
        assert f"model.ccq.{model}" in catalog["nodes"], model
