"""Spark Structured Streaming: sessions of a streaming DataFrame, each once, final.

    from sessionize import spark as sz

    events = (spark.readStream.schema("user string, ts timestamp").json(folder)
              .withWatermark("ts", "10 minutes"))
    out = sz.stream_sessions(events, key="user", time="ts", gap="30 minutes",
                             max_duration="2 hours")
    out.writeStream.outputMode("append").foreachBatch(sink).start()

``stream_sessions`` is the streaming form of :func:`sessionize.spark.sessions`
(docs/spark-streaming.md has the whole job).  Its result is a streaming
DataFrame in append mode with the batch function's columns, ``<key>, start,
end, count, index, window_end``, and one more, ``kind``:

    "session"   a session, emitted once, when final: the watermark has
                reached its ``window_end`` (no event can join it any more),
                or the cap closed it
    "late"      an event at or behind the watermark of the micro-batch it
                came in (``time <= watermark``): it joins no session; its
                time is in ``start`` and ``end``, ``count`` is 1, ``index``
                and ``window_end`` are null
    "bad"       (``on_bad="keep"``) a row whose key or time is null, as
                Spark's JSON reader gives for a malformed line in PERMISSIVE
                mode: counted, in no session

Nothing is dropped silently: every input row is in a session or is a
"late" or "bad" row.  ``on_bad="raise"`` (the default, as the rest of
sessionize) fails the query instead, with a SessionizeError naming the
column.

How it runs, on Spark's arbitrary stateful processing
(``groupBy(key).applyInPandasWithState``, event-time timeouts):

- Per key, one ``sessionize.Sessionizer`` (times as int microseconds, the
  unit of Spark's timestamps) lives in Spark's state as its ``to_bytes()``
  snapshot: the code-free, versioned, checksummed format; restoring it runs
  no code, and a damaged one is refused.  Beside it, the number of sessions
  the key has emitted (``index`` goes on across batches and restarts) and
  the end of the last one.  Spark's checkpoint holds all of it.
- The Sessionizer's own watermark never moves by itself (its ``delay`` is
  larger than any time span); each call advances it to Spark's watermark
  of the batch (``GroupState.getCurrentWatermarkMs()``) + 1 us, so it emits
  exactly the sessions whose ``window_end`` the watermark has reached, the
  moment Spark's ``session_window`` evicts its own in append mode.
- The key's event-time timeout is set to the watermark at which its
  Sessionizer next has something to emit (``_key_due``), so an idle key's
  open session is emitted by the batch whose watermark passes it, with no
  event of that key.  A key with nothing open keeps only its counters.
- Lateness: Spark drops rows behind the watermark before a stateful
  operator sees them (counting them only in ``numRowsDroppedByWatermark``).
  To keep them, the rows go to the operator with their time as a plain
  long; the operator's watermark column (Spark needs one for event-time
  timeouts) is an all-null timestamp marked as the watermark column, which
  no row is ever behind.  The function judges lateness itself against the
  batch's watermark: ``time <= watermark`` is late, Spark's own rule for
  its watermark.  Spark's ``session_window`` with its default
  multi-operator watermark propagation judges late rows against the
  previous batch's watermark (one batch more lenient); with
  ``spark.sql.streaming.statefulOperator.allowMultiple=false`` it uses the
  batch's own, and then drops exactly the rows this function reports late.

Times: a TimestampType or TimestampNTZType column with a watermark
(``withWatermark``); durations as for :func:`sessionize.spark.sessions`.
"""

from __future__ import annotations

import numpy as np

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ._core import SessionizeError
from ._sessionizer import Sessionizer, _Kind

__all__ = ["stream_sessions", "KINDS"]

KINDS = ("session", "late", "bad")
# Spark's metadata key marking an event-time column (EventTimeWatermark.delayKey)
_WATERMARK_KEY = "spark.watermarkDelayMs"
_CLOCK = "__sessionize_clock"
_US = "__sessionize_us"
_NEVER = 2**62  # the Sessionizer's own delay: its watermark moves only by advance()
_KEY = 0        # each key's Sessionizer holds one key; the user's key is Spark's
_MICROS = _Kind("int")
_ON_BAD = ("raise", "keep")


def stream_sessions(df: DataFrame, *, key: str, time: str, gap, max_duration=None,
                    max_duration_mode: str = "restart", inclusive: bool = True,
                    on_bad: str = "raise") -> DataFrame:
    """The sessions of a streaming DataFrame (with a watermark on `time`), as
    a streaming DataFrame for append mode: ``<key>, start, end, count,
    index, window_end, kind``; see the module docstring for ``kind``
    ("session", "late", "bad").  Each session comes once, when final, and
    equals the row :func:`sessionize.spark.sessions` gives for it over the
    same events when none is late."""
    from . import spark as _spark  # not at import: the executors unpickle _Step alone

    if not isinstance(df, DataFrame):
        raise TypeError(f"df: expected a pyspark.sql.DataFrame, got {type(df).__name__}")
    if not df.isStreaming:
        raise SessionizeError("df: not a streaming DataFrame (spark.readStream...); "
                              "for a batch DataFrame use sessionize.spark.sessions()")
    if on_bad not in _ON_BAD:
        raise SessionizeError(f"on_bad: must be 'raise' or 'keep', got {on_bad!r}")
    if key in _spark._SESSION_COLUMNS + ("kind",):
        raise SessionizeError(f"key: a key column named {key!r} would clash with the "
                              f"sessions' own {key!r} column; rename it")
    plan = _spark._Plan(df, key, time, gap, max_duration, max_duration_mode, inclusive, None)
    if plan.time_kind != "micros":
        raise TypeError(f"time: column {time!r} must be a timestamp (a watermark needs "
                        f"one), got {df.schema[time].dataType.simpleString()}")
    if _WATERMARK_KEY not in df.schema[time].metadata:
        raise SessionizeError(f"time: column {time!r} has no watermark; call "
                              f"df.withWatermark({time!r}, '10 minutes') first")
    step = _Step(key, time, plan.gap_i, plan.max_i if max_duration is not None else None,
                 max_duration_mode, bool(inclusive), on_bad)
    time_type = plan.out_time_type
    delay = df.schema[time].metadata[_WATERMARK_KEY]
    grouped_input = df.select(
        F.col(key), F.unix_micros(F.col(time).cast(T.TimestampType())).alias(_US),
        # the operator's watermark column: null in every row, so Spark's own
        # late-row filter (time <= watermark) drops none; the function judges
        F.lit(None).cast(T.TimestampType()).alias(_CLOCK, metadata={_WATERMARK_KEY: delay}))
    key_field = df.schema[key]
    out_schema = T.StructType([
        T.StructField(key, key_field.dataType, True),
        T.StructField("start", T.LongType(), True),
        T.StructField("end", T.LongType(), True),
        T.StructField("count", T.LongType(), False),
        T.StructField("index", T.LongType(), True),
        T.StructField("window_end", T.LongType(), True),
        T.StructField("kind", T.StringType(), False),
    ])
    state_schema = T.StructType([
        T.StructField("snapshot", T.BinaryType(), True),
        T.StructField("emitted", T.LongType(), False),
        T.StructField("last_end", T.LongType(), True),
    ])
    out = grouped_input.groupBy(key).applyInPandasWithState(
        step, out_schema, state_schema, "append", "EventTimeTimeout")

    def as_time(c):
        return F.timestamp_micros(F.col(c)).cast(time_type).alias(c)

    return out.select(key, as_time("start"), as_time("end"), "count", "index",
                      as_time("window_end"), "kind")


class _Step:
    """The function Spark calls per key and micro-batch (pickled to the
    executors): restore the key's Sessionizer, push, advance, store."""

    def __init__(self, key, time, gap, max_duration, mode, inclusive, on_bad):
        self.key, self.time, self.on_bad = key, time, on_bad
        self.settings = dict(max_duration=max_duration, max_duration_mode=mode,
                             inclusive=inclusive, delay=_NEVER, on_late="return")
        self.gap = gap
        Sessionizer(gap, **self.settings)  # bad settings fail on the driver

    def _new(self):
        sz = Sessionizer(self.gap, **self.settings)
        sz._configure_for(_MICROS)  # int microseconds: advance() may come first
        return sz

    def __call__(self, key, pdfs, state):
        import pandas as pd

        wm = state.getCurrentWatermarkMs() * 1000
        if state.exists:
            snapshot, emitted, last_end = state.get
        else:
            snapshot, emitted, last_end = None, 0, None
        sz = Sessionizer.from_bytes(bytes(snapshot)) if snapshot is not None else None
        late = bad = np.empty(0, np.int64)
        n_bad_null_time = 0
        null_key = key[0] is None or bool(pd.isna(key[0]))
        if not state.hasTimedOut:
            chunks = [p[_US] for p in pdfs]
            times = pd.concat(chunks) if len(chunks) > 1 else chunks[0]
            nulls = times.isna().to_numpy()
            if null_key or nulls.any():
                if self.on_bad == "raise":
                    if null_key:
                        raise SessionizeError(f"key: null in column {self.key!r} (rows: "
                                              f"{len(times)}; on_bad='keep' counts them)")
                    raise SessionizeError(f"time: null in column {self.time!r} (key "
                                          f"{key[0]!r}; on_bad='keep' counts them)")
            t = times.to_numpy(dtype=np.int64, na_value=0)
            if null_key:
                bad, n_bad_null_time, t = t[~nulls], int(nulls.sum()), t[:0]
            elif nulls.any():
                n_bad_null_time, t = int(nulls.sum()), t[~nulls]
            is_late = t <= wm
            if is_late.any():
                late, t = t[is_late], t[~is_late]
            if len(t):
                if sz is None:
                    sz = self._new()
                out = sz.push_many(np.zeros(len(t), np.int64), t)
                late = np.concatenate([late, _late_times(out)])
                rows = [s for s in out if hasattr(s, "window_end")]
            else:
                rows = []
        else:
            rows = []
        if sz is not None:
            rows += [s for s in sz.advance(wm + 1) if hasattr(s, "window_end")]
        sessions = pd.DataFrame({
            "start": [s.start for s in rows], "end": [s.end for s in rows],
            "count": [s.count for s in rows],
            "index": list(range(emitted, emitted + len(rows))),
            "window_end": [s.window_end for s in rows]}, dtype="Int64")
        sessions["kind"] = "session"
        if rows:
            emitted += len(rows)
            last_end = max(s.end for s in rows)
        others = _rejected(late, "late", key[0]) + _rejected(bad, "bad", None)
        if n_bad_null_time:
            none = pd.array([None] * n_bad_null_time, dtype="Int64")
            others.append(pd.DataFrame({"start": none, "end": none, "count": 1,
                                        "index": none, "window_end": none, "kind": "bad"}))
        self._store(state, sz, emitted, last_end)
        frames = [sessions] + others
        out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else sessions
        out.insert(0, self.key, None if null_key else key[0])
        yield out

    def _store(self, state, sz, emitted, last_end):
        """The key's state back, and its timeout at the Spark watermark (ms)
        past which its Sessionizer next has something to do."""
        due = None if sz is None else sz._key_due(_KEY)
        if due is None and sz is not None and sz._stats()[1]:
            # nothing open, but the key remembers its last final session (a
            # fixed-mode block continues from it); the core forgets it past
            # its end + 2 gaps
            due = last_end + 2 * self.gap if last_end is not None else None
        if due is None:
            state.update((None, emitted, last_end))
            return
        state.update((sz.to_bytes(), emitted, last_end))
        # the Sessionizer emits once its watermark (Spark's + 1 us) is past
        # `due`; Spark times out a key once its watermark (ms) is past the
        # timeout: wm_ms * 1000 >= due  <=>  wm_ms > ceil(due / 1000) - 1
        state.setTimeoutTimestamp(max(-(-due // 1000) - 1, state.getCurrentWatermarkMs()))


def _late_times(out) -> np.ndarray:
    return np.array([e.time for e in out if not hasattr(e, "window_end")], dtype=np.int64)


def _rejected(times, kind, key):
    import pandas as pd

    if len(times) == 0:
        return []
    times = pd.array(times, dtype="Int64")
    none = pd.array([None] * len(times), dtype="Int64")
    return [pd.DataFrame({"start": times, "end": times, "count": 1, "index": none,
                          "window_end": none, "kind": kind})]
