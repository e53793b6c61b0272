"""Spark DataFrames: session windows by the C core, inside Spark's own job.

    from sessionize import spark as sz

    sz.sessions(df, key="uuid", time="event_time", gap="30 minutes")
        a DataFrame of sessions: <key>, start, end, count, index, window_end
    sz.assign(df, key="uuid", time="event_time", gap="30 minutes")
        df's rows with a session_id column
    sz.stream_sessions(events, key="uuid", time="event_time", gap="30 minutes",
                       max_duration="2 hours")
        a streaming DataFrame (events with a watermark) of the sessions, each
        once when final, and the late events: append mode, Spark's
        arbitrary stateful processing (sessionize/spark_streaming.py,
        docs/engines/spark-streaming.md)

Both group the DataFrame with ``groupBy(...).applyInArrow`` (Spark >= 4.0):
Spark shuffles all of a key's rows to one Python worker, which hands
them to the C core (``sessionize``'s batch sessionizer) as one Arrow table.
How many keys go to one call is ``buckets``:

    "auto" (default)  the rows are grouped by ``pmod(xxhash64(key), P)``, P
                      being ``spark.sql.shuffle.partitions``: the core runs
                      once per shuffle partition, over all of its keys (it
                      separates them itself), so a Python worker holds what
                      a Spark task holds anyway
    B (an int)        the same with B buckets
    None              ``groupBy(key)``: one call per key, Spark's own
                      grouping; memory per call is one key's events, but
                      each call costs a Python round trip (about 1 ms
                      measured in local[2]), which dominates when keys have
                      few events each

The results are the same in all three.

The defaults reproduce ``F.session_window(time, gap)``: an event exactly
``gap`` after the previous one of its key joins its session (Spark's
``MergingSessionsIterator`` merges when ``sessionStart <= sessionEnd``), and
``start`` / ``window_end`` are session_window's ``window.start`` /
``window.end`` (``window_end = end + gap``).  ``inclusive=False`` makes it a
new session (Beam's rule); ``max_duration`` caps a session as the rest of
sessionize does (SPEC section 1), which session_window cannot.

Times: a TimestampType or TimestampNTZType column (durations as
``datetime.timedelta``, ``numpy.timedelta64`` or strings: ``"30min"``,
``"2h"``, Spark's ``"30 minutes"`` and ``"interval 2 hours"``), an integer
column in any unit (durations are integers in that unit), or a double column
of float seconds (durations in seconds, held as whole microseconds as
everywhere in sessionize).

Errors: a missing column, a wrong type or a bad duration raise at the call,
on the driver (KeyError / TypeError / SessionizeError naming the argument).
A null key or time is found where the rows are, on an executor, when an
action runs: Spark then raises its PythonException whose message holds the
SessionizeError's ("time: null in column 'ts' (key 'ann')").
"""

from __future__ import annotations

import re

import numpy as np

try:
    from pyspark.sql import Column, DataFrame
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
except ImportError:  # pragma: no cover - the extra is missing
    raise ImportError("sessionize.spark needs pyspark >= 4.0 (applyInArrow): "
                      "pip install 'sessionize[spark]'") from None

from . import _batch, _core, _gaps, _keys
from ._core import SessionizeError
from ._types import Duration, MaxDurationMode, OnBadGap

__all__ = ["sessions", "assign", "stream_sessions"]

_SESSION_COLUMNS = ("start", "end", "count", "index", "window_end")

# Which Spark key types are grouped exactly as Arrow's dictionary_encode
# tells their values apart (floats are not: Spark folds -0.0 into 0.0).
_KEY_TYPES = (T.StringType, T.BinaryType, T.ByteType, T.ShortType, T.IntegerType,
              T.LongType, T.BooleanType, T.DateType, T.TimestampType, T.TimestampNTZType)
_INTEGER_TYPES = (T.ByteType, T.ShortType, T.IntegerType, T.LongType)
_INTERVAL = re.compile(r"^\s*interval\s+", re.IGNORECASE)


def sessions(df: DataFrame, *, key: str, time: str, gap: Duration | Column,
             max_duration: Duration | None = None,
             max_duration_mode: MaxDurationMode = "restart", inclusive: bool = True,
             buckets: int | str | None = "auto", on_bad_gap: OnBadGap = "raise") -> DataFrame:
    """One row per session: the key under its own column name, then
    ``start``, ``end`` (first and last event times), ``count``, ``index``
    (the session's ordinal within its key, in time order) and
    ``window_end`` (``end + gap``, never beyond the cap): a Spark DataFrame,
    lazy as any other.  Times come back in the time column's type
    (TimestampType, TimestampNTZType; LongType for integer columns,
    DoubleType for float seconds).  With the defaults, each row is a group
    of ``groupBy(key, F.session_window(time, gap))``: ``start`` and
    ``window_end`` are its ``window.start`` and ``window.end``, ``count``
    its ``count(*)``.

    ``gap`` may also be a gap per row, as ``F.session_window(time,
    gap_column)`` takes it: a Column (``F.col("timeout")``, an expression)
    or the name of a column of ``df``.  With timestamps it holds interval
    strings (``"10 minutes"``) or intervals, and each row's window end is
    Spark's own ``time + gap``; with integer times, integers in their unit;
    with double times, seconds.  A session ends at the largest ``time +
    gap`` of its rows (its ``window_end``).  A null, zero or negative gap
    (or a string Spark cannot read as an interval) fails the job with a
    SessionizeError naming the key and time; ``on_bad_gap="drop"`` leaves
    such rows out, as ``session_window`` does silently (``assign`` then gives
    them a null ``session_id``, so ``filter(col("session_id").isNull())``
    counts them)."""
    if key in _SESSION_COLUMNS:
        raise SessionizeError(f"key: a key column named {key!r} would clash with the "
                              f"sessions' own {key!r} column; rename it")
    plan = _Plan(df, key, time, gap, max_duration, max_duration_mode, inclusive, buckets,
                 on_bad_gap)
    key_field = df.schema[key]
    out_time = plan.out_time_type
    schema = T.StructType([
        T.StructField(key, key_field.dataType, False),
        T.StructField("start", out_time, False),
        T.StructField("end", out_time, False),
        T.StructField("count", T.LongType(), False),
        T.StructField("index", T.LongType(), False),
        T.StructField("window_end", out_time, False),
    ])
    return plan.grouped(df.select(key, time, *plan.gap_columns)).applyInArrow(
        lambda table: plan.sessions_of(table), schema)  # pyspark counts a method's self


def assign(df: DataFrame, *, key: str, time: str, gap: Duration | Column,
           max_duration: Duration | None = None,
           max_duration_mode: MaxDurationMode = "restart", inclusive: bool = True,
           column: str = "session_id", buckets: int | str | None = "auto",
           on_bad_gap: OnBadGap = "raise") -> DataFrame:
    """`df`'s rows (every column) with a `column` (LongType) holding each
    row's session id: the session's ``index`` within its key, in time order
    (0, 1, 2, ... per key).  It is what ``sessionize.assign`` gives on that
    key's events alone; the pair (key, session_id) names one session, and
    joins to :func:`sessions`'s (key, index).  A DataFrame has no order of
    first appearance across keys to number sessions densely by, as the
    array API does; ``F.dense_rank`` over (key, session_id) gives such
    numbers when needed.  Rows come back in Spark's order, as any grouped
    result does.  ``gap`` and ``on_bad_gap`` as in :func:`sessions`; a
    row dropped for its gap keeps a null `column`."""
    if not isinstance(column, str) or not column:
        raise TypeError(f"column: expected a column name (str), got {column!r}")
    if isinstance(df, DataFrame) and column in df.columns:
        raise SessionizeError(f"column: {column!r} is already a column of df; "
                              "pass another name as column=")
    plan = _Plan(df, key, time, gap, max_duration, max_duration_mode, inclusive, buckets,
                 on_bad_gap)
    plan.column = column
    plan.n_columns = len(df.columns)
    schema = T.StructType(list(df.schema.fields) + [
        T.StructField(column, T.LongType(), plan.gap_columns != [] and on_bad_gap == "drop")])
    return plan.grouped(df.select("*", *plan.gap_columns)).applyInArrow(
        lambda table: plan.assign_of(table), schema)


class _Plan:
    """The arguments, checked on the driver, and the functions the
    executors run per group (pickled with this object)."""

    def __init__(self, df, key, time, gap, max_duration, max_duration_mode, inclusive,
                 buckets, on_bad_gap="raise"):
        if not isinstance(df, DataFrame):
            raise TypeError(f"df: expected a pyspark.sql.DataFrame, got {type(df).__name__}")
        for role, name in (("key", key), ("time", time)):
            if not isinstance(name, str):
                raise TypeError(f"{role}: expected a column name (str), got {name!r}")
            if name not in df.columns:
                raise KeyError(f"{role}: no column {name!r} (columns: {', '.join(df.columns)})")
        if key == time:
            raise SessionizeError(f"key and time: both name the column {key!r}")
        if buckets == "auto":
            buckets = int(df.sparkSession.conf.get("spark.sql.shuffle.partitions"))
        elif buckets is not None and (isinstance(buckets, bool)
                                      or not isinstance(buckets, int)):
            raise TypeError(f"buckets: expected 'auto', an int or None, got {buckets!r}")
        if buckets is not None and buckets < 1:
            raise SessionizeError(f"buckets: must be >= 1, got {buckets}")
        key_type = df.schema[key].dataType
        if not isinstance(key_type, _KEY_TYPES):
            raise TypeError(f"key: column {key!r} has type {key_type.simpleString()}; expected "
                            "strings, binary, integers, booleans, dates or timestamps")
        time_type = df.schema[time].dataType
        if isinstance(time_type, (T.TimestampType, T.TimestampNTZType)):
            self.time_kind, empty, self.out_time_type = "micros", "datetime64[us]", time_type
        elif isinstance(time_type, _INTEGER_TYPES):
            self.time_kind, empty, self.out_time_type = "int", np.int64, T.LongType()
        elif isinstance(time_type, (T.DoubleType, T.FloatType)):
            self.time_kind, empty, self.out_time_type = "seconds", np.float64, T.DoubleType()
        else:
            raise TypeError(f"time: column {time!r} has type {time_type.simpleString()}; "
                            "expected timestamps, integers or double seconds")
        # The array API's own checks and conversions (gap, max_duration, mode,
        # inclusive) on empty columns of the same kind: the same messages, and
        # the durations as integers in the unit the core will see.
        self.on_bad_gap = _gaps.check_on_bad_gap(on_bad_gap)
        self.gap_columns = []  # the per-row gap, as one more column of the grouped rows
        if isinstance(gap, Column) or (isinstance(gap, str) and gap in df.columns):
            self.gap_columns = [_gap_column(df, time, self.time_kind, gap)]
            gap = 1  # the checks below on the rest; the rows carry their gaps
        elif _gaps.is_per_event(gap):
            raise TypeError("gap: a gap per row is a Column or a column name; got "
                            f"{type(gap).__name__}")
        gap, max_duration = _spark_interval(gap), _spark_interval(max_duration)
        _, _, args, _ = _batch._prepare(np.empty(0, np.int64), np.empty(0, empty),
                                        gap if not self.gap_columns or self.time_kind == "int"
                                        else "1us",
                                        max_duration, max_duration_mode, inclusive)
        self.gap_i, self.max_i, self.cap_mode, self.inclusive = args[4:8]
        self.key, self.time, self.buckets = key, time, buckets
        self._empty = empty  # the time column's kind, for duration()
        self.column = "session_id"

    def duration(self, value, name):
        """Another duration (stream_sessions' max_gap) as an int in the
        core's unit, converted and checked as `gap` is; `name` in errors."""
        from . import _times

        if value is None or isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name}: expected a duration, got {value!r}")
        _, kind = _times.normalize(np.empty(0, self._empty))
        out = kind.to_int(_spark_interval(value), name)
        if out <= 0:
            raise SessionizeError(f"{name}: must be > 0, got {value!r}")
        return out

    def __getstate__(self):
        """What the executors get: not the driver's gap Column (a JVM
        handle), only whether there is one."""
        state = dict(self.__dict__)
        state["gap_columns"] = [_GAP] if self.gap_columns else []
        return state

    def grouped(self, df):
        if self.buckets is None:
            return df.groupBy(self.key)
        return df.groupBy(F.pmod(F.xxhash64(self.key), F.lit(self.buckets)))

    # ---- on the executors, once per group --------------------------------

    def _run(self, table):
        """The core over one group's rows: (ids, session columns)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        kcol = table.column(self.key).combine_chunks()
        tcol = table.column(self.time).combine_chunks()
        if kcol.null_count:
            raise SessionizeError(f"key: null in column {self.key!r} "
                                  f"(a row with {self.time} = {tcol[_first_null(kcol)]})")
        if tcol.null_count:
            raise SessionizeError(f"time: null in column {self.time!r} "
                                  f"(key {kcol[_first_null(tcol)].as_py()!r})")
        if self.buckets is None:  # one key: every event's code is 0
            codes, n_codes = np.zeros(len(kcol), dtype=np.int64), 1 if len(kcol) else 0
        else:
            enc = pc.dictionary_encode(kcol)
            codes = enc.indices.to_numpy().astype(np.int64)
            n_codes = len(enc.dictionary)
        if self.time_kind == "seconds":
            times = _core.seconds_to_micros(tcol.cast(pa.float64()).to_numpy())
        else:  # timestamps: their int64 microseconds (UTC instants)
            times = tcol.cast(pa.int64()).to_numpy()
        if not self.gap_columns:
            ids, _path, cols = _core.batch(codes, _keys.KEYS_DENSE, n_codes, times,
                                           self.gap_i, self.max_i, self.cap_mode,
                                           self.inclusive, False, True)
            return kcol, tcol, ids, cols, None
        gaps, keep = self._gaps(table.column(_GAP).combine_chunks(), kcol, tcol)
        if keep is not None:
            codes, times, gaps = codes[keep], times[keep], gaps[keep]
        ids, cols = _core.gapped(codes, _keys.KEYS_DENSE, n_codes, times, gaps, self.max_i,
                                 self.cap_mode, self.inclusive, False)
        if keep is not None:
            start, end, window_end, count, index, first_event = cols
            cols = (start, end, window_end, count, index, keep[first_event])
        return kcol, tcol, ids, cols, keep

    def _gaps(self, gcol, kcol, tcol):
        """The rows' gaps as int64 in the core's unit, and the rows kept
        (None: all); a bad gap raises unless on_bad_gap='drop'."""
        import pyarrow as pa
        import pyarrow.compute as pc

        missing = gcol.is_null().to_numpy(zero_copy_only=False)
        if self.time_kind == "seconds":
            secs = pc.fill_null(gcol.cast(pa.float64()), 0.0).to_numpy()
            with np.errstate(invalid="ignore", over="ignore"):
                micros = np.trunc(secs * 1e6)
                missing = missing | ~(np.abs(micros) < 2.0**63)
            gaps = np.where(missing, 0, micros).astype(np.int64)
        else:
            gaps = pc.fill_null(gcol.cast(pa.int64()), 0).to_numpy()
        bad = missing | (gaps <= 0)
        if not bad.any():
            return gaps, None
        if self.on_bad_gap == "raise":
            i = int(np.argmax(bad))
            unit = " µs" if self.time_kind == "micros" else ""
            what = "null (or not an interval)" if missing[i] else f"{gcol[i].as_py()!r}{unit}"
            raise SessionizeError(
                f"gap: {what} for key {kcol[i].as_py()!r} at {self.time} = "
                f"{tcol[i].as_py()}; gaps must be > 0 (on_bad_gap='drop' leaves such rows "
                "out, as session_window does)")
        return gaps, np.flatnonzero(~bad)

    def _times_out(self, values, tcol):
        import pyarrow as pa

        if self.time_kind == "seconds":
            return pa.array(values / 1e6, type=pa.float64())
        if self.time_kind == "micros":
            return pa.array(values, type=pa.int64()).view(tcol.type)
        return pa.array(values, type=pa.int64())

    def sessions_of(self, table):
        import pyarrow as pa

        kcol, tcol, _ids, cols, _keep = self._run(table)
        start, end, window_end, count, index, first_event = cols
        return pa.table([kcol.take(pa.array(first_event)), self._times_out(start, tcol),
                         self._times_out(end, tcol), pa.array(count), pa.array(index),
                         self._times_out(window_end, tcol)],
                        names=[self.key, *_SESSION_COLUMNS])

    def assign_of(self, table):
        import pyarrow as pa

        _kcol, _tcol, ids, cols, keep = self._run(table)
        index = cols[4]
        if self.gap_columns:
            table = table.select(list(range(self.n_columns)))  # without the gap column
        if keep is None:
            return table.append_column(self.column, pa.array(index[ids]))
        mask = np.ones(table.num_rows, dtype=bool)
        mask[keep] = False
        out = np.zeros(table.num_rows, dtype=np.int64)
        out[keep] = index[ids]
        return table.append_column(self.column, pa.array(out, mask=mask))


_GAP = "__sessionize_gap"


def _gap_column(df, time, time_kind, gap):
    """The per-row gap as a column the executors read: for timestamps,
    Spark's own ``time + gap`` less ``time`` in microseconds (intervals,
    or strings cast to intervals; null where Spark cannot read one); for
    integer and double times, the numbers as they are."""
    col = F.col(gap) if isinstance(gap, str) else gap
    gtype = df.select(col.alias(_GAP)).schema[_GAP].dataType
    if time_kind == "micros":
        if isinstance(gtype, T.StringType):
            # null where Spark cannot read an interval, as session_window
            # takes it (a cast would fail the job under ANSI mode)
            col = col.try_cast("interval")
        elif not isinstance(gtype, (T.CalendarIntervalType, T.DayTimeIntervalType)):
            raise TypeError(f"gap: a per-row gap for timestamps is an interval or a string "
                            f"such as '10 minutes', not {gtype.simpleString()}")
        t = F.col(time).cast("timestamp")
        return (F.unix_micros((F.col(time) + col).cast("timestamp"))
                - F.unix_micros(t)).alias(_GAP)
    if time_kind == "int":
        if not isinstance(gtype, _INTEGER_TYPES):
            raise TypeError(f"gap: integer times take integer gaps, not {gtype.simpleString()}")
        return col.cast("long").alias(_GAP)
    if not isinstance(gtype, (T.DoubleType, T.FloatType, *_INTEGER_TYPES)):
        raise TypeError(f"gap: double times take gaps in seconds, not {gtype.simpleString()}")
    return col.cast("double").alias(_GAP)


def _first_null(col) -> int:
    return int(np.argmax(col.is_null().to_numpy(zero_copy_only=False)))


def _spark_interval(value):
    """Spark's interval strings ("interval 30 minutes") without the word."""
    if isinstance(value, str):
        return _INTERVAL.sub("", value)
    return value


# the streaming form (its own module; it uses _Plan above)
from .spark_streaming import stream_sessions  # noqa: E402
