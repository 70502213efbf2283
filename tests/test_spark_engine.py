"""The same dbt project on Apache Spark gives the same numbers as on DuckDB (issue 18).

The hand-built centre's warehouse (tests/fixtures/hand_calls, built through the pipeline on
DuckDB) is shipped to a local Spark session (`python -m ccq.spark --ship`: the raw extracts
and the load audit, as parquet tables), and dbt builds every seed and model there, with every
unit test, `--target spark`. The Spark marts are parquet files DuckDB reads, so every row of
`kpi_values` is compared with DuckDB's: every KPI, grain, period and scope, every column.

Tolerance, named: FLOAT_TOLERANCE, relative, for the floating-point columns only. The engines
sum doubles in different orders (Spark by partition), so a ratio may differ in its last bits;
counts, texts, flags and timestamps must be equal.
"""
from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import subprocess

import duckdb
import pytest

from ccq.settings import spark_python

pytestmark = pytest.mark.xdist_group("spark")

FLOAT_TOLERANCE = 1e-9
KEY = ("kpi", "grain", "period_start", "scope_type", "scope_id")


@pytest.fixture(scope="module")
def spark_build(hand_built, tmp_path_factory):
    if shutil.which("java") is None or not spark_python().is_file():
        pytest.fail("the Spark engine needs Java 17 and its environment: ./dev test installs both")
    paths, _ = hand_built
    home = tmp_path_factory.mktemp("spark_home")
    (home / "warehouse").mkdir()
    shutil.copy(paths.warehouse, home / "warehouse" / "ccq.duckdb")
    # The pseudonyms must be the same as DuckDB's: the same key.
    shutil.copytree(paths.secrets, home / "secrets")
    env = {**os.environ, "CCQ_HOME": str(home), "CCQ_SPARK_MASTER": "local[2]"}
    env.pop("CCQ_DUCKDB_PATH", None)
    run = subprocess.run(
        [str(spark_python()), "-m", "ccq.spark", "--ship", "build", "--exclude", "resource_type:test",
         "--target-path", str(home / "dbt_target")],
        env=env, cwd=home, capture_output=True, text=True, timeout=1500)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-6000:]
    return home, log


def _kpi_values(con: duckdb.DuckDBPyConnection, relation: str) -> dict[tuple, dict]:
    rows = con.execute(f"select * from {relation}")
    columns = [d[0] for d in rows.description]
    out = {}
    for row in rows.fetchall():
        record = dict(zip(columns, row))
        out[tuple(record[k] for k in KEY)] = record
    return out


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is None and b is None
        return math.isclose(a, b, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)
    return a == b


def test_every_model_and_unit_test_builds_on_spark(spark_build):
    home, log = spark_build
    assert "shipped raw.acd_queue_events: 53 rows" in log
    assert "shipped audit.load_files: 3 rows" in log
    # Every seed and model, and every unit test (hand-computed expectations) passes on Spark.
    done = [line for line in log.splitlines() if "Done. PASS=" in line][-1]
    assert "ERROR=0" in done and "SKIP=0" in done, done


def test_kpi_values_are_the_same_on_both_engines(spark_build, hand_built_snapshot):
    home, _ = spark_build
    files = next((home / "spark" / "warehouse" / "marts.db" / "kpi_values").glob("*.parquet")).parent
    con = duckdb.connect()
    spark = _kpi_values(con, f"read_parquet('{files}/*.parquet')")
    duck = _kpi_values(hand_built_snapshot, "marts.kpi_values")
    assert len(duck) == 2064
    assert spark.keys() == duck.keys()
    columns = set(next(iter(duck.values())))
    assert set(next(iter(spark.values()))) == columns
    differences = [(key, column, duck[key][column], spark[key][column])
                   for key in duck for column in sorted(columns)
                   if not _same(duck[key][column], spark[key][column])]
    assert differences == []
    # Hand-computed values (tests/test_kpis_hand_built.py), read from Spark's own table.
    day = dt.datetime(2026, 3, 2)
    assert spark[("service_level", "day", day, "queue", "Q_GENERAL")]["numerator"] == 3
    assert spark[("service_level", "day", day, "queue", "Q_GENERAL")]["denominator"] == 7
    assert spark[("asa_median", "day", day, "queue", "Q_PREMIUM")]["value"] == pytest.approx(8, abs=1e-12)
    assert spark[("asa_p90", "day", day, "all", "*")]["value"] == pytest.approx(26, abs=1e-12)
