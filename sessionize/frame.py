"""DataFrames in and out: sessionize.frame.assign() and sessions().

    sessionize.frame.assign(df, key="user", time="ts", gap="30min")
        the frame with a session_id column, of the same library
    sessionize.frame.sessions(df, key="user", time="ts", gap="30min")
        a frame of sessions: <key>, start, end, count, index, window_end
    sessionize.frame.sessions(df, ..., agg={"pages": ("page", "list"),
                                            "revenue": ("price", "sum")})
        the same, with one column per named aggregate

Frames: pandas and polars DataFrames (returned as the same), and any object
with ``__arrow_c_stream__`` (a pyarrow Table or RecordBatchReader, a DuckDB
relation, ...), returned as a pyarrow Table.  The two columns go to the
array API (:func:`sessionize.assign`, :func:`sessionize.sessions`) without a
Python object per row: a key column held by Arrow (polars, pyarrow, pandas
``string[pyarrow]`` and pandas 3's ``str``) is read by the core through the
Arrow C Data Interface, chunk by chunk; numpy-backed columns are viewed; a
datetime column is read as its int64 instants (UTC), whatever its unit and
time zone, and the result's time columns are given back in that same unit
and zone.  A column of ISO-8601 strings is parsed in C (Arrow's parser) and
given back as the library's datetime type, zoned by the strings' offset
when they have one; integer epoch times take ``time_unit`` ("s", "ms",
"us", "ns") so that ``gap="30min"`` works, and stay integers.  An arrow
stream is read batch by batch keeping only the two columns
(``sessions``) or every column (``assign``, which returns them all).

Results are those of the array API on the same columns: ``session_id`` is
its id (dense, ordered by key in order of first appearance, then start),
``sessions()``'s row ``i`` is session ``i``.  A missing key or time (None,
NaN, NaT, null) is a SessionizeError naming the column and the row.
"""

from __future__ import annotations

import contextlib
import re
import sys
from typing import TYPE_CHECKING, Any, Mapping, overload

import numpy as np

from . import _arrow, _batch, _iso
from ._core import SessionizeError
from ._types import AggHow, Duration, MaxDurationMode, OnBadGap, TimeUnit

if TYPE_CHECKING:  # neither is needed to import this module
    import pandas
    import polars

# The overloads: a polars or pandas DataFrame comes back as its own type;
# any other frame (an object with __arrow_c_stream__) as a pyarrow Table,
# typed Any here as pyarrow ships no types (nor does pandas, without
# pandas-stubs: its overload is then Any to Any).
# agg=: {"out": ("column", how)}
FrameAggSpec = Mapping[str, "tuple[str, AggHow]"]

_SESSION_COLUMNS = ("start", "end", "count", "index", "window_end")


@overload
def assign(df: polars.DataFrame, *, key: str, time: str, gap: Duration,
           max_duration: Duration | None = ..., max_duration_mode: MaxDurationMode = ...,
           inclusive: bool = ..., column: str = ...,
           time_unit: TimeUnit | None = ...,
           on_bad_gap: OnBadGap = ...) -> polars.DataFrame: ...
@overload
def assign(df: pandas.DataFrame, *, key: str, time: str, gap: Duration,
           max_duration: Duration | None = ..., max_duration_mode: MaxDurationMode = ...,
           inclusive: bool = ..., column: str = ...,
           time_unit: TimeUnit | None = ...,
           on_bad_gap: OnBadGap = ...) -> pandas.DataFrame: ...
# without pandas-stubs, pandas.DataFrame is Any to mypy, which then finds
# this one unreachable; with them (or for pyright) it is the arrow stream's
@overload
def assign(  # type: ignore[overload-cannot-match]
           df: Any, *, key: str, time: str, gap: Duration,
           max_duration: Duration | None = ..., max_duration_mode: MaxDurationMode = ...,
           inclusive: bool = ..., column: str = ...,
           time_unit: TimeUnit | None = ...,
           on_bad_gap: OnBadGap = ...) -> Any: ...
def assign(df: Any, *, key: str, time: str, gap: Duration, max_duration: Duration | None = None,
           max_duration_mode: MaxDurationMode = "restart", inclusive: bool = True,
           column: str = "session_id", time_unit: TimeUnit | None = None,
           on_bad_gap: OnBadGap = "raise") -> Any:
    """`df` with a `column` of each row's session id (int64), as the array
    API's :func:`sessionize.assign` gives it; a new frame of `df`'s library
    (a pyarrow Table for arrow streams).

    gap: a duration, or the name of a column holding each row's own gap
    (Flink's ``withDynamicGap``, Spark's ``session_window`` over a gap
    column); a column of that name wins over reading the name as a
    duration such as ``"30min"``.  ``on_bad_gap="drop"`` drops rows whose
    gap is missing, zero or negative (their id is -1), as Spark does."""
    lib = _library(df)
    frame = _arrow_table(df, None) if lib == "arrow" else df
    with _naming_columns(key, time):
        keys, (times, _) = _columns(lib, frame, key, time)
        ids = _batch.assign(keys, times, gap=_gap_of(lib, frame, gap),
                            max_duration=max_duration,
                            max_duration_mode=max_duration_mode, inclusive=inclusive,
                            time_unit=time_unit, on_bad_gap=on_bad_gap)
    if lib == "pandas":
        return frame.assign(**{column: ids})
    if lib == "polars":
        import polars as pl
        return frame.with_columns(pl.Series(column, ids))
    import pyarrow as pa
    return frame.append_column(column, pa.array(ids))


@overload
def sessions(df: polars.DataFrame, *, key: str, time: str, gap: Duration,
             max_duration: Duration | None = ..., max_duration_mode: MaxDurationMode = ...,
             inclusive: bool = ..., agg: FrameAggSpec | None = ...,
             time_unit: TimeUnit | None = ...,
           on_bad_gap: OnBadGap = ...) -> polars.DataFrame: ...
@overload
def sessions(df: pandas.DataFrame, *, key: str, time: str, gap: Duration,
             max_duration: Duration | None = ..., max_duration_mode: MaxDurationMode = ...,
             inclusive: bool = ..., agg: FrameAggSpec | None = ...,
             time_unit: TimeUnit | None = ...,
           on_bad_gap: OnBadGap = ...) -> pandas.DataFrame: ...
# without pandas-stubs, pandas.DataFrame is Any to mypy, which then finds
# this one unreachable; with them (or for pyright) it is the arrow stream's
@overload
def sessions(  # type: ignore[overload-cannot-match]
             df: Any, *, key: str, time: str, gap: Duration,
             max_duration: Duration | None = ..., max_duration_mode: MaxDurationMode = ...,
             inclusive: bool = ..., agg: FrameAggSpec | None = ...,
             time_unit: TimeUnit | None = ...,
           on_bad_gap: OnBadGap = ...) -> Any: ...
def sessions(df: Any, *, key: str, time: str, gap: Duration,
             max_duration: Duration | None = None,
             max_duration_mode: MaxDurationMode = "restart", inclusive: bool = True,
             agg: FrameAggSpec | None = None, time_unit: TimeUnit | None = None,
             on_bad_gap: OnBadGap = "raise") -> Any:
    """A frame of sessions (same library; a pyarrow Table for arrow
    streams): the key under its own column name, then ``start``, ``end``
    (times in the time column's type, unit and zone), ``count``, ``index``
    and ``window_end``, as :func:`sessionize.sessions` gives them, then one
    column per aggregate of ``agg``.

    agg: ``{"out": ("column", how)}`` as pandas' named aggregation, ``how``
    one of ``count, sum, min, max, mean, first, last, n_unique, list``
    (``first``, ``last`` and ``list`` in time order, ties in row order;
    nulls as pandas' ``groupby`` treats them, see the arrays guide).  ``min``,
    ``max``, ``first`` and ``last`` keep the column's type (nullable
    types, zones, categoricals as their values); ``list`` is a column of
    lists (pandas: Python lists; polars: ``List``; arrow: ``list<...>``).

    gap: a duration, or the name of a column of per-row gaps, as in
    :func:`assign`; ``on_bad_gap`` as there (dropped rows are in no
    session and no aggregate).
    """
    if key in _SESSION_COLUMNS:
        raise SessionizeError(f"key: a key column named {key!r} would clash with the "
                              f"sessions' own {key!r} column; rename it")
    value_names = _agg_columns(agg)
    extra = tuple(c for c in value_names if c not in (key, time))
    if isinstance(gap, str) and gap not in (key, time) + extra:
        extra += (gap,)  # kept only if the stream has such a column
    lib = _library(df)
    frame = _arrow_table(df, (key, time) + extra) if lib == "arrow" else df
    with _naming_columns(key, time):
        keys, (times, restore) = _columns(lib, frame, key, time)
    values = _value_columns(lib, frame, value_names, agg)
    with _naming_columns(key, time):
        base, results = _batch._sessions(keys, times, _gap_of(lib, frame, gap), max_duration,
                                         max_duration_mode, inclusive, agg, values,
                                         dict.fromkeys((key, *_SESSION_COLUMNS), "column"),
                                         time_unit, on_bad_gap)
    cols = {"start": restore(base["start"]), "end": restore(base["end"]),
            "count": base["count"], "index": base["index"],
            "window_end": restore(base["window_end"])}
    for name, r in results.items():  # (results only with an agg)
        column, how = (agg or {})[name]
        cols[name] = _agg_out(lib, r, values[column], how)
    return _build(lib, frame, key, base["key"], cols)


def _gap_of(lib, frame, gap):
    """The column `gap` names, when it names one (a name wins over reading
    it as a duration string such as '30min'); else `gap` as given."""
    if not isinstance(gap, str):
        return gap
    cols = list(frame.columns) if lib != "arrow" else frame.column_names
    n = sum(1 for c in cols if c == gap)
    if n == 0:
        return gap
    if n > 1:
        raise SessionizeError(f"gap: the frame has {n} columns named {gap!r}; "
                              "rename all but one")
    return frame.column(gap) if lib == "arrow" else frame[gap]


# ---- aggregates ---------------------------------------------------------

def _agg_columns(agg) -> tuple:
    """The frame columns `agg` names, each once, in order."""
    if agg is None:
        return ()
    if not hasattr(agg, "items"):
        raise TypeError(f"agg: expected a dict of name -> (column, how), got "
                        f"{type(agg).__name__}")
    names: dict = {}
    for out, spec in agg.items():
        if not isinstance(spec, tuple) or len(spec) != 2 or not isinstance(spec[0], str):
            raise TypeError(f"agg[{out!r}]: expected a (column name, how) pair such as "
                            f"('price', 'sum'), got {spec!r}")
        names[spec[0]] = None
    return tuple(names)


def _value_columns(lib, frame, names, agg) -> dict:
    cols = list(frame.columns) if lib != "arrow" else frame.column_names
    for name in names:
        n = sum(1 for c in cols if c == name)
        if n != 1:
            out = next(o for o, (c, _) in agg.items() if c == name)
            if n == 0:
                raise KeyError(f"agg[{out!r}]: no column {name!r} "
                               f"(columns: {', '.join(map(str, cols))})")
            raise SessionizeError(f"agg[{out!r}]: the frame has {n} columns named {name!r}; "
                                  "rename all but one")
    if lib == "arrow":
        return {n: frame.column(n) for n in names}
    return {n: frame[n] for n in names}


def _agg_out(lib, r, src, how):
    """One aggregate as a column of the frame's library: numpy's nulls
    (NaN, NaT, None) for numpy-backed pandas columns, the library's own
    nulls and the column's own type elsewhere."""
    from . import _agg

    keeps_type = how in ("min", "max", "first", "last")
    if r.list is not None:
        return _list_out(lib, r.list, src)
    if lib == "pandas":
        import pandas as pd

        arr = _agg.as_numpy(r)
        dtype = src.dtype
        if isinstance(dtype, np.dtype) or not (keeps_type or how in ("sum", "mean")):
            return arr
        s = pd.Series(arr)
        if isinstance(dtype, pd.DatetimeTZDtype):
            return s.dt.tz_localize("UTC").dt.tz_convert(dtype.tz).array if keeps_type else arr
        target = dtype if keeps_type else (
            "Float64" if how == "mean" else dtype if dtype.kind in "iuf" else None)
        if target is None:
            return arr
        try:
            return s.astype(target).array
        except (TypeError, ValueError):
            return arr
    import pyarrow as pa

    a = pa.array(r.data, mask=r.mask) if r.mask is not None else pa.array(r.data)
    if lib == "polars":
        import polars as pl

        out = pl.from_arrow(a)
        if keeps_type and out.dtype != src.dtype:
            dt = src.dtype
            try:
                if isinstance(dt, pl.Datetime) and dt.time_zone:
                    out = out.dt.replace_time_zone("UTC").dt.convert_time_zone(dt.time_zone)
                else:
                    out = out.cast(dt)
            except Exception:  # noqa: BLE001 - keep the values' own type
                pass
        return out
    t = src.type
    if keeps_type:
        if pa.types.is_dictionary(t):
            t = t.value_type
        if a.type != t:
            try:
                a = a.cast(t)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                pass
    return a


def _list_out(lib, lst, src):
    """A ListColumn as a list column of the frame's library (Arrow's
    offsets and values; pandas gets Python lists, as ``agg(list)`` does)."""
    try:
        import pyarrow as pa
    except ImportError:
        return [list(v) for v in lst]  # pandas without pyarrow
    flat = pa.array(lst.flat)
    st = getattr(src, "type", None)
    if st is not None:
        if pa.types.is_dictionary(st):
            st = st.value_type
        try:
            flat = flat.cast(st)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            pass
    arr = pa.ListArray.from_arrays(pa.array(lst.offsets.astype(np.int32)), flat)
    if lib == "pandas":
        import pandas as pd

        return pd.Series(arr.to_pylist(), dtype=object)
    if lib == "polars":
        import polars as pl

        return pl.from_arrow(arr)
    return arr


# An element error of the array API: keys[i] or times[i], then the reason.
_ELEMENT = re.compile(r"^(keys|times)\[(\d+)\]: ")


@contextlib.contextmanager
def _naming_columns(key: str, time: str):
    """Element errors of the array API (``times[3]: missing time (NaT)``)
    reworded to name the frame's column, as the frame's own checks do:
    ``time[3]: missing time (NaT) in column 'ts'``."""
    try:
        yield
    except (SessionizeError, TypeError) as e:
        m = _ELEMENT.match(str(e))
        if m is None:
            raise
        role, name = ("key", key) if m.group(1) == "keys" else ("time", time)
        msg = f"{role}[{m.group(2)}]: {str(e)[m.end():]} in column {name!r}"
        raise type(e)(msg) from e.__cause__


def _unique_columns(names, key: str, time: str) -> None:
    """The key and time columns must each be one column: a frame may hold
    two of one name (pandas, pyarrow), and which one was meant is unknown."""
    for role, name in (("key", key), ("time", time)):
        n = sum(1 for c in names if c == name)
        if n > 1:
            raise SessionizeError(
                f"{role}: the frame has {n} columns named {name!r}; rename all but one")


# ---- which library ------------------------------------------------------

def _library(df) -> str:
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(df, pd.DataFrame):
        return "pandas"
    pl = sys.modules.get("polars")
    if pl is not None and isinstance(df, pl.DataFrame):
        return "polars"
    if hasattr(df, "__arrow_c_stream__"):
        return "arrow"
    if pl is not None and isinstance(df, pl.LazyFrame):
        raise TypeError("df: a polars LazyFrame; collect() it first")
    raise TypeError(
        f"df: expected a pandas or polars DataFrame, or an object with __arrow_c_stream__ "
        f"(pyarrow, DuckDB), got {type(df).__name__}")


def _arrow_table(obj, keep):
    """The stream as a pyarrow Table: only the `keep` columns when given,
    batch by batch, so the other columns are never all held at once."""
    try:
        import pyarrow as pa
    except ImportError:
        raise ImportError("sessionize.frame: arrow streams need pyarrow: "
                          "pip install pyarrow (or 'sessionize[frame]')") from None
    if isinstance(obj, pa.Table):
        if keep:
            _unique_columns(obj.column_names, *keep[:2])
            # an aggregate's missing column is reported by _value_columns
            keep = keep[:2] + _present_once(obj.column_names, keep[2:])
        return obj.select(list(keep)) if keep else obj
    reader = pa.RecordBatchReader.from_stream(obj)
    if keep is None:
        return reader.read_all()
    names = reader.schema.names
    _unique_columns(names, *keep[:2])
    keep = keep[:2] + _present_once(names, keep[2:])
    for role, name in zip(("key", "time"), keep[:2]):
        if name not in names:
            raise KeyError(f"{role}: no column {name!r} (columns: {', '.join(names)})")
    schema = pa.schema([reader.schema.field(n) for n in keep])
    return pa.Table.from_batches([b.select(list(keep)) for b in reader], schema)


def _present_once(names, wanted) -> tuple:
    """The aggregates' columns that `names` holds; one held twice is refused
    (which one was meant is unknown), one missing left to _value_columns."""
    for c in wanted:
        n = sum(1 for x in names if x == c)
        if n > 1:
            raise SessionizeError(f"agg: the frame has {n} columns named {c!r}; "
                                  "rename all but one")
    return tuple(c for c in wanted if c in names)


# ---- columns in ---------------------------------------------------------

def _missing(role: str, name: str, row: int, what: str) -> SessionizeError:
    return SessionizeError(f"{role}[{row}]: missing {what} in column {name!r}")


def _columns(lib, frame, key, time):
    names = list(frame.columns) if lib != "arrow" else frame.column_names
    for role, name in (("key", key), ("time", time)):
        if name not in names:
            raise KeyError(f"{role}: no column {name!r} (columns: {', '.join(map(str, names))})")
    _unique_columns(names, key, time)
    if lib == "pandas":
        return _pandas_key(frame[key], key), _pandas_time(frame[time])
    if lib == "polars":
        return _polars_key(frame[key], key), _polars_time(frame[time], time)
    return _arrow_key(frame.column(key), key), _arrow_time(frame.column(time), time)


def _identity(a):
    return a


def _pandas_key(s, name):
    na = s.isna().to_numpy()
    if na.any():
        raise _missing("key", name, int(np.argmax(na)), "key")
    if isinstance(s.dtype, np.dtype):
        return s.to_numpy()
    if _arrow.source(s) is not None:  # backed by Arrow: the core reads it
        return s
    if s.dtype.kind in "iub":  # nullable ints without a missing value
        return s.to_numpy(dtype=s.dtype.numpy_dtype)
    return s.to_numpy(dtype=object)  # strings, categoricals: their values


def _pandas_time(s):
    import pandas as pd

    if isinstance(s.dtype, pd.DatetimeTZDtype):
        unit, tz = s.dtype.unit, s.dtype.tz
        # the instants (UTC) as int64, viewed as naive datetime64 of the same unit
        values = np.asarray(s.array.asi8).view(f"M8[{unit}]")
        if s.isna().any():
            values = values.copy()  # asi8 holds NaT as INT64_MIN: still NaT
        return values, lambda a: pd.Series(a).dt.tz_localize("UTC").dt.tz_convert(tz).array
    src = _arrow.source(s)
    if src is not None and _is_arrow_text(src.type):
        return _iso_time("pandas", src)
    if s.dtype.kind == "O" or (isinstance(s.dtype, np.dtype) and s.dtype.kind == "U"):
        na = s.isna().to_numpy()
        if na.any():
            raise _missing("time", s.name, int(np.argmax(na)), "time")
        values = s.to_numpy(dtype=object)
        if _iso.is_text(values):
            return _iso_time("pandas", values)
    if isinstance(s.dtype, np.dtype):
        return s.to_numpy(), _identity
    if s.dtype.kind in "iuf":  # nullable numbers: NA is reported as missing
        na = s.isna().to_numpy()
        if na.any():
            raise _missing("time", s.name, int(np.argmax(na)), "time")
        return s.to_numpy(dtype=s.dtype.numpy_dtype), _identity
    raise TypeError(f"time: column {s.name!r} has dtype {s.dtype}; expected datetimes, "
                    "integers, float seconds or ISO-8601 strings")


def _polars_key(s, name):
    import polars as pl

    if s.null_count():
        raise _missing("key", name, int(s.is_null().arg_max()), "key")
    if s.dtype in (pl.Categorical, pl.Enum) or isinstance(s.dtype, (pl.Categorical, pl.Enum)):
        s = s.cast(pl.String)
    if s.dtype in (pl.String, pl.Binary) or s.dtype.is_integer():
        return s  # Arrow memory: the core reads it, no object per row
    return s.to_numpy()


def _polars_time(s, name):
    import polars as pl

    if s.null_count():
        raise _missing("time", name, int(s.is_null().arg_max()), "time")
    if isinstance(s.dtype, pl.Datetime):
        unit, tz = s.dtype.time_unit, s.dtype.time_zone
        values = s.to_physical().to_numpy().view(f"M8[{unit}]")  # UTC instants
        dtype = pl.Datetime(unit, tz)
        return values, lambda a: pl.Series(a.view(np.int64)).cast(dtype)
    if isinstance(s.dtype, pl.Duration):
        unit = s.dtype.time_unit
        dtype = pl.Duration(unit)
        return (s.to_physical().to_numpy().view(f"m8[{unit}]"),
                lambda a: pl.Series(a.view(np.int64)).cast(dtype))
    if s.dtype.is_numeric():
        return s.to_numpy(), _identity
    if s.dtype == pl.String:
        return _iso_time("polars", s.to_arrow())
    raise TypeError(f"time: column {name!r} has dtype {s.dtype}; expected datetimes, "
                    "integers, float seconds or ISO-8601 strings")


def _arrow_key(col, name):
    import pyarrow as pa

    if col.null_count:
        raise _missing("key", name, _first_null(col), "key")
    t = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
    if (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t)
            or pa.types.is_large_binary(t) or pa.types.is_integer(t)
            or pa.types.is_fixed_size_binary(t) or pa.types.is_string_view(t)
            or pa.types.is_binary_view(t)):
        return col  # read by the core chunk by chunk (dictionaries hashed once)
    arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    return arr.to_numpy(zero_copy_only=False)


def _arrow_time(col, name):
    import pyarrow as pa

    if col.null_count:
        raise _missing("time", name, _first_null(col), "time")
    t = col.type
    if pa.types.is_timestamp(t) or pa.types.is_duration(t):
        # read by the core as int64 instants (UTC) in the column's unit
        return col, lambda a: pa.array(a.view(np.int64)).cast(t)
    if pa.types.is_integer(t):
        return col, _identity
    arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if pa.types.is_floating(t):
        return arr.to_numpy(), _identity
    if _is_arrow_text(t):
        return _iso_time("arrow", arr)
    raise TypeError(f"time: column {name!r} has type {t}; expected timestamps, "
                    "integers, float seconds or ISO-8601 strings")


def _is_arrow_text(t) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _iso_time(lib, values):
    """A column of ISO-8601 strings as datetime64[ns] instants, and how the
    results go back: the library's datetime type at ns, zoned by the
    strings' offset (none for wall-clock strings)."""
    ns, zone = _iso.column_ns(values, "times")
    if lib == "pandas":
        def restore(a):
            if not zone:
                return a.astype("M8[ns]")
            import pandas as pd
            return pd.Series(a.astype("M8[ns]")).dt.tz_localize("UTC").dt.tz_convert(zone).array
    elif lib == "polars":
        def restore(a):
            import polars as pl
            return pl.Series(a.astype("M8[ns]").view(np.int64)).cast(pl.Datetime("ns", zone))
    else:
        def restore(a):
            import pyarrow as pa
            return pa.array(a.astype("M8[ns]").view(np.int64)).cast(pa.timestamp("ns", zone))
    return ns.view("M8[ns]"), restore


def _first_null(col) -> int:
    mask = col.is_null()
    return int(np.argmax(mask.to_numpy(zero_copy_only=False)))


# ---- sessions out -------------------------------------------------------

def _build(lib, frame, key_name, keys, cols: dict) -> Any:
    if lib == "pandas":
        import pandas as pd

        kcol = keys.to_pandas() if hasattr(keys, "to_pandas") else pd.Series(keys)
        try:
            kcol = kcol.astype(frame[key_name].dtype)
        except (TypeError, ValueError):
            pass
        out = {key_name: kcol.to_numpy() if isinstance(kcol.dtype, np.dtype) else kcol.array}
        return pd.DataFrame({**out, **cols})
    if lib == "polars":
        import polars as pl

        kdtype = frame[key_name].dtype
        ks = pl.Series(key_name, keys)
        if ks.dtype != kdtype:
            ks = ks.cast(kdtype)
        return pl.DataFrame([ks] + [pl.Series(n, v).alias(n) if not isinstance(v, pl.Series)
                                    else v.alias(n) for n, v in cols.items()])
    import pyarrow as pa

    ktype = frame.schema.field(key_name).type
    if pa.types.is_dictionary(ktype):
        ktype = ktype.value_type
    if isinstance(keys, (pa.Array, pa.ChunkedArray)):
        kcol = keys if keys.type == ktype else keys.cast(ktype)
    else:
        kcol = pa.array(keys, type=ktype)
    arrays = [kcol] + [pa.array(v) if not isinstance(v, pa.Array) else v
                                              for v in cols.values()]
    return pa.table(arrays, names=[key_name, *cols])
