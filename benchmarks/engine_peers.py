"""The streaming engines as peers: Bytewax and Apache Beam's DirectRunner.

Both take Python objects, so prepare() (untimed, generous to them) turns the
arrays into the event tuples a source would deliver; run() (timed) builds and
runs the dataflow / pipeline from those events to the sessions it emits.
They are slow, so they run on small N only and the tables extrapolate their
per-event cost.
"""

from __future__ import annotations

import os
import sys

from datetime import datetime, timedelta, timezone

import numpy as np

from peers import Peer


class WrongAnswer(Exception):
    """An engine's output is not a partition of all the events (some dropped
    as late, or given twice)."""


def _labels_from_groups(groups, n):
    """groups: iterable of lists of event rows, one per session -> labels."""
    labels = np.full(n, -1, dtype=np.int64)
    seen = 0
    for label, rows in enumerate(groups):
        rows = np.asarray(rows, dtype=np.int64)
        if (labels[rows] != -1).any():
            raise WrongAnswer(f"event {int(rows[labels[rows] != -1][0])} is in two sessions")
        labels[rows] = label
        seen += len(rows)
    if seen != n:
        missing = np.flatnonzero(labels == -1)
        raise WrongAnswer(f"{n - seen} events in no session (e.g. event {int(missing[0])})")
    return labels


# ------------------------------------------------------------------- Bytewax

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# The EventClock's "system now", frozen: the watermark is then the largest
# event time seen minus wait_for_system_duration, whatever the wall clock does.
FROZEN_NOW = datetime(2000, 1, 1, tzinfo=timezone.utc)
BYTEWAX_BATCH = 1000  # items per TestingSource batch (its default is 1: slower)


def _bytewax_setup():
    import bytewax.operators  # noqa: F401
    import bytewax.operators.windowing  # noqa: F401


def _bytewax_prepare(users, times, gap):
    """(user, row, aware datetime) events, and the EventClock wait that makes
    no event late: each key's largest lateness (the clock is per key), which
    is 0 when sorted, the jitter in a log, days when shuffled."""
    import pandas as pd

    s = pd.Series(times)
    lateness = int((s.groupby(users, sort=False).cummax() - s).max()) if len(s) else 0
    events = [(u, i, EPOCH + timedelta(milliseconds=t))
              for i, (u, t) in enumerate(zip(users.tolist(), times.tolist()))]
    return events, timedelta(milliseconds=int(gap)), timedelta(milliseconds=lateness)


def _fold(acc, event):
    acc.append(event[1])
    return acc


def _merge(a, b):
    a.extend(b)
    return a


def bytewax_run(state, wake_ups=True):
    """SessionWindower(gap) + fold_window (collecting event rows), an
    EventClock on the event times, run_main over a TestingSource.

    wake_ups=False: the EventClock's to_system_utc returns None, so Bytewax
    never wakes a key to close its windows (they close on the key's next
    item or at the end; the same windows here, the clock being frozen).
    Bytewax reads close + gap as a system time: event times in the past, as
    in any replay, make every key with a window open wake on every
    activation, which is most of its time on this benchmark."""
    import bytewax.operators as op
    from bytewax.dataflow import Dataflow
    from bytewax.operators.windowing import EventClock, SessionWindower, fold_window
    from bytewax.testing import TestingSink, TestingSource, run_main

    events, gap, wait = state
    flow = Dataflow("bench_sessions")
    inp = op.input("inp", flow, TestingSource(events, batch_size=BYTEWAX_BATCH))
    keyed = op.key_on("key", inp, lambda e: str(e[0]))
    clock = EventClock(lambda e: e[2], wait_for_system_duration=wait,
                       now_getter=lambda: FROZEN_NOW,
                       **({} if wake_ups else {"to_system_utc": lambda t: None}))
    wo = fold_window("sessions", keyed, clock, SessionWindower(gap=gap), list, _fold, _merge)
    down, late = [], []
    op.output("down", wo.down, TestingSink(down))
    op.output("late", wo.late, TestingSink(late))
    run_main(flow)
    return down, late


def _bytewax_labels(result, n):
    down, late = result
    if late:
        raise WrongAnswer(f"Bytewax judged {len(late)} events late")
    return _labels_from_groups((rows for _key, (_wid, rows) in down), n)


BYTEWAX = Peer(
    run=bytewax_run, prepare=_bytewax_prepare, labels=_bytewax_labels,
    setup=_bytewax_setup, engine="bytewax", max_n=100_000,
    note=f"SessionWindower + fold_window, run_main, batches of {BYTEWAX_BATCH}",
)


def bytewax_no_wake_ups_run(state):
    return bytewax_run(state, wake_ups=False)


BYTEWAX_NO_WAKE_UPS = Peer(
    run=bytewax_no_wake_ups_run, prepare=_bytewax_prepare,
    labels=_bytewax_labels, setup=_bytewax_setup, engine="bytewax", max_n=100_000,
    note="as bytewax, with EventClock(to_system_utc=lambda t: None): no wake-ups",
)


def bytewax_sessionize_run(state):
    """The same dataflow as bytewax_run, with sessionize.bytewax.fold_window
    (the adapter: Bytewax's clock per key, the C sessionizer) in place of
    Bytewax's fold_window + SessionWindower."""
    import bytewax.operators as op
    from bytewax.dataflow import Dataflow
    from bytewax.testing import TestingSink, TestingSource, run_main

    from sessionize.bytewax import fold_window

    events, gap, wait = state
    flow = Dataflow("bench_sessions")
    inp = op.input("inp", flow, TestingSource(events, batch_size=BYTEWAX_BATCH))
    keyed = op.key_on("key", inp, lambda e: str(e[0]))
    wo = fold_window("sessions", keyed, gap=gap, ts_getter=lambda e: e[2], wait=wait,
                     builder=list, folder=_fold, now_getter=lambda: FROZEN_NOW)
    down, late = [], []
    op.output("down", wo.down, TestingSink(down))
    op.output("late", wo.late, TestingSink(late))
    run_main(flow)
    return down, late


def _bytewax_sessionize_setup():
    _bytewax_setup()
    import sessionize.bytewax  # noqa: F401


BYTEWAX_SESSIONIZE = Peer(
    run=bytewax_sessionize_run, prepare=_bytewax_prepare, labels=_bytewax_labels,
    setup=_bytewax_sessionize_setup, engine="bytewax", max_n=1_000_000,
    note=f"the bytewax dataflow with sessionize.bytewax.fold_window, batches of {BYTEWAX_BATCH}",
)


# --------------------------------------------------------------------- Beam

def _beam_setup():
    import logging

    logging.getLogger().setLevel(logging.ERROR)  # apitools/bigquery import chatter
    import apache_beam  # noqa: F401


def _beam_prepare(users, times, gap):
    events = list(zip(users.tolist(), range(len(users)), times.tolist()))
    return events, int(gap)


def beam_run(state, use_sessionize=False):
    """Create -> TimestampedValue -> WindowInto(Sessions(gap)) -> GroupByKey
    on the DirectRunner (in memory, one worker); each merged window's event
    rows are written out with WriteToText and read back.  With
    `use_sessionize`, sessionize.beam.Sessionize(gap) replaces the
    WindowInto + GroupByKey pair; everything else is the same pipeline."""
    import glob
    import json
    import os
    import tempfile

    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.transforms import window
    from apache_beam.utils.timestamp import Duration, Timestamp

    events, gap_ms = state
    opts = PipelineOptions(["--direct_num_workers=1", "--direct_running_mode=in_memory"])
    with tempfile.TemporaryDirectory() as d:
        prefix = os.path.join(d, "sessions")
        with beam.Pipeline(runner="DirectRunner", options=opts) as p:
            _ = (
                p
                | "events" >> _create(events)
                | "stamp" >> beam.Map(lambda e: window.TimestampedValue(
                    (e[0], e[1]), Timestamp(micros=e[2] * 1000)))
                | "sessions" >> _beam_sessions(Duration(micros=gap_ms * 1000), use_sessionize)
                | "rows" >> beam.MapTuple(lambda key, rows: json.dumps(list(rows)))
                | "global" >> beam.WindowInto(window.GlobalWindows())
                | "write" >> beam.io.WriteToText(prefix)
            )
        groups = []
        for path in glob.glob(prefix + "*"):
            with open(path) as f:
                groups += [json.loads(line) for line in f if line.strip()]
    return groups


def _create(events):
    """The events as a PCollection, as a source would deliver them: one
    Impulse expanded by a FlatMap, typed.  beam.Create would first infer a
    type from every element and reshuffle them (a redistribution meant for
    distributed runners): costs a pipeline reading a file does not pay.
    Both Beam peers read their events this way."""
    from typing import Tuple

    import apache_beam as beam

    return (beam.Impulse()
            | beam.FlatMap(lambda _, events=events: events).with_output_types(
                Tuple[int, int, int]))


def _beam_sessions(gap, use_sessionize):
    import apache_beam as beam
    from apache_beam.transforms import window

    if use_sessionize:
        from sessionize.beam import Sessionize

        # (key, BeamSession) -> (key, its values): what GroupByKey gives
        return Sessionize(gap) | beam.MapTuple(lambda key, s: (key, s.values))
    return beam.WindowInto(window.Sessions(gap)) | beam.GroupByKey()


def beam_sessionize_run(state):
    """beam_run's pipeline with sessionize.beam.Sessionize(gap) in place of
    WindowInto(Sessions(gap)) + GroupByKey."""
    return beam_run(state, use_sessionize=True)


def _beam_sessionize_setup():
    _beam_setup()
    import sessionize.beam  # noqa: F401


BEAM = Peer(
    run=beam_run, prepare=_beam_prepare, labels=_labels_from_groups,
    setup=_beam_setup, engine="beam", max_n=30_000, inclusive=False,
    note="WindowInto(Sessions) + GroupByKey, DirectRunner; matches inclusive=False",
)

BEAM_SESSIONIZE = Peer(
    run=beam_sessionize_run, prepare=_beam_prepare, labels=_labels_from_groups,
    setup=_beam_sessionize_setup, engine="beam", max_n=300_000, inclusive=False,
    note="the beam peer's pipeline with sessionize.beam.Sessionize in place of "
         "WindowInto(Sessions) + GroupByKey",
)


# -------------------------------------------------------------------- Spark

SPARK_PARTITIONS = 4  # shuffle partitions, both Spark peers (2 cores: 200 would be tiny tasks)


def _spark_setup():
    """A local[2] SparkSession, started before any measurement (the JVM's
    start-up is not what is compared)."""
    from pyspark.sql import SparkSession

    # the workers run this interpreter, which has sessionize (PySpark's
    # default, `python3` on PATH, may be another one)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    spark = (SparkSession.builder.master("local[2]").appName("sessionize-bench")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", str(SPARK_PARTITIONS))
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .config("spark.driver.memory", "2g")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.driver.host", "127.0.0.1")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")


def _spark_prepare(users, times, gap):
    """The events as a cached Spark DataFrame (user long, ts timestamp),
    materialized: what a job holds after reading its input."""
    import pandas as pd
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    spark = SparkSession.getActiveSession()
    df = (spark.createDataFrame(pd.DataFrame({"user": users, "t": times}))
          .select("user", F.timestamp_millis("t").alias("ts")).cache())
    df.count()
    return df, int(gap), users, times


def spark_run(state):
    """groupBy(user, F.session_window(ts, gap)) with count(*) and max(ts):
    each session's user, start, last event and count, fetched with toArrow()
    (returned with the inputs, which labels() needs)."""
    from pyspark.sql import functions as F

    df, gap_ms, _, _ = state
    table = (df.groupBy("user", F.session_window("ts", f"{gap_ms} milliseconds").alias("w"))
             .agg(F.max("ts").alias("end"), F.count("*").alias("count"))
             .select("user", F.col("w.start").alias("start"), "end", "count")
             .toArrow())
    return table, state[2], state[3]


def spark_sessionize_run(state, buckets="auto"):
    """The same sessions by sessionize.spark.sessions (applyInArrow, the C
    core once per bucket of keys, or per key with buckets=None)."""
    from datetime import timedelta

    from sessionize.spark import sessions

    df, gap_ms, _, _ = state
    table = (sessions(df, key="user", time="ts", gap=timedelta(milliseconds=gap_ms),
                      buckets=buckets)
             .select("user", "start", "end", "count").toArrow())
    return table, state[2], state[3]


def spark_sessionize_per_key_run(state):
    return spark_sessionize_run(state, buckets=None)


def _spark_labels(result, n):
    """Each event's session: the session of its user whose [start, end]
    holds its time (one user's sessions never overlap there); checks that
    each session's count is its number of events."""
    table, users, times = result
    s_user = table.column("user").to_numpy()
    s_start = table.column("start").cast("int64").to_numpy() // 1000  # us -> the ms of times
    s_end = table.column("end").cast("int64").to_numpy() // 1000
    counts = table.column("count").to_numpy()
    if counts.sum() != n:
        raise WrongAnswer(f"the sessions hold {counts.sum()} events, not {n}")
    lo = min(int(times.min()), int(s_start.min()))
    span = max(int(times.max()), int(s_end.max())) - lo + 1
    ev = users.astype(np.int64) * span + (times - lo)
    ss = s_user.astype(np.int64) * span + (s_start - lo)
    order = np.argsort(ss, kind="stable")
    pos = np.searchsorted(ss[order], ev, side="right") - 1
    if (pos < 0).any():
        raise WrongAnswer("an event before every session of its user")
    label = order[pos]
    bad = (s_user[label] != users) | (times > s_end[label])
    if bad.any():
        raise WrongAnswer(f"event {int(np.flatnonzero(bad)[0])} is in no session")
    if not (np.bincount(label, minlength=len(counts)) == counts).all():
        raise WrongAnswer("a session's count(*) is not its number of events")
    return label


def _spark_sessionize_setup():
    _spark_setup()
    import sessionize.spark  # noqa: F401


SPARK = Peer(
    run=spark_run, prepare=_spark_prepare, labels=_spark_labels, setup=_spark_setup, engine="spark",
    max_n=1_000_000, threads="all",
    note="groupBy(user, session_window) + count, local[2], toArrow()",
)

SPARK_SESSIONIZE = Peer(
    run=spark_sessionize_run, prepare=_spark_prepare, labels=_spark_labels,
    setup=_spark_sessionize_setup, engine="spark", max_n=1_000_000, threads="all",
    note="sessionize.spark.sessions (applyInArrow, the C core per shuffle partition), "
         "local[2], toArrow()",
)

SPARK_SESSIONIZE_PER_KEY = Peer(
    run=spark_sessionize_per_key_run, prepare=_spark_prepare, labels=_spark_labels,
    setup=_spark_sessionize_setup, engine="spark", max_n=300_000, threads="all",
    note="sessionize.spark.sessions(buckets=None): the C core once per key",
)
