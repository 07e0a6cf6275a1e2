"""The nightly run's features and decisions on Apache Spark, over a Parquet snapshot.

The statements are the strategy's own (`featuresql`, `decide.decisions_sql`, `actions_sql`), put
into Spark's dialect by `engine.sparksql`; Spark reads the snapshot's files and writes its results
as Parquet, so the portfolio never passes through this process. Two things do: the inputs of the
collection score, which runs here (the compiled trees are Python), and the results the database
loads. One SparkSession per process: starting the JVM costs seconds, and Spark allows one.
"""

import atexit
import os
from pathlib import Path

import pyarrow as pa
from django.conf import settings
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from doorstep.strategy.engine.sparksql import to_spark
from doorstep.strategy.snapshot import SCHEMA, ParquetSnapshot

_session: SparkSession | None = None
LOGGING = Path(__file__).with_name("spark-log4j2.properties").as_uri()

# The snapshot's Arrow types by the names the strategy's SQL (DuckDB's) gives them.
_SQL_TYPES = {
    pa.string(): "VARCHAR",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.date32(): "DATE",
    pa.bool_(): "BOOLEAN",
}
SNAPSHOT_TYPES = {
    name: {field.name: _SQL_TYPES[field.type] for field in schema}
    for name, schema in SCHEMA.items()
}


def session(master: str | None = None) -> SparkSession:
    """The process's SparkSession on `master` (default: settings.DOORSTEP_SPARK["master"]); a
    session on another master is stopped first. Nothing is downloaded: no packages, no UI."""
    global _session
    config = settings.DOORSTEP_SPARK
    master = master or config["master"]
    if _session is not None and _session.sparkContext.master != master:
        stop()
    if _session is None:
        builder = (
            SparkSession.builder.master(master)
            .appName("doorstep-nightly")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(config["shuffle_partitions"]))
            .config("spark.driver.memory", config["driver_memory"])
            # Every figure is a DATE or epoch seconds; UTC keeps Spark from reading a zone in.
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.warehouse.dir", str(Path(settings.VAR_DIR) / "spark-warehouse"))
            .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={LOGGING}")
        )
        if master.startswith("local"):
            # The driver and its executors share the machine: no name lookup, no open port.
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            builder = builder.config("spark.driver.host", "127.0.0.1").config(
                "spark.driver.bindAddress", "127.0.0.1"
            )
        for key, value in config["conf"].items():
            builder = builder.config(key, value)
        _session = builder.getOrCreate()
    return _session


@atexit.register
def stop() -> None:
    global _session
    if _session is not None:
        _session.stop()
        _session = None


def register_snapshot(spark: SparkSession, snapshot: ParquetSnapshot) -> None:
    for name in SCHEMA:
        spark.read.parquet(str(snapshot.path(name))).createOrReplaceTempView(name)


def run_sql(spark: SparkSession, sql: str, reads: tuple[str, ...]) -> DataFrame:
    """A statement in DuckDB's dialect, run on Spark; `reads` names the temp views it reads."""
    schema = {name: dict(spark.table(name).dtypes) for name in reads}
    return spark.sql(to_spark(sql, schema, types="spark"))


def _kept(frame: DataFrame, view: str) -> DataFrame:
    """Compute `frame` now and keep its rows as the view `view`, cut from the plan that made
    them. Persisted instead, every later statement over the view carried the whole features plan
    through analysis and cache lookup: 10-20 s of planning per statement on a small portfolio.
    Kept serialized and allowed to spill (PySpark's MEMORY_AND_DISK): the default level keeps the
    rows as JVM objects, several times their size, which a million accounts' features outgrew."""
    kept = frame.localCheckpoint(eager=True, storageLevel=StorageLevel.MEMORY_AND_DISK)
    kept.createOrReplaceTempView(view)
    return kept


def features(spark: SparkSession, snapshot: ParquetSnapshot, sql: str) -> DataFrame:
    """The `features` view from the snapshot (`sql`: featuresql's for dialect spark)."""
    register_snapshot(spark, snapshot)
    return _kept(spark.sql(to_spark(sql, SNAPSHOT_TYPES)), "features")


def score(spark: SparkSession, scorer, inputs: tuple[str, ...], where: str) -> None:
    """Fill the model features of `features` on the driver: the inputs of the accounts `where`
    selects come here as Arrow, `scorer` turns them into a scores table (scoring.domain's), and a
    join puts the scores back as DECIMAL(9, 6), as `domain._set_scores` does in SQL."""
    wanted = run_sql(
        spark, f"SELECT account_id, {', '.join(inputs)} FROM features WHERE {where}", ("features",)
    ).toArrow()
    if wanted.num_rows == 0:
        return
    spark.createDataFrame(scorer(wanted)).createOrReplaceTempView("scores")
    model = ("risk_score", "p_recover_with_visit", "p_recover_without_visit")
    columns = ", ".join(
        f"CAST(s.{name} AS DECIMAL(9, 6)) AS {name}"
        if name in model
        else ("s.risk_band AS risk_band" if name == "risk_band" else f"f.{name}")
        for name in spark.table("features").columns
    )
    scored = f"SELECT {columns} FROM features f LEFT JOIN scores s ON s.account_id = f.account_id"
    _kept(spark.sql(scored), "features")


def decisions(spark: SparkSession, sql: str) -> DataFrame:
    """The `dec` view: `sql` (decisions_sql over `features`, DuckDB's dialect)."""
    return _kept(run_sql(spark, sql, ("features",)), "dec")


def stage_counts(spark: SparkSession) -> dict[str, int]:
    return {
        row["stage"]: row["count"] for row in spark.table("dec").groupBy("stage").count().collect()
    }


def count(spark: SparkSession, sql: str, reads: tuple[str, ...]) -> int:
    return run_sql(spark, sql, reads).count()


def write_parquet(spark: SparkSession, sql: str, reads: tuple[str, ...], out: Path) -> None:
    """Run `sql` and write its rows under the directory `out` (part files, as Spark writes)."""
    run_sql(spark, sql, reads).write.mode("overwrite").parquet(str(out))


def release(spark: SparkSession) -> None:
    """Drop what the run kept in memory; the session stays for the next run."""
    spark.catalog.clearCache()
    for name in (*SCHEMA, "features", "scores", "dec"):
        spark.catalog.dropTempView(name)
