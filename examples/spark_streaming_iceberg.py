"""The Spark Structured Streaming pipeline, end to end: events in, sessions
(30 min inactivity, 2 h cap, 10 min watermark) out to an Apache Iceberg
table, exactly once across restarts.

    python examples/spark_streaming_iceberg.py

generates a day of clickstream events as JSON files in a temporary folder
(one file a micro-batch, a few events an hour late, one malformed line),
runs the streaming query over them to the end (trigger availableNow), and
prints the Iceberg table's counts and first sessions.  The source is Spark's
file source; with a Kafka broker, one line changes (docs/engines/spark-streaming.md):

    raw = spark.readStream.format("kafka").option("kafka.bootstrap.servers", "host:9092") \\
               .option("subscribe", "clicks").load() \\
               .select(F.from_json(F.col("value").cast("string"), SCHEMA).alias("e")).select("e.*")

To see exactly once at work, give it folders that outlive one run and kill
it: ``--workdir DIR --crash-in-batch 3`` exits in the middle of micro-batch 3
(or the first after it with sessions to write: after the sessions' Iceberg
commit, before the rejects' and before Spark records the batch); run it
again with the same ``--workdir`` (without ``--crash-in-batch``): it goes on
from its checkpoint, the replayed batch is not written twice.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

SCHEMA = "user string, page string, ts timestamp, _corrupt_record string"


def generate(folder: Path, *, users: int, events: int, files: int, seed: int = 1) -> None:
    """JSON-lines files of (user, page, ts), dated in order so the file
    source takes them in order; from the third file on, a few events an hour
    behind (late), and one malformed line."""
    rng = random.Random(seed)
    origin = datetime(2026, 10, 1, tzinfo=timezone.utc)
    clock = {f"user{u:03d}": origin + timedelta(minutes=rng.randrange(120))
             for u in range(users)}
    rows = []
    for _ in range(events):
        u = rng.choice(list(clock))
        # mostly clicks a few minutes apart, sometimes a pause past 30 min
        step = rng.choice([1, 2, 3, 5, 8, 13]) if rng.random() < 0.9 else rng.randrange(31, 300)
        clock[u] += timedelta(minutes=step, seconds=rng.randrange(60))
        rows.append((clock[u], u, rng.choice(["home", "search", "item", "cart", "pay"])))
    rows.sort()
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(rows) // files)
    for i in range(files):
        chunk = rows[i * size:(i + 1) * size]
        lines = [json.dumps({"user": u, "page": p, "ts": t.isoformat()}) for t, u, p in chunk]
        if i >= 2 and chunk:
            late = chunk[0][0] - timedelta(hours=1)
            lines += [json.dumps({"user": "user000", "page": "home", "ts": late.isoformat()})]
        if i == 3:
            lines.append('{"user": "user001", "ts": ')  # cut short: malformed
        path = folder / f"events-{i:04d}.json"
        path.write_text("\n".join(lines) + "\n")
        os.utime(path, (1_700_000_000 + i, 1_700_000_000 + i))
    # a last file whose event, a day on, moves the watermark past every session
    last = rows[-1][0] + timedelta(days=1)
    path = folder / f"events-{files:04d}.json"
    path.write_text(json.dumps({"user": "~watermark", "page": "none", "ts": last.isoformat()}))
    os.utime(path, (1_700_000_000 + files, 1_700_000_000 + files))


def run(spark, input_dir: Path, checkpoint: Path, warehouse: Path, *,
        crash_in_batch: int | None = None):
    """The streaming query, to the end of the files; -> its IcebergSink."""
    from sessionize import spark as sz
    from sessionize.spark_iceberg import IcebergSink

    sink = IcebergSink(warehouse, table="clicks.sessions", rejects="clicks.rejects",
                       job=f"sessions@{checkpoint}")
    write = sink
    if crash_in_batch is not None:
        def write(batch_df, batch_id):
            sessions, rejects = sink.split(batch_df)
            sink.append("sessions", sessions, batch_id)
            if batch_id >= crash_in_batch and len(sessions):
                print(f"crashing in micro-batch {batch_id} after its sessions' commit",
                      flush=True)
                os._exit(17)  # part of the batch written, Spark's commit not
            sink.append("rejects", rejects, batch_id)

    raw = (spark.readStream.schema(SCHEMA)
           .option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", "_corrupt_record")
           .option("maxFilesPerTrigger", 1)
           .json(str(input_dir)))
    events = raw.withWatermark("ts", "10 minutes")
    sessions = sz.stream_sessions(events, key="user", time="ts", gap="30 minutes",
                                  max_duration="2 hours", max_duration_mode="restart",
                                  on_bad="keep")
    query = (sessions.writeStream.outputMode("append")
             .option("checkpointLocation", str(checkpoint))
             .foreachBatch(write)
             .trigger(availableNow=True)
             .start())
    query.awaitTermination()
    return sink


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", type=Path, default=None,
                    help="input/, checkpoint/ and warehouse/ here (kept); default: a "
                         "temporary folder, removed at the end")
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--events", type=int, default=3000)
    ap.add_argument("--files", type=int, default=6)
    ap.add_argument("--crash-in-batch", type=int, default=None)
    args = ap.parse_args(argv)

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    work = args.workdir or Path(tempfile.mkdtemp(prefix="sessionize-stream-"))
    input_dir = work / "input"
    if not input_dir.exists():
        generate(input_dir, users=args.users, events=args.events, files=args.files)
    spark = (SparkSession.builder.master("local[2]").appName("sessionize-streaming")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.driver.host", "127.0.0.1")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    try:
        sink = run(spark, input_dir, work / "checkpoint", work / "warehouse",
                   crash_in_batch=args.crash_in_batch)
        counts = sink.counts()
        print(f"sessions: {counts['session']}  late events: {counts['late']}  "
              f"bad records: {counts['bad']}")
        table = sink.read("sessions").sort_by([("user", "ascending"), ("start", "ascending")])
        for row in table.slice(0, 5).to_pylist():
            print(f"  {row['user']}  #{row['index']}  {row['start']:%Y-%m-%d %H:%M:%S} .. "
                  f"{row['end']:%H:%M:%S}  {row['count']} events  (until "
                  f"{row['window_end']:%H:%M:%S})")
    finally:
        spark.stop()
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
