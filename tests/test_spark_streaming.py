"""sessionize.spark.stream_sessions on Spark Structured Streaming (local[2]).

The input is Spark's file source: JSON files, one per micro-batch
(maxFilesPerTrigger=1, files dated in order), run with
trigger(availableNow=True), whose closing no-data batch moves the watermark
past everything but a sentinel key's event, 10 minutes of watermark delay.

- Nothing late: the sessions equal sessionize.sessions() over the same
  events (both cap modes, inclusive both ways), and, without a cap, Spark's
  own streaming session_window in append mode with the same watermark.
- Late events (behind the batch's watermark): each comes out once as a
  "late" row, none is in a session, and the sessions are those of the other
  events; Spark's session_window (allowMultiple=false: the batch's own
  watermark) drops exactly as many.
- Bad input: a null key or time fails the query naming the column
  (on_bad="raise"), or is a counted "bad" row (on_bad="keep"), as is a
  malformed JSON line (PERMISSIVE mode).
- Exactly once into Iceberg (tests/spark_stream_job.py in a subprocess):
  killed between two batches, and during one, then restarted from its
  checkpoint, the table holds each session once, as an uninterrupted run.
- The example (examples/spark_streaming_iceberg.py) runs and prints its counts.

The file name holds "spark": CI's sanitizer pass runs `-k "not spark"`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from pathlib import Path

import numpy as np
import pytest

from engines.require import engine, optional, require_java

ROOT = Path(__file__).resolve().parent.parent
PANDAS_WARNING = "ignore:PySpark does not yet fully support pandas:FutureWarning"
pytestmark = pytest.mark.filterwarnings(PANDAS_WARNING)

MIN = 60 * 10**6  # one minute in microseconds
ORIGIN = 1_700_000_000 * 10**6
SENTINEL = "~end"  # a key whose far-future event moves the watermark past the rest
SCHEMA = "user string, ts timestamp"


@pytest.fixture(scope="module")
def spark():
    engine("pyspark", dist="pyspark", minversion="4.0")
    engine("pyarrow", dist="pyarrow", minversion="14")
    optional("pandas", extra="spark")
    require_java(17)
    from engines.spark_run import local_spark

    session = local_spark()
    yield session
    session.stop()


@pytest.fixture(scope="module")
def sz(spark):
    from sessionize import spark as sz

    return sz


def iso(us: int) -> str:
    return (dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=us)).isoformat() + "Z"


def generate(seed: int, n: int, n_users: int, files: int):
    """(user, micros) events in `files` chunks, in time order from chunk to
    chunk (nothing late), shuffled within one; steps of 0, exactly 30 min,
    30 min +- 1 us, and spans long enough for the 2 h cap."""
    rng = random.Random(seed)
    now = {f"u{k}": ORIGIN + rng.randrange(60 * MIN) for k in range(n_users)}
    steps = (0, 30 * MIN, 30 * MIN - 1, 30 * MIN + 1, 7 * MIN, 20 * MIN, 3 * 60 * MIN, MIN)
    events = []
    for _ in range(n):
        u = rng.choice(list(now))
        now[u] += rng.choice(steps)
        events.append((u, now[u]))
    events.sort(key=lambda e: e[1])
    size = -(-len(events) // files)
    chunks = [events[i:i + size] for i in range(0, len(events), size)]
    for c in chunks:
        rng.shuffle(c)
    return chunks


def write_files(folder: Path, chunks, *, extra_lines=None):
    """One JSON-lines file per chunk, modified in order (the file source
    takes files by modification time), then the sentinel's file."""
    folder.mkdir(parents=True, exist_ok=True)
    last = max(t for c in chunks for _, t in c)
    chunks = list(chunks) + [[(SENTINEL, last + 10 * 24 * 60 * MIN)]]
    for i, chunk in enumerate(chunks):
        path = folder / f"part-{i:04d}.json"
        lines = [json.dumps({"user": u, "ts": iso(t)}) for u, t in chunk]
        lines += (extra_lines or {}).get(i, [])
        path.write_text("\n".join(lines) + "\n")
        os.utime(path, (1_600_000_000 + i, 1_600_000_000 + i))


def run_query(spark, folder: Path, checkpoint: Path, build, *, reader_options=None,
              schema=SCHEMA):
    """Runs build(streaming df) to the end of the files; -> (rows, progress)."""
    reader = spark.readStream.schema(schema).option("maxFilesPerTrigger", 1)
    for k, v in (reader_options or {}).items():
        reader = reader.option(k, v)
    events = reader.json(str(folder)).withWatermark("ts", "10 minutes")
    rows = []
    query = (build(events).writeStream.outputMode("append")
             .foreachBatch(lambda b, _i: rows.extend(b.collect()))
             .option("checkpointLocation", str(checkpoint))
             .trigger(availableNow=True).start())
    query.awaitTermination()
    return rows, query.recentProgress


def us_of(ts) -> int:
    return (ts - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1)


def stream_rows(rows):
    """Sessions as (user, start, end, count, index, window_end) micros, and
    the other rows as (kind, user, time)."""
    sessions, others = [], []
    for r in rows:
        if r.kind == "session":
            if r.user != SENTINEL:
                sessions.append((r.user, us_of(r.start), us_of(r.end), r["count"],
                                 r["index"], us_of(r.window_end)))
        else:
            others.append((r.kind, r.user, None if r.start is None else us_of(r.start)))
    return sorted(sessions), sorted(others, key=repr)


def reference(events, **options):
    import sessionize

    keys = np.array([u for u, _ in events], dtype=object)
    times = np.array([t for _, t in events], dtype=np.int64)
    table = sessionize.sessions(keys, times, gap=30 * MIN, **options)
    return sorted((s.key, s.start, s.end, s.count, s.index, s.window_end)
                  for s in table.rows())


CASES = [
    dict(max_duration=None, inclusive=True),
    dict(max_duration="2 hours", max_duration_mode="restart", inclusive=True),
    dict(max_duration="2 hours", max_duration_mode="fixed", inclusive=False),
    dict(max_duration="2 hours", max_duration_mode="fixed", inclusive=True),
    dict(max_duration="2 hours", max_duration_mode="restart", inclusive=False),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.get('max_duration_mode', 'nocap')}"
                         f"-{'incl' if c['inclusive'] else 'excl'}")
def test_equals_batch_sessions_when_nothing_is_late(spark, sz, tmp_path, case):
    chunks = generate(hash(repr(case)) % 1000, 600, 15, 5)
    write_files(tmp_path / "in", chunks)
    rows, _ = run_query(spark, tmp_path / "in", tmp_path / "ck", lambda df: sz.stream_sessions(
        df, key="user", time="ts", gap="30 minutes", **case))
    sessions, others = stream_rows(rows)
    assert others == []
    options = {k: (v if k != "max_duration" or v is None else 2 * 60 * MIN)
               for k, v in case.items()}
    expected = reference([e for c in chunks for e in c], **options)
    assert sessions == expected
    # each session once
    assert len({s[:2] for s in sessions}) == len(sessions)


def late_chunks(seed: int):
    """Nothing-late chunks, then, in the third and fifth files, events an
    hour behind the watermark of their batch: -> (chunks, late events)."""
    chunks = generate(seed, 400, 10, 6)
    late = []
    rng = random.Random(seed)
    for i in (2, 4):
        floor = max(t for c in chunks[:i - 1] for _, t in c) - 10 * MIN  # the batch's watermark
        for _ in range(3):
            e = (f"u{rng.randrange(10)}", floor - 60 * MIN - rng.randrange(30 * MIN))
            chunks[i].append(e)
            late.append(e)
        floor_exact = (chunks[i][0][0], floor)  # exactly at the watermark: late too
        chunks[i].append(floor_exact)
        late.append(floor_exact)
    return chunks, late


def test_late_events_are_counted_available_and_in_no_session(spark, sz, tmp_path):
    chunks, late = late_chunks(7)
    write_files(tmp_path / "in", chunks)
    rows, _ = run_query(spark, tmp_path / "in", tmp_path / "ck", lambda df: sz.stream_sessions(
        df, key="user", time="ts", gap="30 minutes", max_duration="2 hours"))
    sessions, others = stream_rows(rows)
    assert sorted(others, key=repr) == sorted((("late", u, t) for u, t in late), key=repr)
    on_time = [e for c in chunks for e in c if e not in late]
    assert sessions == reference(on_time, max_duration=2 * 60 * MIN)
    assert sum(s[3] for s in sessions) == len(on_time)


def test_equals_spark_session_window_in_streaming(spark, sz, tmp_path):
    """No cap: the same sessions as Spark's own streaming session_window in
    append mode, the same watermark; with late events too, Spark judging
    them against the batch's own watermark (allowMultiple=false)."""
    from pyspark.sql import functions as F

    chunks, late = late_chunks(11)
    write_files(tmp_path / "in", chunks)
    spark.conf.set("spark.sql.streaming.statefulOperator.allowMultiple", "false")
    try:
        ours, _ = run_query(spark, tmp_path / "in", tmp_path / "ck1",
                            lambda df: sz.stream_sessions(df, key="user", time="ts",
                                                          gap="30 minutes"))
        theirs, progress = run_query(
            spark, tmp_path / "in", tmp_path / "ck2",
            lambda df: df.groupBy("user", F.session_window("ts", "30 minutes").alias("w"))
            .agg(F.count("*").alias("n"), F.max("ts").alias("last")))
    finally:
        spark.conf.unset("spark.sql.streaming.statefulOperator.allowMultiple")
    sessions, others = stream_rows(ours)
    spark_sessions = sorted((r.user, us_of(r.w.start), us_of(r["last"]), r.n,
                             us_of(r.w.end)) for r in theirs if r.user != SENTINEL)
    assert [(u, s, e, n, w) for u, s, e, n, _i, w in sessions] == spark_sessions
    dropped = sum(op.get("numRowsDroppedByWatermark", 0)
                  for p in progress for op in p["stateOperators"])
    assert dropped == len(late) == len([o for o in others if o[0] == "late"])


def test_null_key_or_time_fails_naming_the_column(spark, sz, tmp_path):
    from pyspark.errors import StreamingQueryException

    write_files(tmp_path / "in", [[("u1", ORIGIN)]],
                extra_lines={0: [json.dumps({"user": "u2", "ts": None})]})
    with pytest.raises(StreamingQueryException, match="time: null in column 'ts'"):
        run_query(spark, tmp_path / "in", tmp_path / "ck", lambda df: sz.stream_sessions(
            df, key="user", time="ts", gap="30 minutes"))


def test_bad_rows_and_malformed_json_are_counted(spark, sz, tmp_path):
    chunks = generate(3, 100, 5, 2)
    write_files(tmp_path / "in", chunks, extra_lines={
        0: [json.dumps({"user": None, "ts": iso(ORIGIN)}), "{not json"],
        1: [json.dumps({"user": "u1", "ts": "not a time"}), json.dumps({"user": "u2"})]})
    rows, _ = run_query(spark, tmp_path / "in", tmp_path / "ck", lambda df: sz.stream_sessions(
        df, key="user", time="ts", gap="30 minutes", on_bad="keep"),
        schema=SCHEMA + ", _corrupt_record string",
        reader_options={"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt_record"})
    sessions, others = stream_rows(rows)
    assert sorted(others, key=repr) == sorted(
        [("bad", None, ORIGIN), ("bad", None, None), ("bad", "u1", None), ("bad", "u2", None)],
        key=repr)
    assert sessions == reference([e for c in chunks for e in c])


def test_stream_sessions_refuses_what_it_cannot_run(spark, sz, tmp_path):
    from sessionize import SessionizeError

    batch = spark.createDataFrame([("a", 1)], "user string, n long")
    with pytest.raises(SessionizeError, match="not a streaming DataFrame"):
        sz.stream_sessions(batch, key="user", time="n", gap=5)
    stream = spark.readStream.schema(SCHEMA).json(str(tmp_path))
    with pytest.raises(SessionizeError, match="time: column 'ts' has no watermark"):
        sz.stream_sessions(stream, key="user", time="ts", gap="30 minutes")
    with pytest.raises(SessionizeError, match="on_bad"):
        sz.stream_sessions(stream.withWatermark("ts", "1 minute"), key="user", time="ts",
                           gap="30 minutes", on_bad="drop")


def _job(args, **kw):
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, str(ROOT / "tests" / "spark_stream_job.py"),
                             *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, **kw)


def _commits(checkpoint: Path) -> int:
    folder = checkpoint / "commits"
    return len([p for p in folder.iterdir() if p.name.isdigit()]) if folder.exists() else 0


def _table_rows(sink, which):
    t = sink.read(which)
    return [] if t is None else sorted(map(repr, t.to_pylist()))


def test_exactly_once_into_iceberg_across_kills(spark, sz, tmp_path):
    """Killed during a batch (after its sessions' Iceberg commit, before
    Spark's) and between two batches (SIGKILL once the checkpoint recorded
    two more), restarted from the checkpoint each time: the tables hold
    what an uninterrupted run writes, each session once."""
    import signal
    import time

    from sessionize.spark_iceberg import IcebergSink

    chunks, late = late_chunks(5)
    write_files(tmp_path / "in", chunks, extra_lines={3: ["{malformed", "{}"]})
    # the uninterrupted run, in this process
    ref = IcebergSink(tmp_path / "wh-ref", job="test-job")
    events = (spark.readStream.schema(SCHEMA + ", _corrupt_record string")
              .option("maxFilesPerTrigger", 1).option("mode", "PERMISSIVE")
              .option("columnNameOfCorruptRecord", "_corrupt_record")
              .json(str(tmp_path / "in")).withWatermark("ts", "10 minutes"))
    (sz.stream_sessions(events, key="user", time="ts", gap="30 minutes",
                        max_duration="2 hours", on_bad="keep")
     .writeStream.outputMode("append").foreachBatch(ref)
     .option("checkpointLocation", str(tmp_path / "ck-ref"))
     .trigger(availableNow=True).start().awaitTermination())

    ck, wh = tmp_path / "ck", tmp_path / "wh"
    sink = IcebergSink(wh, job="test-job")
    # 1. dies inside batch 2, between its two tables' commits
    p = _job([tmp_path / "in", ck, wh, "--die-in-batch", 2])
    out, _ = p.communicate(timeout=300)
    assert p.returncode == 17, out
    died_in = int(out.split("dying in batch ")[1].split()[0])
    assert sink.last_batch(sink.catalog.load_table(sink.table)) == died_in
    assert _commits(ck) == died_in  # Spark had not recorded it
    # 2. restarted; SIGKILLed between two batches once two more are recorded
    start = _commits(ck)
    p = _job([tmp_path / "in", ck, wh, "--pause", 3])
    deadline = time.monotonic() + 240
    while _commits(ck) < start + 2 and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=60)
    assert p.returncode == -signal.SIGKILL
    # 3. restarted to the end
    p = _job([tmp_path / "in", ck, wh])
    out, _ = p.communicate(timeout=300)
    assert p.returncode == 0, out

    sessions = _table_rows(sink, "sessions")
    assert sessions == _table_rows(ref, "sessions")
    assert len(set(sessions)) == len(sessions)
    counts = sink.counts()
    assert counts == ref.counts()
    assert counts["late"] == len(late) and counts["bad"] == 2
    assert _table_rows(sink, "rejects") == _table_rows(ref, "rejects")
    # and the sessions are the batch function's over the events in time
    got = sorted((r["user"], us_of(r["start"].replace(tzinfo=None)), r["count"])
                 for r in sink.read("sessions").to_pylist() if r["user"] != SENTINEL)
    on_time = [e for c in chunks for e in c if e not in late]
    assert got == sorted((u, s, n) for u, s, _e, n, _i, _w
                         in reference(on_time, max_duration=2 * 60 * MIN))
