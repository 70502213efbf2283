"""The same warehouse on Apache Spark gives the same numbers as on DuckDB (issue 18).

`ccq --engine spark refresh` runs the pipeline on the hand-built centre (tests/fixtures/hand_calls)
with dbt on a local Spark session: the loader, its contract and the raw GX suites as always, then
every seed, model and data test built on Spark (`ccq-spark-dbt`, --target spark), the tests'
outcomes recorded, the certification computed on Spark from them, and the marts published into
the app's DuckDB snapshot. Every row of that snapshot's `kpi_values` is compared with the one the
DuckDB pipeline published for the same files: every KPI, grain, period and scope, every column
but `as_of` (when each run loaded the files). Then every dbt unit test (hand-computed
expectations beside the models) runs on Spark too.

Tolerance, named: FLOAT_TOLERANCE, relative, for the floating-point columns only. The engines
sum doubles in different orders (Spark by partition), so a ratio may differ in its last bits;
counts, texts, flags, certification reasons and timestamps must be equal.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import subprocess
import sys

import duckdb
import pytest

from ccq.publish import current_snapshot
from ccq.settings import Paths, spark_dbt_executable
from tests.conftest import FIXTURES, HAND_BUILT_NOW

pytestmark = pytest.mark.xdist_group("spark")

FLOAT_TOLERANCE = 1e-9
KEY = ("kpi", "grain", "period_start", "scope_type", "scope_id")
# When each run loaded the files: the only column that differs between two runs.
RUN_COLUMNS = {"as_of"}


@pytest.fixture(scope="module")
def spark_home(hand_built, tmp_path_factory):
    if shutil.which("java") is None or not spark_dbt_executable().is_file():
        pytest.fail("the Spark engine needs Java 17 and its environment: ./dev test installs both")
    home = tmp_path_factory.mktemp("spark_home")
    shutil.copytree(FIXTURES / "hand_calls" / "landing", home / "landing")
    # The DuckDB run's personal-data key: the pseudonyms of both runs must be the same.
    shutil.copytree(hand_built[0].secrets, home / "secrets")
    env = {**os.environ, "CCQ_NOW": HAND_BUILT_NOW, "CCQ_SPARK_MASTER": "local[2]",
           "CCQ_SPARK_SHUFFLE_PARTITIONS": "2"}
    for name in ("CCQ_HOME", "CCQ_DUCKDB_PATH", "DAGSTER_HOME", "CCQ_ENGINE"):
        env.pop(name, None)
    run = subprocess.run([sys.executable, "-m", "orchestration.cli", "--home", str(home), "--engine", "spark", "refresh"],
                         env=env, capture_output=True, text=True, timeout=2400)
    assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]
    # What dbt printed (the run's log beside the working data).
    dbt_log = "\n".join(p.read_text(encoding="utf-8") for p in sorted((home / "logs").glob("refresh-*.log")))
    return Paths(home), env, dbt_log


def _kpi_values(con: duckdb.DuckDBPyConnection) -> dict[tuple, dict]:
    rows = con.execute("select * from marts.kpi_values")
    columns = [d[0] for d in rows.description]
    return {tuple(r[columns.index(k)] for k in KEY): dict(zip(columns, r)) for r in rows.fetchall()}


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)
    return a == b


def test_the_pipeline_on_spark_publishes_the_same_kpi_values(spark_home, hand_built_snapshot):
    paths, _, log = spark_home
    # dbt ran on Spark: the loader's tables were shipped, the served ones came back.
    assert "ccq: shipped raw.acd_queue_events to Spark: 53 rows" in log
    assert "served tables copied into the DuckDB warehouse" in log
    with duckdb.connect(str(current_snapshot(paths)), read_only=True) as con:
        spark = _kpi_values(con)
        spark_types = con.execute("describe marts.kpi_values").fetchall()
    duck = _kpi_values(hand_built_snapshot)
    assert len(duck) == 2064 and spark.keys() == duck.keys()
    assert spark_types == hand_built_snapshot.execute("describe marts.kpi_values").fetchall()
    differences = [(key, column, duck[key][column], spark[key][column])
                   for key in duck for column in duck[key]
                   if column not in RUN_COLUMNS and not _same(duck[key][column], spark[key][column])]
    assert differences == []
    # Hand-computed values (tests/test_kpis_hand_built.py), from the Spark run's snapshot.
    day = dt.datetime(2026, 3, 2)
    assert (spark[("service_level", "day", day, "queue", "Q_GENERAL")]["numerator"],
            spark[("service_level", "day", day, "queue", "Q_GENERAL")]["denominator"]) == (3, 7)
    assert spark[("asa_median", "day", day, "queue", "Q_PREMIUM")]["value"] == 8
    assert spark[("asa_p90", "day", day, "all", "*")]["value"] == pytest.approx(26, rel=FLOAT_TOLERANCE)
    assert sum(v["certified"] for v in spark.values()) == sum(v["certified"] for v in duck.values()) > 0


def test_the_certification_read_the_checks_spark_ran(spark_home, hand_built):
    """Every dbt test the DuckDB pipeline recorded ran on Spark too, on the same days, with the
    same outcome: what the certification reads."""
    paths, _, _ = spark_home
    sql = ("select check_name, partition_date, success, count(*) from audit.check_results "
           "where check_kind = 'dbt_test' group by all order by all")
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        on_spark = con.execute(sql).fetchall()
    with duckdb.connect(str(hand_built[0].warehouse), read_only=True) as con:
        on_duckdb = con.execute(sql).fetchall()
    assert len(on_spark) > 250 and on_spark == on_duckdb


SERVED = ("select table_schema, table_name, column_name from information_schema.columns "
          "where table_schema in ('marts', 'reference', 'restricted') order by all")


def test_every_served_table_comes_back_with_the_same_columns_and_pseudonyms(spark_home, hand_built):
    """What the publish, the digests and `ccq status` read: every table of the served schemas
    (the seeds' reference tables too), with DuckDB's columns; the keyed hashes are the same."""
    paths, _, _ = spark_home
    legs = "select contact_id, queue_leg, caller_number_hash, customer_id_hash from marts.fct_queue_legs order by all"
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        spark_columns, spark_legs = con.execute(SERVED).fetchall(), con.execute(legs).fetchall()
        decimals = con.execute("select count(*) from information_schema.columns where data_type like 'DECIMAL%' "
                               "and table_schema in ('marts', 'reference', 'restricted')").fetchone()[0]
    with duckdb.connect(str(hand_built[0].warehouse), read_only=True) as con:
        duck_columns, duck_legs = con.execute(SERVED).fetchall(), con.execute(legs).fetchall()
    assert spark_columns == duck_columns and len(spark_columns) > 500
    assert decimals == 0
    assert spark_legs == duck_legs and len(spark_legs) == 14
    assert all(len(row[2]) == 64 for row in spark_legs)


def test_every_unit_test_passes_on_spark(spark_home):
    paths, env, _ = spark_home
    target = paths.home / "dbt_target" / "unit_tests"
    run = subprocess.run([str(spark_dbt_executable()), "test", "--select", "test_type:unit", "--target-path", str(target)],
                         env={**env, "CCQ_HOME": str(paths.home)}, capture_output=True, text=True, timeout=1500)
    results = json.loads((target / "run_results.json").read_text())["results"]
    failed = [(r["unique_id"], r["status"], (r.get("message") or "")[:300]) for r in results if r["status"] != "pass"]
    assert run.returncode == 0 and failed == [], (failed, run.stderr[-3000:])
    assert len(results) >= 47
