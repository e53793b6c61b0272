"""The streaming job of tests/test_spark_streaming.py, run in a subprocess so a
test can kill it: JSON files -> stream_sessions (30 min, 2 h cap, 10 min
watermark, bad rows kept) -> IcebergSink, to the end of the files
(trigger availableNow), from CHECKPOINT, so a rerun restarts where it stopped.

    python spark_stream_job.py INPUT CHECKPOINT WAREHOUSE [--die-in-batch N] [--pause S]

--die-in-batch N  os._exit(17) inside the first micro-batch >= N that writes
                  its sessions, right after their Iceberg commit, before the
                  rejects table and before Spark records the batch
--pause S         sleep S seconds after each batch (a test kills in between)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

SCHEMA = "user string, ts timestamp, _corrupt_record string"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("checkpoint")
    ap.add_argument("warehouse")
    ap.add_argument("--die-in-batch", type=int, default=None)
    ap.add_argument("--pause", type=float, default=0.0)
    args = ap.parse_args()

    from engines.spark_run import local_spark
    from sessionize import spark as sz
    from sessionize.spark_iceberg import IcebergSink

    spark = local_spark()
    sink = IcebergSink(args.warehouse, job="test-job")
    if args.die_in_batch is not None:
        append = sink._append

        def dying_append(name, data, batch_id):
            append(name, data, batch_id)
            if batch_id >= args.die_in_batch and name == sink.table and len(data):
                print(f"dying in batch {batch_id} after the sessions' commit", flush=True)
                os._exit(17)

        sink._append = dying_append

    def write(batch_df, batch_id):
        sink(batch_df, batch_id)
        print(f"batch {batch_id} written", flush=True)
        if args.pause:
            time.sleep(args.pause)

    events = (spark.readStream.schema(SCHEMA).option("maxFilesPerTrigger", 1)
              .option("mode", "PERMISSIVE")
              .option("columnNameOfCorruptRecord", "_corrupt_record")
              .json(args.input).withWatermark("ts", "10 minutes"))
    out = sz.stream_sessions(events, key="user", time="ts", gap="30 minutes",
                             max_duration="2 hours", on_bad="keep")
    query = (out.writeStream.outputMode("append").foreachBatch(write)
             .option("checkpointLocation", args.checkpoint)
             .trigger(availableNow=True).start())
    query.awaitTermination()
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
