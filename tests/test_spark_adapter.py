"""sessionize.spark on a local Spark (local[2]), against Spark and the reference.

- sessions() with the defaults equals Spark's own groupBy(key,
  F.session_window(ts, gap)) run in the same session, on random data full of
  events exactly gap (and gap +- 1 us) apart and of ties, many keys, per key
  and per hash bucket of keys; inclusive=False differs from it there and
  equals the reference instead.
- The Spark seed's rules (30 min inactivity, 2 h cap, both cap modes) on its
  event schema: sessions() and assign() equal tests/reference.py; the example
  script (examples/spark_sessions.py) prints the seed's rows, checked the same
  way.
- Integer and double-second time columns, against the reference.
- Bad input: errors at the call naming the argument; null keys and times
  fail the action with the SessionizeError's message.

The file name holds "spark": CI's sanitizer pass runs `-k "not spark"` (the
JVM's start-up scripts hang under a preloaded ASan runtime).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from reference import reference_sessions

ROOT = Path(__file__).resolve().parent.parent
PANDAS_WARNING = "ignore:PySpark does not yet fully support pandas:FutureWarning"
pytestmark = pytest.mark.filterwarnings(PANDAS_WARNING)

GAP_US = 5_000_000
ORIGIN_US = 1_700_000_000 * 10**6 + 654_321


@pytest.fixture(scope="module")
def spark():
    from engines.spark_run import adapter_spark

    session = adapter_spark()
    yield session
    session.stop()


@pytest.fixture(scope="module")
def sz(spark):
    from sessionize import spark as sz

    return sz


def boundary_events(seed: int, n: int, n_keys: int):
    """(key, id, micros) rows, shuffled: each key's times step by 0 (ties),
    gap - 1, gap, gap + 1 us, half a gap or three gaps."""
    rng = random.Random(seed)
    now = {f"k{k}": ORIGIN_US + rng.randrange(GAP_US) for k in range(n_keys)}
    steps = (0, GAP_US - 1, GAP_US, GAP_US, GAP_US + 1, GAP_US // 2, 3 * GAP_US)
    rows = []
    for i in range(n):
        k = rng.choice(list(now))
        now[k] += rng.choice(steps)
        rows.append((k, i, now[k]))
    rng.shuffle(rows)
    return rows


def _frame(spark, rows):
    from pyspark.sql import functions as F

    return (spark.createDataFrame(rows, "key string, id long, us long")
            .withColumn("ts", F.timestamp_micros("us")))


def _ours(out, key="key"):
    from pyspark.sql import functions as F

    return sorted(tuple(r) for r in out.select(
        key, F.unix_micros("start"), F.unix_micros("end"), F.unix_micros("window_end"),
        "count", "index").collect())


def _spark_session_window(df, gap):
    """Spark's own session windows, with each session's index within its key
    (its rank by start)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    w = (df.groupBy("key", F.session_window("ts", gap).alias("w"))
         .agg(F.max("ts").alias("last"), F.count("*").alias("n")))
    rank = F.row_number().over(Window.partitionBy("key").orderBy("w.start")) - 1
    return sorted(tuple(r) for r in w.select(
        "key", F.unix_micros("w.start"), F.unix_micros("last"), F.unix_micros("w.end"),
        "n", rank).collect())


def _reference(rows, gap, max_duration=None, mode="restart", inclusive=True):
    _ids, ss = reference_sessions([r[0] for r in rows], [r[2] for r in rows], gap,
                                  max_duration, mode, inclusive)
    return sorted((s["key"], s["start"], s["end"], s["window_end"], s["count"], s["index"])
                  for s in ss)


@pytest.fixture(scope="module")
def boundary(spark):
    rows = boundary_events(seed=3, n=3000, n_keys=40)
    df = _frame(spark, rows).cache()
    return rows, df, _spark_session_window(df, "5 seconds")


def test_the_data_is_boundary_heavy(boundary):
    rows, _, _ = boundary
    per_key = {}
    for k, _, t in rows:
        per_key.setdefault(k, []).append(t)
    diffs = [b - a for ts in per_key.values() for a, b in zip(sorted(ts), sorted(ts)[1:])]
    assert diffs.count(GAP_US) >= 500 and diffs.count(0) >= 200
    assert diffs.count(GAP_US + 1) >= 200 and diffs.count(GAP_US - 1) >= 200


@pytest.mark.parametrize("buckets, gap", [(None, "5 seconds"), ("auto", "5 seconds"),
                                          (3, timedelta(seconds=5)),
                                          ("auto", "interval 5 seconds")])
def test_sessions_equal_spark_session_window(sz, boundary, buckets, gap):
    rows, df, theirs = boundary
    ours = _ours(sz.sessions(df, key="key", time="ts", gap=gap, buckets=buckets))
    assert ours == theirs
    assert ours == _reference(rows, GAP_US)


def test_exclusive_differs_from_session_window_and_equals_the_reference(sz, boundary):
    rows, df, theirs = boundary
    ours = _ours(sz.sessions(df, key="key", time="ts", gap="5s", inclusive=False))
    assert ours != theirs
    assert len(ours) > len(theirs)
    assert ours == _reference(rows, GAP_US, inclusive=False)


@pytest.mark.parametrize("buckets", [None, "auto"])
def test_assign_equals_the_reference(sz, spark, boundary, buckets):
    rows, df, _ = boundary
    for mode in ("restart", "fixed"):
        out = sz.assign(df, key="key", time="ts", gap="5s", max_duration="12s",
                        max_duration_mode=mode, buckets=buckets)
        assert out.columns == df.columns + ["session_id"]
        got = {r.id: (r.key, r.us, r.session_id) for r in out.collect()}
        ids, ss = reference_sessions([r[0] for r in rows], [r[2] for r in rows], GAP_US,
                                     12_000_000, mode)
        want = {r[1]: (r[0], r[2], ss[g]["index"]) for r, g in zip(rows, ids)}
        assert got == want, mode


def test_assign_joins_to_sessions(sz, boundary):
    """(key, session_id) of assign() is (key, index) of sessions(): the
    per-session count of assigned rows is the session's count."""
    _, df, _ = boundary
    a = sz.assign(df, key="key", time="ts", gap="5s").groupBy("key", "session_id").count()
    s = sz.sessions(df, key="key", time="ts", gap="5s")
    joined = s.join(a, (s.key == a.key) & (s.index == a.session_id), "full_outer")
    assert joined.filter((s["count"] != a["count"]) | s["count"].isNull()
                         | a["count"].isNull()).count() == 0


# ------------------------------------------------------------- the Spark seed

def _example():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "spark_sessions", ROOT / "examples" / "spark_sessions.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


SEED_GAP_MS, SEED_MAX_MS = 30 * 60 * 1000, 2 * 3600 * 1000


def _seed_reference(events, mode):
    keys = [e["uuid"] for e in events]
    times = [int(e["event_timestamp"]) for e in events]
    return reference_sessions(keys, times, SEED_GAP_MS, SEED_MAX_MS, mode)


@pytest.mark.parametrize("mode", ["restart", "fixed"])
def test_seed_rules_on_its_schema_equal_the_reference(sz, spark, mode):
    from pyspark.sql import functions as F

    ex = _example()
    events = ex.generate_events(users=12, events=1500, seed=11)
    df = spark.createDataFrame(events, "event_id string, page_name string, "
                               "event_timestamp string, booking_details string, uuid string, "
                               "event_details struct<event_name: string, event_type: string, "
                               "event_value: string>")
    df = df.withColumn("event_time", F.timestamp_millis(F.col("event_timestamp").cast("long")))
    ids, ss = _seed_reference(events, mode)
    # the cap must matter here, and differently in the two modes
    assert _seed_reference(events, "fixed")[0] != _seed_reference(events, "restart")[0]
    assert len(ss) > len(reference_sessions([e["uuid"] for e in events],
                                            [int(e["event_timestamp"]) for e in events],
                                            SEED_GAP_MS)[1])
    out = sz.sessions(df, key="uuid", time="event_time", gap="30 minutes",
                      max_duration="2 hours", max_duration_mode=mode)
    got = sorted(tuple(r) for r in out.select(
        "uuid", F.unix_millis("start"), F.unix_millis("end"), F.unix_millis("window_end"),
        "count", "index").collect())
    assert got == sorted((s["key"], s["start"], s["end"], s["window_end"], s["count"],
                          s["index"]) for s in ss)
    marked = sz.assign(df, key="uuid", time="event_time", gap=timedelta(minutes=30),
                       max_duration=timedelta(hours=2), max_duration_mode=mode)
    got_ids = {r.event_id: r.session_id for r in marked.select("event_id", "session_id")
               .collect()}
    assert got_ids == {e["event_id"]: ss[g]["index"] for e, g in zip(events, ids)}


def _seed_rows(events, mode):
    """The example's output rows, from the reference's sessions."""
    ids, ss = _seed_reference(events, mode)
    pages = {}
    in_order = sorted(zip(events, ids), key=lambda p: (int(p[0]["event_timestamp"]),
                                                       p[0]["event_id"]))
    for e, g in in_order:
        pages.setdefault(g, [])
        if e["page_name"] not in pages[g]:
            pages[g].append(e["page_name"])
    want = [{"uuid": s["key"], "session_id": f"{s['key']}_session_{s['index'] + 1}",
             "session_start_time_ms": s["start"], "session_end_time_ms": s["end"],
             "session_duration_seconds": (s["end"] - s["start"]) / 1000,
             "event_count": s["count"], "pages_visited": pages[g]}
            for g, s in enumerate(ss)]
    return sorted(want, key=lambda w: (w["uuid"], w["session_start_time_ms"]))


def test_example_script_prints_the_seeds_rows(spark):
    """examples/spark_sessions.py run as a user runs it (its own JVM; the
    default, fixed 2-hour blocks); its rows, in the seed's output schema,
    are the reference's sessions."""
    ex = _example()
    args = ["--users", "6", "--events", "300", "--seed", "5"]
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "spark_sessions.py"), *args,
                        "--json"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    assert rows == _seed_rows(ex.generate_events(6, 300, 5), "fixed")


@pytest.mark.parametrize("mode", ["restart", "fixed"])
def test_example_job_in_both_cap_modes(spark, mode):
    """The example's job (in this test's Spark session) in both cap modes,
    on data where the modes differ."""
    ex = _example()
    events = ex.generate_events(12, 1500, 11)
    rows = [r.asDict() for r in ex.sessionize_events(spark, events, mode).collect()]
    assert rows == _seed_rows(events, mode)


# ------------------------------------------------------- other time columns

def test_integer_and_double_time_columns(sz, spark):
    from pyspark.sql import functions as F

    rows = boundary_events(seed=9, n=600, n_keys=7)
    rows = [(int(k[1:]), i, t - ORIGIN_US) for k, i, t in rows]
    df = (spark.createDataFrame(rows, "key int, id long, t long")
          .withColumn("s", F.col("t") / 1_000_000))
    want = _reference(rows, GAP_US, 8 * GAP_US, "fixed")
    # double seconds are held as int(s * 1000000) microseconds (Beam's rule)
    want_s = _reference([(k, i, int(t / 1_000_000 * 1_000_000)) for k, i, t in rows],
                        GAP_US, 8 * GAP_US, "fixed")
    ints = sz.sessions(df, key="key", time="t", gap=GAP_US, max_duration=8 * GAP_US,
                       max_duration_mode="fixed")
    assert dict(ints.dtypes)["start"] == "bigint" and dict(ints.dtypes)["key"] == "int"
    assert _plain(ints) == want
    secs = sz.sessions(df, key="key", time="s", gap=5, max_duration=40,
                       max_duration_mode="fixed")
    assert dict(secs.dtypes)["start"] == "double"
    assert [(k, round(a * 1e6), round(b * 1e6), round(w * 1e6), n, x)
            for k, a, b, w, n, x in _plain(secs)] == want_s


def _plain(out):
    return sorted(tuple(r) for r in out.select(
        "key", "start", "end", "window_end", "count", "index").collect())


def test_timestamp_ntz_column_stays_ntz(sz, spark):
    from pyspark.sql import functions as F

    rows = boundary_events(seed=4, n=200, n_keys=3)
    df = _frame(spark, rows).withColumn("ts", F.col("ts").cast("timestamp_ntz"))
    out = sz.sessions(df, key="key", time="ts", gap="5s")
    assert dict(out.dtypes)["start"] == "timestamp_ntz"
    got = sorted(tuple(r) for r in out.select(
        "key", F.unix_micros(F.col("start").cast("timestamp")),
        F.unix_micros(F.col("end").cast("timestamp")),
        F.unix_micros(F.col("window_end").cast("timestamp")), "count", "index").collect())
    assert got == _reference(rows, GAP_US)


# ----------------------------------------------------------------- bad input

@pytest.fixture(scope="module")
def small(spark):
    return _frame(spark, [("a", 0, ORIGIN_US), ("a", 1, ORIGIN_US + 1), ("b", 2, ORIGIN_US)])


@pytest.mark.parametrize("kwargs, error, match", [
    ({"key": "nope"}, KeyError, "key: no column 'nope'"),
    ({"time": "nope"}, KeyError, "time: no column 'nope'"),
    ({"key": "id", "time": "key"}, TypeError, "time: column 'key' has type string"),
    ({"key": "ts", "time": "ts"}, ValueError, "key and time"),
    ({"gap": 0}, TypeError, "gap"),
    ({"gap": "0s"}, ValueError, "gap: must be > 0"),
    ({"gap": "five minutes"}, ValueError, "gap: cannot read"),
    ({"gap": "5 fortnights"}, ValueError, "gap: unknown unit"),
    ({"max_duration": "-1h"}, ValueError, "max_duration"),
    ({"max_duration_mode": "sliding"}, ValueError, "max_duration_mode"),
    ({"inclusive": "yes"}, TypeError, "inclusive"),
    ({"buckets": 0}, ValueError, "buckets: must be >= 1"),
    ({"buckets": 2.5}, TypeError, "buckets"),
    ({"buckets": "many"}, TypeError, "buckets"),
])
def test_bad_arguments_fail_at_the_call_naming_them(sz, small, kwargs, error, match):
    args = {"key": "key", "time": "ts", "gap": "5s", **kwargs}
    for fn in (sz.sessions, sz.assign):
        with pytest.raises(error, match=match):
            fn(small, **args)


def test_bad_frames_and_columns(sz, small):
    from pyspark.sql import functions as F

    import sessionize

    with pytest.raises(TypeError, match="df: expected a pyspark.sql.DataFrame"):
        sz.sessions([("a", 1)], key="key", time="ts", gap="5s")
    with pytest.raises(TypeError, match="key: column 'k' has type double"):
        sz.sessions(small.withColumn("k", F.lit(1.5)), key="k", time="ts", gap="5s")
    with pytest.raises(sessionize.SessionizeError, match="column: 'id' is already"):
        sz.assign(small, key="key", time="ts", gap="5s", column="id")
    with pytest.raises(sessionize.SessionizeError, match="key: a key column named 'start'"):
        sz.sessions(small.withColumnRenamed("key", "start"), key="start", time="ts", gap="5s")


@pytest.mark.parametrize("buckets", [None, "auto"])
def test_null_keys_and_times_fail_the_action_naming_them(sz, spark, buckets):
    from pyspark.errors import PythonException

    df = _frame(spark, [("a", 0, ORIGIN_US), (None, 1, ORIGIN_US)])
    with pytest.raises(PythonException, match="SessionizeError: key: null in column 'key'"):
        sz.sessions(df, key="key", time="ts", gap="5s", buckets=buckets).collect()
    df = _frame(spark, [("a", 0, ORIGIN_US), ("b", 1, None)])
    with pytest.raises(PythonException,
                       match="SessionizeError: time: null in column 'ts' \\(key 'b'\\)"):
        sz.assign(df, key="key", time="ts", gap="5s", buckets=buckets).collect()


def test_empty_frame_gives_no_sessions(sz, spark):
    df = _frame(spark, []).filter("id < 0")
    assert sz.sessions(df, key="key", time="ts", gap="5s").count() == 0
    assert sz.assign(df, key="key", time="ts", gap="5s").count() == 0
