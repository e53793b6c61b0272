"""Spark Structured Streaming: sessions of a streaming DataFrame, each once, final.

    from sessionize import spark as sz

    events = (spark.readStream.schema("user string, ts timestamp").json(folder)
              .withWatermark("ts", "10 minutes"))
    out = sz.stream_sessions(events, key="user", time="ts", gap="30 minutes",
                             max_duration="2 hours")
    out.writeStream.outputMode("append").foreachBatch(sink).start()

``stream_sessions`` is the streaming form of :func:`sessionize.spark.sessions`
(docs/engines/spark-streaming.md has the whole job).  Its result is a streaming
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
                mode: counted, in no session; also (``on_bad_gap="drop"``)
                a row whose per-row gap is null, zero, negative or longer
                than ``max_gap``

Nothing is dropped silently: every input row is in a session or is a
"late" or "bad" row.  ``on_bad="raise"`` (the default, as the rest of
sessionize) fails the query instead, with a SessionizeError naming the
column.

A gap per row (``gap=`` a Column or a column name, as
:func:`sessionize.spark.sessions` takes it, converted by the same code:
for timestamps each row's gap is Spark's own ``time + gap`` less ``time``)
needs ``max_gap``, the longest gap a row may have: it is the
Sessionizer's bound (``Sessionizer(max_gap, per_event_gaps=True)``), and
what the state's forgetting counts in (a key is remembered until the
watermark is two ``max_gap`` past its last session).  A row whose gap is
bad or longer than ``max_gap`` fails the query naming its key and time
(``on_bad_gap="raise"``), or is a "bad" row (``on_bad_gap="drop"``).
Spark's own ``session_window(time, gap_column)`` judges a row late on its
own window end (``time + gap <= watermark``, one gap or a gap per row);
this function on ``time <= watermark``, as for one gap (see below).

How it runs, on Spark's arbitrary stateful processing
(``groupBy(...).applyInPandasWithState``, event-time timeouts):

- Keys are grouped as :func:`sessionize.spark.sessions` groups them
  (``buckets``): by default ``pmod(xxhash64(key), P)``, P being
  ``spark.sql.shuffle.partitions``, so each call runs the C core over a
  whole bucket of keys; ``buckets=None`` groups by the key itself (one
  Python call per key and batch: far slower with many keys).  Keep
  ``buckets`` (and the shuffle partitions) as they are for one checkpoint.
- Per group, one ``sessionize.Sessionizer`` (times as int microseconds, the
  unit of Spark's timestamps) lives in Spark's state as its ``to_bytes()``
  snapshot: the code-free, versioned, checksummed format; restoring it runs
  no code, and a damaged one is refused.  Spark's checkpoint holds it.  A
  Python worker keeps the live Sessionizer it last stored and uses it again
  when the state hands back exactly those bytes (anything else, a restart
  from the checkpoint included, restores from the bytes).  A group with
  nothing open has no state: ``index`` counts a key's sessions since the
  key was last held (SPEC section 3), from 0 again after a key was idle
  for two gaps (two ``max_gap`` with a gap per row) past its last session.
- The Sessionizer's own watermark never moves by itself (its ``delay`` is
  larger than any time span); each call advances it to Spark's watermark
  of the batch (``GroupState.getCurrentWatermarkMs()``) + 1 us, so it emits
  exactly the sessions whose ``window_end`` the watermark has reached, the
  moment Spark's ``session_window`` evicts its own in append mode.
- The group's event-time timeout is set to the watermark at which its
  Sessionizer next has something to emit (``_next_due``), so an idle key's
  open session is emitted by the batch whose watermark passes it, with no
  event of that key.
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
  batch's own.  And it judges a row on its own window's end, not its
  time: it drops a row when ``time + gap <= watermark`` (probed in Spark
  4, for one gap and a gap per row alike; tests/
  test_spark_streaming_dynamic_gaps.py), so a row with ``time <=
  watermark < time + gap``, late here, is merged there.  The rows it
  drops are late here too.

Times: a TimestampType or TimestampNTZType column with a watermark
(``withWatermark``); durations as for :func:`sessionize.spark.sessions`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

import numpy as np

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ._core import SessionizeError
from ._types import Duration, MaxDurationMode, OnBadGap
from ._sessionizer import Sessionizer, _Kind

__all__ = ["stream_sessions", "KINDS"]

KINDS = ("session", "late", "bad")
# Spark's metadata key marking an event-time column (EventTimeWatermark.delayKey)
_WATERMARK_KEY = "spark.watermarkDelayMs"
_CLOCK = "__sessionize_clock"
_US = "__sessionize_us"
_BUCKET = "__sessionize_bucket"
_STREAM_KEY_TYPES = (T.StringType, T.BinaryType, T.ByteType, T.ShortType, T.IntegerType,
                     T.LongType, T.BooleanType)
_NEVER = 2**62  # the Sessionizer's own delay: its watermark moves only by advance()
_MICROS = _Kind("int")
_ON_BAD = ("raise", "keep")
# Per Python worker: (query token, group) -> (the snapshot bytes last stored,
# the live Sessionizer they are of); taken out while a call runs, so a call
# that fails leaves nothing behind.
_LIVE: dict = {}
_LIVE_MAX = 1 << 16


def stream_sessions(df: DataFrame, *, key: str, time: str, gap: Duration | Column,
                    max_gap: Duration | None = None,
                    max_duration: Duration | None = None,
                    max_duration_mode: MaxDurationMode = "restart", inclusive: bool = True,
                    on_bad: Literal["raise", "keep"] = "raise",
                    buckets: int | str | None = "auto",
                    on_bad_gap: OnBadGap = "raise") -> DataFrame:
    """The sessions of a streaming DataFrame (with a watermark on `time`), as
    a streaming DataFrame for append mode: ``<key>, start, end, count,
    index, window_end, kind``; see the module docstring for ``kind``
    ("session", "late", "bad").  Each session comes once, when final, and
    equals the row :func:`sessionize.spark.sessions` gives for it over the
    same events when none is late (``index`` aside: it counts since the key
    was last held).  ``buckets`` groups keys as ``sessions()`` does.

    ``gap`` may be a gap per row, a Column or a column name, exactly as
    :func:`sessionize.spark.sessions` takes it (each row's window ends at
    Spark's own ``time + gap``).  Then ``max_gap`` is required: the longest
    gap a row may have, which bounds how long a key with nothing open is
    remembered (two ``max_gap`` past its last session).  A row whose gap is
    null, zero, negative or longer than ``max_gap`` fails the query with a
    SessionizeError naming its key and time; ``on_bad_gap="drop"`` leaves
    it out of every session and returns it as a "bad" row instead."""
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
    plan = _spark._Plan(df, key, time, gap, max_duration, max_duration_mode, inclusive,
                        buckets, on_bad_gap)
    key_type = df.schema[key].dataType
    if not isinstance(key_type, _STREAM_KEY_TYPES):
        raise TypeError(f"key: column {key!r} has type {key_type.simpleString()}; a "
                        "streaming key is a string, binary, integer or boolean (the "
                        "state's snapshot format holds those)")
    if plan.time_kind != "micros":
        raise TypeError(f"time: column {time!r} must be a timestamp (a watermark needs "
                        f"one), got {df.schema[time].dataType.simpleString()}")
    if plan.gap_columns:
        if max_gap is None:
            raise SessionizeError(
                "max_gap: required with a gap per row: the longest gap a row may have "
                "(e.g. max_gap='2 hours'); it bounds how long an idle key is remembered, "
                "and a row with a longer gap fails the query")
        bound = plan.duration(max_gap, "max_gap")
    elif max_gap is not None:
        raise SessionizeError("max_gap: only with a gap per row (a Column or column name "
                              "as gap); with one gap for all rows, gap is the bound")
    if _WATERMARK_KEY not in df.schema[time].metadata:
        raise SessionizeError(f"time: column {time!r} has no watermark; call "
                              f"df.withWatermark({time!r}, '10 minutes') first")
    step = _Step(key, time, plan.gap_i, plan.max_i if max_duration is not None else None,
                 max_duration_mode, bool(inclusive), on_bad)
    if plan.gap_columns:
        step.per_row(plan, _spark._GAP, bound, max_gap)
    time_type = plan.out_time_type
    delay = df.schema[time].metadata[_WATERMARK_KEY]
    columns = [F.col(key), F.unix_micros(F.col(time).cast(T.TimestampType())).alias(_US),
               # the operator's watermark column: null in every row, so Spark's
               # own late-row filter (time <= watermark) drops none
               F.lit(None).cast(T.TimestampType()).alias(_CLOCK,
                                                         metadata={_WATERMARK_KEY: delay})]
    if plan.buckets is not None:
        columns.append(F.pmod(F.xxhash64(key), F.lit(plan.buckets)).alias(_BUCKET))
    columns += plan.gap_columns  # the row's gap in microseconds, named _GAP
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
        T.StructField("last_end", T.LongType(), True),
    ])
    rows = df.select(*columns)
    grouped = rows.groupBy(key if plan.buckets is None else _BUCKET)
    out = grouped.applyInPandasWithState(step, out_schema, state_schema, "append",
                                         "EventTimeTimeout")

    def as_time(c):
        return F.timestamp_micros(F.col(c)).cast(time_type).alias(c)

    return out.select(key, as_time("start"), as_time("end"), "count", "index",
                      as_time("window_end"), "kind")


class _Step:
    """The function Spark calls per group (a bucket of keys, or one key) and
    micro-batch (pickled to the executors): restore the group's
    Sessionizer, push, advance, store."""

    def __init__(self, key, time, gap, max_duration, mode, inclusive, on_bad):
        self.key, self.time, self.on_bad = key, time, on_bad
        self.columns = (key, "start", "end", "count", "index", "window_end", "kind")
        self.settings = dict(max_duration=max_duration, max_duration_mode=mode,
                             inclusive=inclusive, delay=_NEVER, on_late="return",
                             columnar=True)
        self.gap = gap  # with a gap per row, the bound (max_gap)
        self.plan = self.gap_name = self.max_gap = None  # per_row()
        self.token = uuid.uuid4().hex  # this query's entries in the live cache
        Sessionizer(gap, **self.settings)  # bad settings fail on the driver

    def per_row(self, plan, gap_name, bound, max_gap):
        """Each row's gap (int microseconds) in column `gap_name`, checked
        by sessionize.spark's `plan` (null, zero, negative) and against
        `bound` (max_gap, as given: `max_gap`), the Sessionizer's gap."""
        self.plan, self.gap_name, self.max_gap = plan, gap_name, max_gap
        self.gap = bound
        self.settings["per_event_gaps"] = True
        Sessionizer(bound, **self.settings)

    def _new(self):
        sz = Sessionizer(self.gap, **self.settings)
        sz._configure_for(_MICROS)  # int microseconds: advance() may come first
        return sz

    def __call__(self, group, pdfs, state):
        import pandas as pd

        wm = state.getCurrentWatermarkMs() * 1000
        snapshot, last_end = state.get if state.exists else (None, None)
        sz = self._restore(group, snapshot)
        rows = []  # (key, start, end, count, index, window_end, kind)
        found = []
        if not state.hasTimedOut:
            pdf = pd.concat(list(pdfs), ignore_index=True)
            keys = pdf[self.key].to_numpy(dtype=object)
            times = pdf[_US]
            bad = pd.isna(keys) | times.isna().to_numpy()
            t = times.to_numpy(dtype=np.int64, na_value=0)
            if bad.any():
                i = int(np.argmax(bad))
                if self.on_bad == "raise":
                    if pd.isna(keys[i]):
                        raise SessionizeError(f"key: null in column {self.key!r} (a row "
                                              f"with {self.time} = {times.iloc[i]!r} us; "
                                              "on_bad='keep' counts them)")
                    raise SessionizeError(f"time: null in column {self.time!r} (key "
                                          f"{keys[i]!r}; on_bad='keep' counts them)")
                rows += [(None if pd.isna(k) else k, None if pd.isna(x) else int(x),
                          None if pd.isna(x) else int(x), 1, None, None, "bad")
                         for k, x in zip(keys[bad], times[bad])]
            gaps = None
            if self.plan is not None:
                keys, t, gaps, dropped = self._gaps(keys[~bad], t[~bad],
                                                    pdf[self.gap_name][~bad])
                rows += [(k, x, x, 1, None, None, "bad") for k, x in dropped]
            elif bad.any():
                keys, t = keys[~bad], t[~bad]
            is_late = t <= wm
            if is_late.any():
                rows += [(k, x, x, 1, None, None, "late")
                         for k, x in zip(keys[is_late], t[is_late].tolist())]
                keys, t = keys[~is_late], t[~is_late]
                if gaps is not None:
                    gaps = gaps[~is_late]
            if len(t):
                if sz is None:
                    sz = self._new()
                found.append(sz.push_many(keys, t) if gaps is None
                             else sz.push_many(keys, t, gaps=gaps))
        if sz is not None:
            found.append(sz.advance(wm + 1))
        frames = []
        for batch in found:  # columnar batches: numpy columns, no object per session
            late, st = batch.late, batch.sessions
            if len(late):
                rows += [(k, x, x, 1, None, None, "late")
                         for k, x in zip(late["key"], late["time"].tolist())]
            if len(st):
                frames.append(pd.DataFrame({
                    self.key: st["key"], "start": st["start"], "end": st["end"],
                    "count": st["count"], "index": st["index"],
                    "window_end": st["window_end"], "kind": "session"}))
                end = int(st["end"].max())
                last_end = end if last_end is None else max(last_end, end)
        if rows:
            frames.append(pd.DataFrame(rows, columns=self.columns, dtype=object))
        self._store(state, group, sz, last_end)
        if frames:
            yield frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    def _gaps(self, keys, t, column):
        """The rows' gaps (int64 us), checked: -> (keys, times, gaps) of
        the rows kept and the (key, time) of those dropped (on_bad_gap=
        'drop'); a null, zero or negative gap (sessionize.spark's check, its
        message) or one over max_gap raises otherwise."""
        import pyarrow as pa

        kcol = pa.array(keys.tolist())
        tcol = pa.array(t, type=pa.timestamp("us"))
        gaps, keep = self.plan._gaps(pa.array(column, from_pandas=True), kcol, tcol)
        over = gaps > self.gap
        if over.any():
            if self.plan.on_bad_gap == "raise":
                i = int(np.argmax(over))
                raise SessionizeError(
                    f"gap: {dt.timedelta(microseconds=int(gaps[i]))} for key "
                    f"{kcol[i].as_py()!r} at {self.time} = {tcol[i].as_py()} is longer than "
                    f"max_gap ({self.max_gap!r}), the longest a row's gap may be (raise "
                    "max_gap, or on_bad_gap='drop' returns such rows as 'bad' rows)")
            ok = ~over if keep is None else ~over[keep]
            keep = np.flatnonzero(~over) if keep is None else keep[ok]
        if keep is None:
            return keys, t, gaps, []
        out = np.zeros(len(t), dtype=bool)
        out[keep] = True
        return (keys[keep], t[keep], gaps[keep],
                list(zip(keys[~out], t[~out].tolist())))

    def _restore(self, k, snapshot):
        """The key's Sessionizer: the live one this worker left, if the
        state's bytes are those it wrote (restoring costs more than the rest
        of a call), else restored from the bytes."""
        if snapshot is None:
            return None
        try:
            entry = _LIVE.pop((self.token, k), None)
        except TypeError:  # an unhashable key value (bytearray)
            entry = None
        if entry is not None and entry[0] == snapshot:
            return entry[1]
        return Sessionizer.from_bytes(bytes(snapshot))

    def _store(self, state, k, sz, last_end):
        """The group's state back, and its timeout at the Spark watermark (ms)
        past which its Sessionizer next has something to do."""
        due = None if sz is None else sz._next_due()
        if due is None and sz is not None and sz._stats()[1]:
            # nothing open, but keys remember their last final session (a
            # fixed-mode block continues from it); the core forgets them past
            # their end + 2 gaps
            due = last_end + 2 * self.gap if last_end is not None else None
        if due is None:
            state.remove()
            return
        snapshot = sz.to_bytes()
        state.update((snapshot, last_end))
        # the Sessionizer emits once its watermark (Spark's + 1 us) is past
        # `due`; Spark times out a group once its watermark (ms) is past the
        # timeout: wm_ms * 1000 >= due  <=>  wm_ms > ceil(due / 1000) - 1
        state.setTimeoutTimestamp(max(-(-due // 1000) - 1, state.getCurrentWatermarkMs()))
        if len(_LIVE) >= _LIVE_MAX:
            _LIVE.clear()  # a cache: the bytes in Spark's state are the truth
        try:
            _LIVE[(self.token, k)] = (snapshot, sz)
        except TypeError:
            pass
