"""sessionize.spark.stream_sessions against Spark's own streaming session_window.

    .venv/bin/python benchmarks/spark_streaming_case.py --events 200000 --files 10

The same input for both: JSON files of (user, ts) events in Spark's file
source, one file a micro-batch (maxFilesPerTrigger=1), time-ordered from
file to file, with a 10 min watermark and a 30 min gap, no cap (which
session_window cannot do), then a last file whose event moves the watermark
past every session.  Each query runs in append mode to the end of the files
(trigger availableNow) into a foreachBatch that counts the rows; its time is
from start() to the end, the closing no-data batch included.  A warm-up run
of each first starts the Python workers.  Both must give the same number of
sessions.  local[2], 2 shuffle partitions, one process: the events/s are the
whole streaming job's, Spark's own overheads (planning, state store commits,
the file source) included.  Prints events/s of each and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path


def generate(folder: Path, n_events: int, n_users: int, files: int, seed: int = 3) -> None:
    rng = random.Random(seed)
    origin = datetime(2026, 10, 1, tzinfo=timezone.utc)
    clock = [origin + timedelta(seconds=rng.randrange(3600)) for _ in range(n_users)]
    rows = []
    for _ in range(n_events):
        u = rng.randrange(n_users)
        gap = rng.randrange(30, 600) if rng.random() < 0.93 else rng.randrange(1800, 14400)
        clock[u] += timedelta(seconds=gap)
        rows.append((clock[u], u))
    rows.sort()
    folder.mkdir(parents=True)
    size = -(-len(rows) // files)
    for i in range(files):
        chunk = rows[i * size:(i + 1) * size]
        rng.shuffle(chunk)
        _write(folder, i, [(f"user{u}", t) for t, u in chunk])
    _write(folder, files, [("~watermark", rows[-1][0] + timedelta(days=2))])


def _write(folder: Path, i: int, rows) -> None:
    path = folder / f"events-{i:04d}.json"
    path.write_text("".join(json.dumps({"user": u, "ts": t.isoformat()}) + "\n"
                            for u, t in rows))
    os.utime(path, (1_700_000_000 + i, 1_700_000_000 + i))


def run(spark, folder: Path, checkpoint: Path, which: str) -> tuple[float, int]:
    from pyspark.sql import functions as F

    from sessionize import spark as sz

    events = (spark.readStream.schema("user string, ts timestamp")
              .option("maxFilesPerTrigger", 1).json(str(folder))
              .withWatermark("ts", "10 minutes"))
    if which == "sessionize":
        out = sz.stream_sessions(events, key="user", time="ts", gap="30 minutes")
    else:
        out = (events.groupBy("user", F.session_window("ts", "30 minutes"))
               .agg(F.count("*").alias("count")))
    rows = []
    start = time.perf_counter()
    query = (out.writeStream.outputMode("append")
             .foreachBatch(lambda b, _i: rows.append(b.count()))
             .option("checkpointLocation", str(checkpoint))
             .trigger(availableNow=True).start())
    query.awaitTermination()
    return time.perf_counter() - start, sum(rows)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--users", type=int, default=5_000)
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--reps", type=int, default=1)
    args = ap.parse_args()

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("sessionize-stream-bench")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.driver.host", "127.0.0.1")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    work = Path(tempfile.mkdtemp(prefix="sessionize-stream-bench-"))
    try:
        generate(work / "warm", 2000, 50, 2)
        generate(work / "input", args.events, args.users, args.files)
        for which in ("sessionize", "session_window"):
            run(spark, work / "warm", work / f"ck-warm-{which}", which)
        best, counts = {}, {}
        for rep in range(args.reps):
            for which in ("sessionize", "session_window"):
                secs, n = run(spark, work / "input", work / f"ck-{which}-{rep}", which)
                best[which] = min(best.get(which, secs), secs)
                counts[which] = n
        # the sentinel's session stays open in both; sessionize emits no late/bad rows here
        if counts["sessionize"] != counts["session_window"]:
            print(f"MISMATCH: sessions {counts}")
            return 1
        print(f"{args.events} events, {args.users} users, {args.files} micro-batches, "
              f"{counts['sessionize']} sessions (both)")
        for which in ("sessionize", "session_window"):
            print(f"  {which:15s} {best[which]:7.2f} s  {args.events / best[which]:10,.0f} events/s")
        print(f"  ratio (session_window time / sessionize time): "
              f"{best['session_window'] / best['sessionize']:.2f}")
    finally:
        spark.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
