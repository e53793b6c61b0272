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
- Exactly once into Iceberg: the example (examples/spark_streaming_iceberg.py)
  in a subprocess, killed during a batch and between two, restarted from its
  checkpoint each time, ends with the tables of an uninterrupted run, each
  session once, and prints their counts.

The file name holds "spark": CI's sanitizer pass runs `-k "not spark"`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
from pathlib import Path

import numpy as np
import pytest

from engines.require import optional

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "spark_streaming_iceberg.py"
PANDAS_WARNING = "ignore:PySpark does not yet fully support pandas:FutureWarning"
pytestmark = pytest.mark.filterwarnings(PANDAS_WARNING)

MIN = 60 * 10**6  # one minute in microseconds
ORIGIN = 1_700_000_000 * 10**6
SENTINEL = "~end"  # a key whose far-future event moves the watermark past the rest
SCHEMA = "user string, ts timestamp"


@pytest.fixture(scope="module")
def spark():
    from engines.spark_run import adapter_spark

    session = adapter_spark(pandas=True)
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


def start_query(spark, folder: Path, checkpoint: Path, build, *, reader_options=None,
                schema=SCHEMA):
    """Starts build(streaming df) over the files; -> (query, its rows so far)."""
    reader = spark.readStream.schema(schema).option("maxFilesPerTrigger", 1)
    for k, v in (reader_options or {}).items():
        reader = reader.option(k, v)
    events = reader.json(str(folder)).withWatermark("ts", "10 minutes")
    rows = []
    query = (build(events).writeStream.outputMode("append")
             .foreachBatch(lambda b, _i: rows.extend(b.collect()))
             .option("checkpointLocation", str(checkpoint))
             .trigger(availableNow=True).start())
    return query, rows


def run_query(spark, folder: Path, checkpoint: Path, build, **options):
    """Runs build(streaming df) to the end of the files; -> (rows, progress)."""
    query, rows = start_query(spark, folder, checkpoint, build, **options)
    query.awaitTermination()
    return rows, query.recentProgress


def us_of(ts) -> int:
    return (ts - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1)


def stream_rows(rows):
    """Sessions as (user, start, end, count, window_end) micros, and the
    other rows as (kind, user, time).  Checks each key's `index`: 0, 1, ...
    in time order, from 0 again after the key was released (a Sessionizer's
    index counts since the key was last held)."""
    sessions, others, index = [], [], {}
    for r in rows:
        if r.kind == "session":
            if r.user != SENTINEL:
                sessions.append((r.user, us_of(r.start), us_of(r.end), r["count"],
                                 us_of(r.window_end)))
                index[(r.user, us_of(r.start))] = r["index"]
        else:
            others.append((r.kind, r.user, None if r.start is None else us_of(r.start)))
    sessions.sort()
    for prev, s in zip([None] + sessions, sessions):
        i = index[s[:2]]
        assert i == 0 or (prev is not None and prev[0] == s[0] and i == index[prev[:2]] + 1)
    return sessions, sorted(others, key=repr)


def reference(events, **options):
    import sessionize

    keys = np.array([u for u, _ in events], dtype=object)
    times = np.array([t for _, t in events], dtype=np.int64)
    table = sessionize.sessions(keys, times, gap=30 * MIN, **options)
    return sorted((s.key, s.start, s.end, s.count, s.window_end) for s in table.rows())


CASES = [
    dict(max_duration=None, inclusive=True),
    dict(max_duration="2 hours", max_duration_mode="restart", inclusive=True),
    dict(max_duration="2 hours", max_duration_mode="fixed", inclusive=False),
    dict(max_duration="2 hours", max_duration_mode="fixed", inclusive=True),
    dict(max_duration="2 hours", max_duration_mode="restart", inclusive=False),
    dict(max_duration="2 hours", max_duration_mode="restart", inclusive=True, buckets=None),
    dict(max_duration=None, inclusive=True, buckets=7),
]


def test_equals_batch_sessions_when_nothing_is_late(spark, sz, tmp_path):
    """Each case's own events and query, the queries running side by side."""
    runs = []
    for i, case in enumerate(CASES):
        chunks = generate(100 + i, 600, 15, 5)
        write_files(tmp_path / f"in{i}", chunks)
        query, rows = start_query(
            spark, tmp_path / f"in{i}", tmp_path / f"ck{i}",
            lambda df, case=case: sz.stream_sessions(df, key="user", time="ts",
                                                     gap="30 minutes", **case))
        runs.append((case, chunks, query, rows))
    for case, chunks, query, rows in runs:
        query.awaitTermination()
        sessions, others = stream_rows(rows)
        assert others == [], case
        options = {k: (v if k != "max_duration" or v is None else 2 * 60 * MIN)
                   for k, v in case.items() if k != "buckets"}
        expected = reference([e for c in chunks for e in c], **options)
        assert sessions == expected, case
        assert len({s[:2] for s in sessions}) == len(sessions), case  # each session once


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
    try:  # side by side
        q1, ours = start_query(spark, tmp_path / "in", tmp_path / "ck1",
                               lambda df: sz.stream_sessions(df, key="user", time="ts",
                                                             gap="30 minutes"))
        q2, theirs = start_query(
            spark, tmp_path / "in", tmp_path / "ck2",
            lambda df: df.groupBy("user", F.session_window("ts", "30 minutes").alias("w"))
            .agg(F.count("*").alias("n"), F.max("ts").alias("last")))
        q1.awaitTermination()
        q2.awaitTermination()
        progress = q2.recentProgress
    finally:
        spark.conf.unset("spark.sql.streaming.statefulOperator.allowMultiple")
    sessions, others = stream_rows(ours)
    spark_sessions = sorted((r.user, us_of(r.w.start), us_of(r["last"]), r.n,
                             us_of(r.w.end)) for r in theirs if r.user != SENTINEL)
    assert sessions == spark_sessions
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


def _example(args):
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, str(EXAMPLE), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def _commits(checkpoint: Path) -> int:
    folder = checkpoint / "commits"
    return len([p for p in folder.iterdir() if p.name.isdigit()]) if folder.exists() else 0


def _table_rows(sink, which):
    t = sink.read(which)
    return [] if t is None else sorted(map(repr, t.to_pylist()))


def test_exactly_once_into_iceberg_across_kills(spark, tmp_path):
    """The example (examples/spark_streaming_iceberg.py), killed inside a
    batch (after its sessions' Iceberg commit, before its rejects' and
    Spark's) and between two batches (SIGKILL as soon as the checkpoint
    recorded two more), restarted from its checkpoint each time: each
    session once, every event in exactly one place, the late events those
    of an uninterrupted run or fewer (see below), and the
    sessions are sessionize.sessions() over the events not rejected."""
    import importlib.util
    import signal
    import time

    optional("pyiceberg", extra="iceberg")
    optional("sqlalchemy", extra="iceberg")
    from sessionize.spark_iceberg import IcebergSink

    spec = importlib.util.spec_from_file_location("spark_streaming_example", EXAMPLE)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    work = tmp_path / "killed"
    example.generate(work / "input", users=20, events=800, files=6)
    first = _example(["--workdir", work, "--crash-in-batch", 2])
    # meanwhile, the uninterrupted run, in this process
    ref = example.run(spark, work / "input", tmp_path / "ck-ref", tmp_path / "wh-ref")

    out, _ = first.communicate(timeout=300)
    assert first.returncode == 17, out
    sink = IcebergSink(work / "warehouse", table="clicks.sessions", rejects="clicks.rejects",
                       job=f"sessions@{work / 'checkpoint'}")
    died_in = int(re.search(r"crashing in micro-batch (\d+)", out).group(1))
    assert sink.last_batch(sink.catalog.load_table(sink.table)) == died_in
    assert _commits(work / "checkpoint") == died_in  # Spark had not recorded it
    # restarted; SIGKILLed between two batches once two more are recorded
    start = _commits(work / "checkpoint")
    second = _example(["--workdir", work])
    deadline = time.monotonic() + 240
    while (_commits(work / "checkpoint") < start + 2 and second.poll() is None
           and time.monotonic() < deadline):
        time.sleep(0.05)
    second.send_signal(signal.SIGKILL)
    second.communicate(timeout=60)
    assert second.returncode == -signal.SIGKILL
    assert _commits(work / "checkpoint") < 7  # killed before the end
    # restarted to the end: it prints the table's counts
    third = _example(["--workdir", work])
    out, _ = third.communicate(timeout=300)
    assert third.returncode == 0, out
    counts, ref_counts = sink.counts(), ref.counts()
    assert (f"sessions: {counts['session']}  late events: {counts['late']}  "
            f"bad records: {counts['bad']}") in out
    assert ref_counts["late"] == 4 and ref_counts["bad"] == 1  # what generate() put in

    # Each session once, and every event in exactly one place: a session or
    # a reject, as many in all as the uninterrupted run placed
    sessions = _table_rows(sink, "sessions")
    assert len(set(sessions)) == len(sessions)
    placed = sum(r["count"] for r in sink.read("sessions").to_pylist()) + \
        counts["late"] + counts["bad"]
    ref_placed = sum(r["count"] for r in ref.read("sessions").to_pylist()) + \
        ref_counts["late"] + ref_counts["bad"]
    assert placed == ref_placed
    # The bad records are the same.  Late events can be fewer, never more or
    # others: Spark restores its watermark from the offset log, which holds
    # the watermark a batch ran with, not the event times seen in the last
    # batch before the kill, so after a restart the next batch's watermark
    # can lag the uninterrupted run's (Spark's own session_window drops
    # fewer rows then too); an event judged late there may join a session
    # here.  When the kill left the watermark where it was, all is equal.
    rejects, ref_rejects = _table_rows(sink, "rejects"), _table_rows(ref, "rejects")
    assert counts["bad"] == ref_counts["bad"]
    assert set(rejects) <= set(ref_rejects) and len(set(rejects)) == len(rejects)
    if counts == ref_counts:
        assert sessions == _table_rows(ref, "sessions")
        assert rejects == ref_rejects

    # the sessions: sessionize.sessions() over the events not rejected
    rejected = {(r["user"], r["time"]) for r in sink.read("rejects").to_pylist()}
    events = []
    for f in sorted((work / "input").iterdir()):
        for line in f.read_text().splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            t = dt.datetime.fromisoformat(e["ts"])
            if (e["user"], t) not in rejected and e["user"] != "~watermark":
                events.append((e["user"], us_of(t.replace(tzinfo=None))))
    got = sorted((r["user"], us_of(r["start"].replace(tzinfo=None)),
                  us_of(r["end"].replace(tzinfo=None)), r["count"],
                  us_of(r["window_end"].replace(tzinfo=None)))
                 for r in sink.read("sessions").to_pylist())
    assert got == reference(events, max_duration=2 * 60 * MIN)
