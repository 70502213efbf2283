"""The warehouse on Apache Spark (dbt-spark, `method: session`): the Spark session dbt runs in.

dbt-spark's session method asks `SparkSession.builder.getOrCreate()` for a session on every
statement, so dbt runs in this process, inside the session made here (`dbt_main`). The session
is where the engine's side of the project lives, as ccq.warehouse_plugin is for DuckDB:

1. **Where.** The master, the warehouse folder and the metastore are configuration:
   CCQ_SPARK_MASTER (default `local[*]`), CCQ_SPARK_WAREHOUSE (default
   `<CCQ_HOME>/spark/warehouse`) and an embedded Derby metastore in `<CCQ_HOME>/spark/`
   (CCQ_SPARK_METASTORE_URL for a shared one). On a cluster, these are a master URL and a
   shared warehouse location (docs/scale-out.md). Tables are parquet: Delta and Iceberg fetch
   jars at run time.
2. **The personal-data key**, for `spark__hash_pii`: HMAC's padded keys as session variables,
   bound as parameters, never in SQL text; without a key, an error variable the macro raises.
3. **Python functions the SQL calls**: staffing by Erlang C and A (ccq.staffing), the same
   code DuckDB calls (ccq.warehouse_plugin).

Importing this module imports neither pyspark nor dbt: both load on first use.
"""
from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import pandas as pd

from ccq.pii import ERROR_VARIABLE, IPAD_VARIABLE, OPAD_VARIABLE, PiiKeyError, hmac_pads, load_key
from ccq.settings import DBT_PROJECT_DIR, ccq_home
from ccq.staffing.erlang import required_agents_of_columns

DEFAULT_MASTER = "local[*]"
# 985,245 kpi_values rows (17 MB of parquet) read back at once failed on the default 1 GB driver;
# 250,000 rows of the widest served table take about 50 MB in Arrow.
MAX_RECORDS_PER_FILE = 250_000


def spark_home() -> Path:
    return ccq_home() / "spark"


def session_config() -> dict[str, str]:
    """The Spark settings of this installation (environment, else defaults under CCQ_HOME)."""
    root = spark_home()
    warehouse = os.environ.get("CCQ_SPARK_WAREHOUSE") or str(root / "warehouse")
    metastore = os.environ.get("CCQ_SPARK_METASTORE_URL") or (
        f"jdbc:derby:;databaseName={root / 'metastore_db'};create=true")
    config = {
        "spark.master": os.environ.get("CCQ_SPARK_MASTER") or DEFAULT_MASTER,
        "spark.app.name": "ccq",
        "spark.sql.warehouse.dir": warehouse,
        "spark.hadoop.javax.jdo.option.ConnectionURL": metastore,
        # Derby writes derby.log into the working directory unless told where.
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={root}",
        # The warehouse's timestamps are UTC, as DuckDB's profile sets TimeZone: UTC.
        "spark.sql.session.timeZone": "UTC",
        # dbt-spark sets it too (Spark 3 behaviour: x / 0 is null, as in DuckDB).
        "spark.sql.ansi.enabled": "false",
        "spark.sql.sources.default": "parquet",
        "spark.sql.shuffle.partitions": os.environ.get("CCQ_SPARK_SHUFFLE_PARTITIONS", "8"),
        "spark.ui.enabled": "false",
        # Its progress bars share the terminal with dbt's event stream, which Dagster parses.
        "spark.ui.showConsoleProgress": "false",
        # A served table's files are read back into DuckDB a part at a time through the driver
        # (import_built_tables): a cap on a file's rows keeps one part within a default driver.
        "spark.sql.files.maxRecordsPerFile": str(MAX_RECORDS_PER_FILE),
    }
    # The JVM this process starts (dbt, the shipping and the read-back run in the driver; in
    # local mode the tasks too): Spark's default is 1 GB.
    if os.environ.get("CCQ_SPARK_DRIVER_MEMORY"):
        config["spark.driver.memory"] = os.environ["CCQ_SPARK_DRIVER_MEMORY"]
    return config


def session():
    """The process's Spark session, made once with this installation's settings, the personal-data
    variables and the functions the models call."""
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and active.conf.get("spark.app.name", "") == "ccq":
        return active
    spark_home().mkdir(parents=True, exist_ok=True)
    # The Python workers of the functions run this interpreter, which has ccq (not `python3`).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder
    for key, value in session_config().items():
        builder = builder.config(key, value)
    spark = builder.enableHiveSupport().getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    _install_pii_key(spark)
    _register_functions(spark)
    return spark


def _install_pii_key(spark) -> None:
    for name in (IPAD_VARIABLE, OPAD_VARIABLE):
        spark.sql(f"DECLARE OR REPLACE VARIABLE {name} BINARY")
    spark.sql(f"DECLARE OR REPLACE VARIABLE {ERROR_VARIABLE} STRING")
    try:
        ipad, opad = hmac_pads(load_key())
    except PiiKeyError as e:
        spark.sql(f"SET VAR {ERROR_VARIABLE} = :reason", args={"reason": f"hash_pii: {e}"})
        return
    spark.sql(f"SET VAR {IPAD_VARIABLE} = :pad", args={"pad": bytearray(ipad)})
    spark.sql(f"SET VAR {OPAD_VARIABLE} = :pad", args={"pad": bytearray(opad)})


def _required_agents(model: pd.Series, calls: pd.Series, aht: pd.Series, interval: pd.Series,
                     threshold: pd.Series, target: pd.Series, cap: pd.Series, patience: pd.Series) -> pd.Series:
    required = required_agents_of_columns(model, calls, aht, interval, threshold, target, cap, patience)
    return pd.Series(required).round().astype("Int64")


def _register_functions(spark) -> None:
    from pyspark.sql.functions import pandas_udf

    spark.udf.register("ccq_required_agents", pandas_udf(_required_agents, "bigint"))


# What the models read that the loader writes: every raw extract, and the audit tables the models
# declare as sources (models/staging/audit/_audit__sources.yml). The quarantine and the ingested
# source lines, which hold personal data in clear, stay in DuckDB.
SOURCE_SCHEMAS = ("raw", "audit")
AUDIT_SOURCES = ("check_results", "ingested_queues", "ingested_sites", "load_files")


# The table property that records what a shipped table holds (ship_sources), and the version
# of how it was shipped: a change to _spark_frame ships every table again.
FINGERPRINT_PROPERTY = "ccq.shipped_fingerprint"
SHIP_FORMAT = 2


def ship_sources(warehouse: Path) -> dict[str, tuple[int, bool]]:
    """Copy the loader's tables the models read from the DuckDB warehouse into Spark tables of
    the same names, as parquet: per table, its rows and whether it was copied. The rows go as
    Arrow batches through this process (the driver), so no file need be shared with the
    executors: on a cluster, as locally, only the warehouse location is storage. A table whose
    Spark copy holds the same rows is not copied again: a fingerprint of its columns and rows
    (count and an order-free sum of row hashes) is kept as a property of the Spark table, so the
    certification's build after the models' ships only the checks' outcomes, and a refresh that
    loaded one source ships that source."""
    spark = session()
    shipped: dict[str, tuple[int, bool]] = {}
    with _warehouse(warehouse, read_only=True) as con:
        tables = [(schema, table) for schema, table in con.execute(
            "select table_schema, table_name from information_schema.tables where table_schema in ? "
            "order by 1, 2", [list(SOURCE_SCHEMAS)]).fetchall()
            if schema == "raw" or table in AUDIT_SOURCES]
        for schema in SOURCE_SCHEMAS:
            spark.sql(f"create database if not exists {schema}")
        for schema, table in tables:
            rows, fingerprint = _fingerprint(con, schema, table)
            if _shipped_fingerprint(spark, schema, table) == fingerprint:
                shipped[f"{schema}.{table}"] = (rows, False)
                continue
            batches = con.sql(f'select * from "{schema}"."{table}"').to_arrow_reader(SHIP_BATCH_ROWS)
            mode = "overwrite"
            for batch in _nonempty(batches):
                _spark_frame(spark, batch).write.mode(mode).format("parquet").saveAsTable(f"{schema}.{table}")
                mode = "append"
            spark.sql(f"alter table {schema}.{table} set tblproperties ('{FINGERPRINT_PROPERTY}' = '{fingerprint}')")
            shipped[f"{schema}.{table}"] = (rows, True)
    return shipped


# Rows per Arrow batch the driver hands Spark: the memory a shipping holds at once is one batch.
SHIP_BATCH_ROWS = 500_000


def _nonempty(batches):
    """The reader's record batches, or one empty batch (an empty table still gets its columns)."""
    import pyarrow as pa

    empty = True
    for batch in batches:
        empty = False
        yield batch
    if empty:
        yield pa.RecordBatch.from_pylist([], schema=batches.schema)


def _spark_frame(spark, batch):
    """A DuckDB record batch as a Spark DataFrame; DuckDB's timestamps (UTC wall clock) become
    Spark's TIMESTAMP in the UTC session, which the models expect, not TIMESTAMP_NTZ."""
    import pyarrow as pa
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampNTZType

    frame = spark.createDataFrame(pa.Table.from_batches([batch]))
    return frame.select(*[F.col(f.name).cast("timestamp").alias(f.name)
                          if isinstance(f.dataType, TimestampNTZType) else F.col(f.name)
                          for f in frame.schema.fields])


def _warehouse(path: Path, read_only: bool = False):
    """A connection to the DuckDB warehouse that draws no progress bar: DuckDB draws one on stdout
    for a query past two seconds, and this process's stdout is dbt's event stream, which the
    pipeline parses."""
    import duckdb

    con = duckdb.connect(str(path), read_only=read_only)
    con.execute("set enable_progress_bar = false")
    return con


def _fingerprint(con, schema: str, table: str) -> tuple[int, str]:
    """A DuckDB table's row count and a fingerprint of its columns and rows (digits only)."""
    import hashlib

    columns = con.execute(f'describe "{schema}"."{table}"').fetchall()
    # The alias names the whole row: hash(row) covers every column (a column of the alias's name
    # would shadow it, hence a name no extract has).
    rows, row_hashes = con.execute(
        f'select count(*), coalesce(sum(hash(ccq_shipped_row)::hugeint), 0) '
        f'from "{schema}"."{table}" as ccq_shipped_row').fetchall()[0]
    shape = hashlib.sha256(repr((SHIP_FORMAT, [(c[0], c[1]) for c in columns])).encode()).hexdigest()[:16]
    return rows, f"{int(shape, 16)}-{rows}-{row_hashes}"


def _shipped_fingerprint(spark, schema: str, table: str) -> str | None:
    if not spark.catalog.tableExists(f"{schema}.{table}"):
        return None
    found = spark.sql(f"show tblproperties {schema}.{table}").where(f"key = '{FINGERPRINT_PROPERTY}'").first()
    return found["value"] if found else None


# What the product reads from the warehouse once dbt has built it (the publish, the digests,
# `ccq status`): these schemas' tables come back from Spark after each build.
SERVED_SCHEMAS = ("marts", "reference", "restricted")


def import_built_tables(warehouse: Path, built: set[str]) -> list[str]:
    """Copy into the DuckDB warehouse the tables of SERVED_SCHEMAS that a dbt invocation on Spark
    built (`built`: the models and seeds it built): the publish, the digests and `ccq status` read
    them there, on either engine. Spark keeps decimal arithmetic where DuckDB divides into
    doubles: decimal columns come back as doubles, the type the app reads on DuckDB."""
    from ccq.ingest import ensure_warehouse

    imported = []
    spark = session()
    with _warehouse(warehouse) as con:
        ensure_warehouse(con)
        for schema in SERVED_SCHEMAS:
            if not spark.catalog.databaseExists(schema):
                continue
            for table in spark.catalog.listTables(schema):
                if table.name not in built or table.tableType == "VIEW":
                    continue
                frame = spark.table(f"{schema}.{table.name}")
                con.execute(f'create schema if not exists "{schema}"')
                # Through the driver, a few files at a time: the executors' storage (HDFS, S3)
                # need not be a path DuckDB can read, and the driver holds one part at a time.
                # One transaction: the served table is whole or as it was.
                parts = [frame.limit(0)] + [spark.read.parquet(*paths) for paths in _file_parts(spark, frame)]
                con.begin()
                for i, part in enumerate(parts):
                    con.register("ccq_served_part", _served(_doubles(part).toArrow()))
                    if i == 0:
                        con.execute(f'create or replace table "{schema}"."{table.name}" as from ccq_served_part')
                    else:
                        con.execute(f'insert into "{schema}"."{table.name}" by name from ccq_served_part')
                    con.unregister("ccq_served_part")
                con.commit()
                imported.append(f"{schema}.{table.name}")
    return imported


# Parquet bytes the driver reads back at once: a part's rows take ten to twenty times as much in
# Arrow (a 17 MB kpi_values, 985,245 rows, in one part failed on the default 1 GB driver).
IMPORT_PART_BYTES = 4 * 1024 * 1024


def _file_parts(spark, frame) -> list[list[str]]:
    """A table's parquet files in parts of at most IMPORT_PART_BYTES (a larger file, of at most
    MAX_RECORDS_PER_FILE rows, on its own), sized by the table's own file system, whichever it is.
    The served tables are not partitioned: a file holds every column."""
    jvm = spark.sparkContext._jvm
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    parts: list[list[str]] = []
    size = 0
    for path in frame.inputFiles():
        file = jvm.org.apache.hadoop.fs.Path(path)
        length = file.getFileSystem(hadoop).getFileStatus(file).getLen()
        if not parts or size + length > IMPORT_PART_BYTES:
            parts.append([])
            size = 0
        parts[-1].append(path)
        size += length
    return parts


def _doubles(frame):
    """Decimal columns as doubles, converted by Spark, which rounds to the nearest double (Arrow's
    cast is off by one unit in the last place for a third of two-digit decimals: 0.7 gave
    0.7000000000000001)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DecimalType

    return frame.select(*[F.col(f.name).cast("double").alias(f.name) if isinstance(f.dataType, DecimalType)
                          else F.col(f.name) for f in frame.schema.fields])


def _served(table):
    """A Spark Arrow table as the DuckDB warehouse holds it: Spark's UTC timestamps as the plain
    TIMESTAMP (UTC wall clock) of the warehouse's own."""
    import pyarrow as pa

    return table.cast(pa.schema([pa.field(f.name, pa.timestamp("us") if pa.types.is_timestamp(f.type) else f.type)
                                 for f in table.schema]))


def dbt_main(argv: list[str] | None = None) -> int:
    """`ccq-spark-dbt <dbt command and options>` (or `python -m ccq.spark ...`): dbt on Spark, in
    this process's session, `--target spark` on this project unless told otherwise. The dbt
    executable of the pipeline on Spark (orchestration.resources, CCQ_ENGINE=spark), usable by
    hand too. A build (build, run, seed) first ships the loader's tables from the DuckDB
    warehouse of CCQ_HOME, builds every model whole (`--full-refresh`: the incremental
    strategies delete rows, which parquet tables cannot) and copies the served tables back into
    the DuckDB warehouse when it ends, so what follows a build (the checks' records, the
    certification, the publish) is the same on both engines. Its own messages go to stderr:
    stdout is dbt's event stream."""
    from ccq.settings import Paths

    args = list(sys.argv[1:] if argv is None else argv)
    for option, value in (("--target", "spark"), ("--project-dir", str(DBT_PROJECT_DIR)),
                          ("--profiles-dir", str(DBT_PROJECT_DIR))):
        if _option(args, option) is None:
            args += [option, value]
    warehouse = Paths(ccq_home()).warehouse
    building = bool(args) and args[0] in ("build", "run", "seed")
    if building:
        for table, (rows, copied) in ship_sources(warehouse).items():
            said = f"shipped {table} to Spark" if copied else f"{table} unchanged since shipped to Spark"
            print(f"ccq: {said}: {rows:,} rows", file=sys.stderr, flush=True)
        if "--full-refresh" not in args:
            args.append("--full-refresh")
    session()
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(args)
    if building and result.result is not None:
        built = {r.node.name for r in result.result.results
                 if r.status == "success" and r.node.resource_type in ("model", "seed")}
        imported = import_built_tables(warehouse, built)
        print(f"ccq: {len(imported)} served tables copied into the DuckDB warehouse", file=sys.stderr, flush=True)
    return 0 if result.success else (2 if result.exception is not None else 1)


def _option(args: list[str], name: str) -> str | None:
    """The value of a dbt option given as `--name value` or `--name=value`."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


if __name__ == "__main__":
    sys.exit(dbt_main())
