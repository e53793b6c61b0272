"""Spark: F.session_window grouped by key, on a local SparkSession."""

from __future__ import annotations

import os
import sys


def adapter_spark(*, pandas: bool = False):
    """local_spark() for sessionize.spark's tests, after checking what they
    need (PySpark 4's applyInArrow / applyInPandasWithState, pyarrow, Java
    17, and pandas for the streaming ones): a skip, or with
    SESSIONIZE_REQUIRE_ENGINES=1 a failure, names what is missing."""
    from engines.require import engine, optional, require_java

    engine("pyspark", dist="pyspark", minversion="4.0")
    engine("pyarrow", dist="pyarrow", minversion="14")
    if pandas:
        optional("pandas", extra="spark")
    require_java(17)
    return local_spark()


def local_spark():
    """One small local SparkSession (UTC, no UI, one shuffle partition)."""
    from pyspark.sql import SparkSession

    # the workers run this interpreter, which has sessionize (PySpark's
    # default, `python3` on PATH, may be another one)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("sessionize-engine-boundaries")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def spark_sessions(spark, events, gap: str):
    """Run session_window(ts, gap) on (key, id, micros) events.

    Returns sorted (key, start_us, end_us, ids) rows and, per row, Spark's
    count(*), as ({row: count}).
    """
    from pyspark.sql import functions as F

    df = spark.createDataFrame(list(events), "key string, id long, us long")
    df = df.withColumn("ts", F.timestamp_micros("us"))
    out = (
        df.groupBy("key", F.session_window("ts", gap).alias("w"))
        .agg(F.count("*").alias("n"), F.sort_array(F.collect_list("id")).alias("ids"))
        .select(
            "key",
            F.unix_micros(F.col("w.start")).alias("start_us"),
            F.unix_micros(F.col("w.end")).alias("end_us"),
            "n",
            "ids",
        )
        .collect()
    )
    rows = [(r.key, r.start_us, r.end_us, tuple(r.ids)) for r in out]
    counts = {row: r.n for row, r in zip(rows, out)}
    return sorted(rows), counts
