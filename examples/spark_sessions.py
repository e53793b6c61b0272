"""The Spark seed's sessionization job, on sessionize.spark.

seeds/spark-kafka-iceberg-sessionize.md reads clickstream JSON events
(event_id, page_name, event_timestamp as a string of epoch milliseconds,
booking_details, uuid, event_details) and cuts each user's events into
sessions: 30 minutes of inactivity end a session, and no session lasts more
than 2 hours.  It writes uuid, session_id (``<uuid>_session_<n>``, n from 1),
session_start_time_ms, session_end_time_ms, session_duration_seconds,
event_count and pages_visited.

The seed's lag() + running sum() window functions do the 30-minute rule
only; its 2-hour cap is "session-level aggregation" with no code shown.
Here `sessionize.spark.assign` does both in one step, on the same parsed
timestamps: ``max_duration_mode="fixed"`` (default here) cuts 2-hour blocks
from each session's first event, as the seed's batch job would split a long
session; ``--mode restart`` starts a new session at the first event more
than 2 hours after the session's start, as its streaming job does (SPEC
section 1).  session_end_time_ms is the session's last event.

    python examples/spark_sessions.py                   # 40 users, 2000 events
    python examples/spark_sessions.py --mode restart --users 5 --events 200 --json

The events are generated (seeded) in the seed's schema; --json prints one
JSON object per session, sorted by uuid and start, instead of a table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys

GAP = "30 minutes"          # the seed's --inactivity-timeout 30
MAX_DURATION = "2 hours"    # the seed's --max-session-duration 2
PAGES = ("home", "search", "selection", "review", "booking", "payment")
T0_MS = 1_790_875_556_200   # the seed's sample event_timestamp
# Steps between a user's events: mostly within 30 minutes (so activity runs
# past the 2-hour cap, often past 4 hours where the two cap modes differ),
# some exactly 30 minutes (the same session), a few breaks.
STEPS_MS = (0, 1_000, 15_000, 120_000, 600_000, 1_200_000, 1_800_000, 1_800_001, 3_600_000)
STEP_WEIGHTS = (2, 4, 4, 4, 4, 4, 2, 1, 1)


def generate_events(users: int, events: int, seed: int = 7) -> list[dict]:
    """Clickstream events in the seed's JSON schema, in no particular order.

    Each user browses in bursts: steps of seconds to minutes, now and then
    exactly 30 minutes (the boundary: same session), a longer pause (a new
    session) or a long run of activity that crosses the 2-hour cap."""
    rng = random.Random(seed)
    now = {f"user-{u:04d}-{rng.randrange(10**4):04d}": T0_MS + rng.randrange(3_600_000)
           for u in range(users)}
    names = list(now)
    out = []
    for i in range(events):
        user = rng.choice(names)
        step = rng.choices(STEPS_MS, STEP_WEIGHTS)[0]
        now[user] += step
        page = rng.choice(PAGES)
        out.append({
            "event_id": f"{i:06d}-{rng.randrange(16**8):08x}",
            "page_name": page,
            "event_timestamp": str(now[user]),
            "booking_details": "",
            "uuid": user,
            "event_details": {"event_name": f"user-{page}", "event_type": "user-action",
                              "event_value": f"card-{rng.randrange(5)}-selected"},
        })
    rng.shuffle(out)
    return out


def sessionize_events(spark, events: list[dict], mode: str):
    """The seed's output rows, one per session, as a Spark DataFrame."""
    from pyspark.sql import functions as F

    from sessionize import spark as sz

    schema = ("event_id string, page_name string, event_timestamp string, "
              "booking_details string, uuid string, event_details struct<"
              "event_name: string, event_type: string, event_value: string>")
    df = spark.createDataFrame(events, schema)
    # the seed's parse: epoch milliseconds in a string
    df = df.withColumn("event_time", F.timestamp_millis(F.col("event_timestamp").cast("long")))
    marked = sz.assign(df, key="uuid", time="event_time", gap=GAP,
                       max_duration=MAX_DURATION, max_duration_mode=mode)
    ms = F.col("event_timestamp").cast("long")
    return (marked.groupBy("uuid", "session_id")
            .agg(F.min(ms).alias("session_start_time_ms"),
                 F.max(ms).alias("session_end_time_ms"),
                 F.count("*").alias("event_count"),
                 # pages in the order first visited (ties: by event_id)
                 F.array_distinct(F.transform(
                     F.array_sort(F.collect_list(F.struct(ms.alias("t"), "event_id",
                                                          "page_name"))),
                     lambda e: e["page_name"])).alias("pages_visited"))
            .select("uuid",
                    F.concat("uuid", F.lit("_session_"), (F.col("session_id") + 1)
                             .cast("string")).alias("session_id"),
                    "session_start_time_ms", "session_end_time_ms",
                    ((F.col("session_end_time_ms") - F.col("session_start_time_ms"))
                     / 1000).alias("session_duration_seconds"),
                    "event_count", "pages_visited")
            .orderBy("uuid", "session_start_time_ms"))


def local_spark():
    from pyspark.sql import SparkSession

    # the workers run this interpreter, which has sessionize (PySpark's
    # default, `python3` on PATH, may be another one)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    spark = (SparkSession.builder.master("local[2]").appName("sessionize-spark-seed")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.driver.host", "127.0.0.1")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=40)
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--mode", choices=("fixed", "restart"), default="fixed",
                    help="the 2-hour cap: fixed blocks (batch) or restart (streaming)")
    ap.add_argument("--json", action="store_true", help="one JSON object per session")
    args = ap.parse_args(argv)

    spark = local_spark()
    try:
        out = sessionize_events(spark, generate_events(args.users, args.events, args.seed),
                                args.mode)
        if args.json:
            for row in out.collect():
                print(json.dumps(row.asDict()))
        else:
            out.show(20, truncate=60)
            print(f"{out.count()} sessions of {args.users} users "
                  f"(gap {GAP}, cap {MAX_DURATION}, {args.mode})")
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
