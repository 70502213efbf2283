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

import csv
import datetime as dt
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ccq import pii
from ccq.publish import current_snapshot
from ccq.settings import DBT_PROJECT_DIR, Paths, spark_dbt_executable
from tests.conftest import FIXTURES, HAND_BUILT_NOW

pytestmark = pytest.mark.xdist_group("spark")

FLOAT_TOLERANCE = 1e-9
KEY = ("kpi", "grain", "period_start", "scope_type", "scope_id")
# When each run loaded the files: the only column that differs between two runs.
RUN_COLUMNS = {"as_of"}


@pytest.fixture(scope="module")
def spark_env() -> dict:
    if shutil.which("java") is None or not spark_dbt_executable().is_file():
        pytest.fail("the Spark engine needs Java 17 and its environment: ./dev test installs both")
    env = {**os.environ, "CCQ_NOW": HAND_BUILT_NOW, "CCQ_SPARK_MASTER": "local[2]",
           "CCQ_SPARK_SHUFFLE_PARTITIONS": "2"}
    for name in ("CCQ_HOME", "CCQ_DUCKDB_PATH", "DAGSTER_HOME", "CCQ_ENGINE", "CCQ_PII_KEY"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def spark_home(hand_built, spark_env, tmp_path_factory):
    home = tmp_path_factory.mktemp("spark_home")
    shutil.copytree(FIXTURES / "hand_calls" / "landing", home / "landing")
    # The DuckDB run's personal-data key: the pseudonyms of both runs must be the same.
    shutil.copytree(hand_built[0].secrets, home / "secrets")
    env = spark_env
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
    # dbt ran on Spark: the loader's tables were shipped (every row of the fixture's ACD files),
    # the served ones came back.
    events = sum(len(list(csv.DictReader(f.read_text(encoding="utf-8").splitlines())))
                 for f in (FIXTURES / "hand_calls" / "landing" / "acd_queue_events").glob("*.csv"))
    assert events == 53
    assert f"ccq: shipped raw.acd_queue_events to Spark: {events} rows" in log
    # The certification's build ships only what changed since the models' build: the checks' outcomes.
    assert f"ccq: raw.acd_queue_events unchanged since shipped to Spark: {events} rows" in log
    assert log.count("ccq: shipped audit.check_results to Spark") == 2
    assert log.count("ccq: shipped raw.") == log.count("ccq: raw.") >= 2
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


# The dispatched text, time and key functions, on the values that tell engines apart: padding
# from spreadsheets (no-break and ideographic spaces; a tab, which is kept), Greek capitals whose
# lower case depends on context in Java, a dotted capital I, a sharp s, fractional seconds, a
# time before 1970, and both of London's changes of the clock in 2026 (29 March 01:00 UTC,
# 25 October 01:00 UTC). Each engine runs one `dbt show` of the same inline query.
TEXTS = {
    1: " A7\u00a0",
    2: "\u3000Q_A ",
    3: "\tA8",
    4: "ΝΙΚΟΣ ΠΑΠΑΣ",
    5: " Νίκος\u00a0\u00a0Παπάς ",
    6: "İSTANBUL",
    7: "straße",
    8: "\u00a0",
    9: "A7\u00a0\n",
}
TIMES = {
    1: ("2026-03-29 00:59:59.750", "Europe/London"),
    2: ("2026-03-29 01:00:00.250", "Europe/London"),
    3: ("2026-10-25 00:30:00.500", "Europe/London"),
    4: ("2026-10-25 01:30:00.500", "Europe/London"),
    5: ("1969-12-31 23:59:59.500", "Europe/London"),
    6: ("2026-01-31 12:00:00.250", "Europe/London"),
    # As local times: London's 01:30 on 29 March never happened, Santiago's midnight of 6 September
    # neither (its clocks go forward at midnight, as several zones' do), and London's 01:30 on
    # 25 October happened twice.
    7: ("2026-03-29 01:30:00", "Europe/London"),
    8: ("2026-09-06 00:00:00", "America/Santiago"),
    9: ("2026-10-25 01:30:00.500", "Europe/London"),
}
ENGINE_FUNCTIONS_SQL = """
with texts as (
    select * from (values {texts}) as t(n, s)
),
times as (
    select n, cast(ts as timestamp) as ts, zone from (values {times}) as t(n, ts, zone)
)
select 'text' as kind, n,
    {{{{ ccq.trim_text('s') }}}} as trimmed,
    {{{{ ccq.lower_text('s') }}}} as lowered,
    {{{{ ccq.upper_text('s') }}}} as uppered,
    {{{{ ccq.agent_member_normalised('s') }}}} as member,
    {{{{ ccq.agent_value_is_id(ccq.trim_text('s')) }}}} as is_id,
    {{{{ ccq.hash_pii('s') }}}} as pseudonym,
    cast(null as double) as epoch, cast(null as timestamp) as interval_15, cast(null as timestamp) as utc_as_local,
    cast(null as timestamp) as local_as_utc, cast(null as timestamp) as plus_90_min, cast(null as timestamp) as plus_1_month
from texts
union all
select 'time', n, null, null, null, null, null, null,
    {{{{ ccq.epoch_seconds('ts') }}}},
    {{{{ ccq.interval_start('ts', 15) }}}},
    {{{{ ccq.utc_to_local('ts', 'zone') }}}},
    {{{{ ccq.local_to_utc('ts', 'zone') }}}},
    {{{{ dbt.dateadd('minute', 90, 'ts') }}}},
    {{{{ dbt.dateadd('month', 1, 'ts') }}}}
from times
order by kind, n
""".format(
    texts=", ".join(f"({n}, '{s}')" for n, s in TEXTS.items()),
    times=", ".join(f"({n}, '{t}', '{z}')" for n, (t, z) in TIMES.items()),
)


def _show(executable: str, env: dict, options: tuple[str, ...] = ()) -> list[dict]:
    run = subprocess.run([executable, "--quiet", "show", "--inline", ENGINE_FUNCTIONS_SQL, "--limit", "100",
                          "--output", "json", *options], env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    return json.loads(run.stdout)["show"]
def _expected_time_row(n: int) -> dict:
    """What every engine must give for TIMES[n], computed with Python's zoneinfo."""
    from zoneinfo import ZoneInfo

    from dateutil.relativedelta import relativedelta

    text, zone = TIMES[n]
    ts = dt.datetime.fromisoformat(text)
    utc = ts.replace(tzinfo=dt.timezone.utc)
    # A local time that happened twice is read at its later offset (standard time, fold=1); one
    # that never happened is moved forward by the gap, as a clock that was not changed would show.
    local = ts.replace(tzinfo=ZoneInfo(zone), fold=1)
    local_as_utc = local.astimezone(dt.timezone.utc)
    if local_as_utc.astimezone(ZoneInfo(zone)).replace(tzinfo=None) != ts:
        local_as_utc = ts.replace(tzinfo=ZoneInfo(zone), fold=0).astimezone(dt.timezone.utc)
    return {
        "epoch": (utc - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)).total_seconds(),
        "interval_15": ts.replace(minute=ts.minute - ts.minute % 15, second=0, microsecond=0),
        "utc_as_local": utc.astimezone(ZoneInfo(zone)).replace(tzinfo=None),
        "local_as_utc": local_as_utc.replace(tzinfo=None),
        "plus_90_min": ts + dt.timedelta(minutes=90),
        "plus_1_month": ts + relativedelta(months=1),
    }


def _parsed(row: dict) -> dict:
    return {k: dt.datetime.fromisoformat(v) if isinstance(v, str) and k in TIME_COLUMNS and v else v
            for k, v in row.items()}


TIME_COLUMNS = ("interval_15", "utc_as_local", "local_as_utc", "plus_90_min", "plus_1_month")


def test_the_engine_specific_functions_agree_on_hard_values(spark_env, tmp_path):
    key = "engine-functions-test-key-0123456789"
    env = {**spark_env, "CCQ_PII_KEY": key}
    spark = _show(str(spark_dbt_executable()), {**env, "CCQ_HOME": str(tmp_path / "spark")})
    duck_home = tmp_path / "duck"
    (duck_home / "warehouse").mkdir(parents=True)
    duck = _show(str(Path(sys.executable).with_name("dbt")), {**env, "CCQ_HOME": str(duck_home)},
                 ("--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
                  "--target-path", str(duck_home / "target")))
    assert [_parsed(r) for r in spark] == [_parsed(r) for r in duck]

    texts = {r["n"]: r for r in duck if r["kind"] == "text"}
    assert {n: r["trimmed"] for n, r in texts.items()} == {
        1: "A7", 2: "Q_A", 3: "\tA8", 4: "ΝΙΚΟΣ ΠΑΠΑΣ", 5: "Νίκος\u00a0\u00a0Παπάς", 6: "İSTANBUL", 7: "straße", 8: "",
        9: "A7\u00a0\n"}
    assert (texts[4]["lowered"], texts[6]["lowered"], texts[7]["uppered"]) == ("νικοσ παπασ", "istanbul", "STRAẞE")
    assert {n: r["member"] for n, r in texts.items() if n in (1, 3, 5)} == {1: "a7", 3: "a8", 5: "νίκος παπάς"}
    assert [n for n, r in texts.items() if r["is_id"]] == [1]
    # The pseudonym is HMAC-SHA-256 of the trimmed value under the key, as Python computes it.
    assert {n: r["pseudonym"] for n, r in texts.items()} == {
        n: pii.pseudonym(s, key.encode()) for n, s in TEXTS.items()}
    assert texts[8]["pseudonym"] is None
    times = {r["n"]: _parsed(r) for r in duck if r["kind"] == "time"}
    for n in TIMES:
        assert {k: times[n][k] for k in ("epoch", *TIME_COLUMNS)} == _expected_time_row(n), n


def test_the_shipping_fingerprint_changes_with_any_value_and_not_with_row_order():
    # What decides whether a loader's table is shipped to Spark again (DuckDB only, no Spark).
    from ccq.spark import _fingerprint

    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute("create table raw.x (event_id varchar, n integer, _loaded_at timestamp)")
    con.execute("insert into raw.x values ('e1', 1, '2026-11-04 02:00:00'), ('e2', 2, '2026-11-04 02:00:00')")
    rows, shipped = _fingerprint(con, "raw", "x")
    assert rows == 2
    con.execute("create table raw.reordered as select * from raw.x order by event_id desc")
    assert _fingerprint(con, "raw", "reordered") == (2, shipped)
    changes = [
        # the same file delivered again: the same values, a later load
        "update raw.x set _loaded_at = '2026-11-05 02:00:00' where event_id = 'e1'",
        # two values swapped between rows: the same multiset of each column
        "update raw.x set n = 3 - n",
        # a column added by a newer contract, empty
        "alter table raw.x add column detail varchar",
    ]
    seen = {shipped}
    for change in changes:
        con.execute(change)
        assert _fingerprint(con, "raw", "x")[1] not in seen, change
        seen.add(_fingerprint(con, "raw", "x")[1])
