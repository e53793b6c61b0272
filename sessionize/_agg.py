"""Named per-session aggregates: ``sessions(..., agg={"out": (values, how)})``.

Every aggregate is a vectorized group kernel over one stable order of the
events, by session id, then time, then input position (two stable sorts), in
which each session is one contiguous run (its length is the session's
``count``): ``np.add``/``minimum``/``maximum.reduceat`` over the runs, first
and last by index, ``n_unique`` by sorting (session, value code) pairs, and
``list`` as a :class:`ListColumn` of the ordered values.  No Python code
runs per session or per event.

Nulls follow pandas' ``groupby`` defaults: None, NaN, NaT, pandas NA, a
masked element or an Arrow/polars null is skipped by ``count`` (which counts
the non-null values), ``sum`` (0 when none), ``mean``, ``min``, ``max``,
``first``, ``last`` (null when none) and ``n_unique``; ``list`` keeps them.
"""

from __future__ import annotations

import sys
from typing import Any, NamedTuple

import numpy as np

from ._core import SessionizeError
from ._table import ListColumn

HOWS = ("count", "sum", "min", "max", "mean", "first", "last", "n_unique", "list")
_ORDERED = "iufbMm"  # kinds np.minimum/maximum.reduceat take (M/m as int64)


class Column(NamedTuple):
    """One value column as numpy: ``data`` (any value where null) and
    ``mask`` (True where null; None when nothing is null)."""

    data: np.ndarray
    mask: np.ndarray | None
    source: Any  # the caller's column, for the frame module's types


class Result(NamedTuple):
    """One aggregate: ``data`` and ``mask`` (True where the result is null,
    or None); ``values`` for ``list`` (a ListColumn), else None."""

    data: np.ndarray | None
    mask: np.ndarray | None
    nullable: bool  # the input had a null: integer/bool results then hold them
    list: ListColumn | None = None


class Spec(NamedTuple):
    name: str
    how: str
    column: Column


# ---- the specs ----------------------------------------------------------

def parse(agg, values, n: int, reserved: dict) -> list[Spec]:
    """``agg`` checked, its value columns normalized (each once);
    ``reserved`` maps the names an output cannot take to "column" or
    "attribute"."""
    if agg is None:
        if values:  # columns given for nothing: a forgotten agg=, say so
            raise TypeError("values: given without agg; name its columns in "
                            "agg={'out': ('column', how)}")
        return []
    if not hasattr(agg, "items"):
        raise TypeError(f"agg: expected a dict of name -> (values, how), got "
                        f"{type(agg).__name__}")
    if values is not None and not hasattr(values, "__getitem__"):
        raise TypeError(f"values: expected a dict of name -> array, got "
                        f"{type(values).__name__}")
    specs, seen = [], {}
    for name, spec in agg.items():
        where = f"agg[{name!r}]"
        if not isinstance(name, str):
            raise TypeError(f"{where}: the output name must be a str")
        if name in reserved:
            what = ("the sessions' own column" if reserved[name] == "column"
                    else "the table's own attribute")
            raise SessionizeError(f"{where}: clashes with {what} {name!r}; "
                                  "choose another name")
        if not isinstance(spec, tuple) or len(spec) != 2:
            raise TypeError(f"{where}: expected a (values, how) pair such as "
                            f"('price', 'sum'), got {spec!r}")
        src, how = spec
        if how not in HOWS:
            raise SessionizeError(f"{where}: unknown aggregate {how!r}; expected one of "
                                  f"{', '.join(HOWS)}")
        if isinstance(src, str):
            if values is None:
                raise SessionizeError(f"{where}: {src!r} names a column, but no values= "
                                      "were given; pass values={...} or the array itself")
            try:
                arr = values[src]
            except (KeyError, IndexError):
                names = list(values.keys()) if hasattr(values, "keys") else []
                raise KeyError(f"{where}: no column {src!r} in values "
                               f"(columns: {', '.join(map(str, names))})") from None
            key = ("name", src)
        else:
            arr = src
            key = ("id", id(src))
        col = seen.get(key)
        if col is None:
            col = seen[key] = column(arr, where)
            if len(col.data) != n:
                raise SessionizeError(f"{where}: {len(col.data)} values for {n} events; "
                                      "give one value per event")
        specs.append(Spec(name, how, col))
    return specs


def column(values, where: str) -> Column:
    """`values` as a Column: numpy arrays (masked too), lists, pandas,
    polars and pyarrow columns, anything with ``__arrow_c_array__``."""
    mod = type(values).__module__.split(".")[0]
    if mod == "pandas":
        col = _pandas(values)
    elif mod == "polars":
        col = _polars(values)
    elif mod == "pyarrow" or (not isinstance(values, np.ndarray)
                              and (hasattr(values, "__arrow_c_array__")
                                   or hasattr(values, "__arrow_c_stream__"))):
        col = _arrow(values)
    else:
        col = _numpy(values, where)
    data, mask = col
    if data.ndim != 1:
        raise TypeError(f"{where}: expected a 1-D array of values, got {data.ndim} dimensions")
    if data.dtype.kind not in "iufbMmUSO":
        raise TypeError(f"{where}: unsupported dtype {data.dtype}; expected numbers, bools, "
                        "strings, datetimes or objects")
    if mask is not None and not mask.any():
        mask = None
    return Column(data, mask, values)


def _numpy(values, where):
    if isinstance(values, np.ma.MaskedArray):
        return np.asarray(values.data), np.ma.getmaskarray(values)
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        return arr, np.isnan(arr)
    if arr.dtype.kind in "Mm":
        return arr, np.isnat(arr)
    if arr.dtype.kind == "O":
        return arr, _object_nulls(arr)
    return arr, None


def _object_nulls(arr: np.ndarray) -> np.ndarray:
    """None, NaN, NaT and pandas' NA in an object array, as pandas' isna."""
    pd = sys.modules.get("pandas")
    if pd is None:
        try:
            import pandas as pd
        except ImportError:
            pd = None
    if pd is not None:
        return np.asarray(pd.isna(arr), dtype=bool)
    with np.errstate(invalid="ignore"):
        return np.equal(arr, None) | np.not_equal(arr, arr).astype(bool)


def _pandas(v):
    import pandas as pd

    dtype = v.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):  # UTC instants, as the times are
        arr = pd.array(v) if not hasattr(v, "array") else v.array
        data = np.asarray(arr.asi8).view(f"M8[{dtype.unit}]")
        return data, np.isnat(data)
    if isinstance(dtype, np.dtype):
        return _numpy(v.to_numpy(), "")
    mask = np.asarray(pd.isna(v), dtype=bool)
    numpy_dtype = getattr(dtype, "numpy_dtype", None)
    if numpy_dtype is not None and numpy_dtype.kind in "iufb":
        fill = False if numpy_dtype.kind == "b" else 0
        return v.to_numpy(dtype=numpy_dtype, na_value=fill), mask
    return v.to_numpy(dtype=object, na_value=None), mask


def _polars(v):
    import polars as pl

    mask = v.is_null().to_numpy()
    dt = v.dtype
    if isinstance(dt, (pl.Datetime, pl.Duration)):
        code = "M" if isinstance(dt, pl.Datetime) else "m"
        return v.to_physical().fill_null(0).to_numpy().view(f"{code}8[{dt.time_unit}]"), mask
    if dt.is_numeric() or dt == pl.Boolean:
        filled = v.fill_null(False if dt == pl.Boolean else 0).to_numpy()
        if dt.is_float():
            mask = mask | np.isnan(filled)  # pandas' rule: NaN is missing too
        return filled, mask
    if isinstance(dt, (pl.Categorical, pl.Enum)):
        v = v.cast(pl.String)
    out = np.empty(len(v), dtype=object)
    out[:] = v.to_list() if not (v.dtype == pl.String or v.dtype == pl.Binary) else v.to_numpy()
    return out, mask


def _arrow(v):
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(v, (pa.Array, pa.ChunkedArray)):
        v = pa.array(v) if hasattr(v, "__arrow_c_array__") else \
            pa.RecordBatchReader.from_stream(v).read_all().column(0)
    if isinstance(v, pa.ChunkedArray):
        v = v.combine_chunks() if v.num_chunks != 1 else v.chunk(0)
    t = v.type
    if pa.types.is_dictionary(t):
        v, t = v.dictionary_decode(), t.value_type
    mask = v.is_null().to_numpy(zero_copy_only=False)
    if pa.types.is_timestamp(t) or pa.types.is_duration(t):
        code = "M" if pa.types.is_timestamp(t) else "m"
        ints = pc.fill_null(v.cast(pa.int64()), 0).to_numpy()
        return ints.view(f"{code}8[{t.unit}]"), mask
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        data = pc.fill_null(v, pa.scalar(0 if not pa.types.is_boolean(t) else False,
                                         t)).to_numpy(zero_copy_only=False)
        if pa.types.is_floating(t):
            mask = mask | np.isnan(data)
        return data, mask
    out = np.empty(len(v), dtype=object)
    out[:] = v.to_numpy(zero_copy_only=False)
    return out, mask


# ---- the kernels --------------------------------------------------------

def order(ids: np.ndarray, times: np.ndarray) -> np.ndarray:
    """The events by session id, then time, then input position: two
    stable sorts (np.lexsort's order, in a third of its time here)."""
    by_time = np.argsort(times, kind="stable")
    return by_time[np.argsort(ids[by_time], kind="stable")]


def compute(specs: list[Spec], ids, times, counts: np.ndarray) -> dict[str, Result]:
    """Each spec's Result; ``counts`` the sessions' event counts."""
    if not specs:
        return {}
    o = order(ids, times)
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    counts = np.asarray(counts, dtype=np.int64)
    sid = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    ordered: dict[int, tuple] = {}
    out = {}
    for s in specs:
        key = id(s.column)
        if key not in ordered:
            c = s.column
            ordered[key] = (c.data[o], None if c.mask is None else c.mask[o])
        v, m = ordered[key]
        out[s.name] = _one(s, v, m, offsets, counts, sid)
    return out


def _one(spec: Spec, v, m, offsets, counts, sid) -> Result:
    return over_runs(spec.how, v, m, offsets, f"agg[{spec.name!r}]", counts, sid)


def over_runs(how: str, v: np.ndarray, m: np.ndarray | None, offsets: np.ndarray,
              where: str, counts: np.ndarray | None = None,
              sid: np.ndarray | None = None) -> Result:
    """`how` over each run ``v[offsets[i]:offsets[i + 1]]`` (every run
    non-empty, in the order first/last/list follow), nulls where ``m``:
    the one kernel of the array API, the frames and the command line's
    ``--agg`` over a ListColumn of collected values.  ``where`` names the
    aggregate in errors."""
    if counts is None:
        counts = np.diff(offsets).astype(np.int64)
    S = len(counts)
    if sid is None:
        sid = np.repeat(np.arange(S, dtype=np.int64), counts)
    nullable = m is not None
    starts = offsets[:-1]
    valid = counts if m is None else counts - np.bincount(sid[m], minlength=S)
    if how == "count":
        return Result(valid.astype(np.int64), None, False)
    if how == "list":
        flat = v
        if m is not None:  # nulls as the dtype holds them: NaN, NaT, else None
            flat = v.copy() if v.dtype.kind in "fMm" else v.astype(object)
            kind = v.dtype.kind
            # NaT of the column's own unit (numpy 2.5 deprecates a unitless one)
            flat[m] = (np.array("NaT", v.dtype) if kind in "Mm"
                       else np.nan if kind == "f" else None)
        return Result(None, None, nullable, ListColumn(offsets, flat))
    if how == "n_unique":
        return Result(_n_unique(v, m, sid, S), None, False)
    if how in ("first", "last"):
        pos = np.arange(len(v), dtype=np.int64)
        if how == "first":
            if m is not None:
                pos[m] = len(v)
            idx = _reduce(np.minimum, pos, starts, S, len(v))
        else:
            if m is not None:
                pos[m] = -1
            idx = _reduce(np.maximum, pos, starts, S, -1)
        empty = valid == 0
        data = v[np.clip(idx, 0, max(len(v) - 1, 0))] if len(v) else v[:0]
        return Result(data, empty if empty.any() else None, nullable)
    kind = v.dtype.kind
    if how in ("sum", "mean") and kind == "O":
        v = _numbers(v, m)  # [1, None, 3]: numbers as pandas' object columns sum them
        kind = v.dtype.kind
    if how in ("sum", "mean"):
        if kind not in "iufb" and not (how == "sum" and kind == "m"):
            raise TypeError(f"{where}: {how!r} needs numbers or bools"
                            f"{' (or timedelta64)' if how == 'sum' else ''}, got "
                            f"{_what(v)} values")
        if how == "mean" or kind == "f":
            x = v.astype(np.float64)
        elif kind == "m":
            x = v.view(np.int64)
        elif kind == "u":
            x = v.astype(np.uint64)
        else:
            x = v.astype(np.int64)
        if m is not None:
            x = np.where(m, x.dtype.type(0), x)
        total = _reduce(np.add, x, starts, S, 0)
        if how == "sum":
            return Result(total.view(v.dtype) if kind == "m" else total, None, False)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / valid
        none = valid == 0  # NaN there; the frames' polars and Arrow columns: null
        return Result(mean, none if none.any() else None, False)
    # min, max
    ufunc = np.minimum if how == "min" else np.maximum
    empty = valid == 0
    if kind in _ORDERED:
        x = v.view(np.int64) if kind in "Mm" else v
        if m is not None:
            x = x.copy()
            x[m] = _identity(x.dtype, how)
        r = _reduce(ufunc, x, starts, S, _identity(x.dtype, how))
        if kind in "Mm":
            r = r.view(v.dtype)
        return Result(r, empty if empty.any() else None, nullable)
    # strings and objects: their rank among the sorted distinct values
    keep = ~m if m is not None else slice(None)
    try:
        uniq, codes = _ranks(v[keep])
    except TypeError as e:
        raise TypeError(f"{where}: {how!r} needs values that order against each other "
                        f"({e})") from None
    code = np.full(len(v), len(uniq) if how == "min" else -1, dtype=np.int64)
    code[keep] = codes.ravel()
    r = _reduce(ufunc, code, starts, S, 0)
    data = uniq[np.clip(r, 0, max(len(uniq) - 1, 0))] if len(uniq) else \
        np.empty(S, dtype=v.dtype)
    return Result(data, empty if empty.any() else None, nullable)


def _numbers(v: np.ndarray, m: np.ndarray | None) -> np.ndarray:
    """An object array whose non-null values are all numbers (ints, floats,
    bools) as a numeric array (nulls 0, masked anyway); else `v`."""
    keep = ~m if m is not None else slice(None)
    try:
        typed = np.asarray(v[keep].tolist())
    except (TypeError, ValueError):
        return v
    if typed.dtype.kind not in "iufb" or typed.ndim != 1:
        return v
    out = np.zeros(len(v), dtype=typed.dtype)
    out[keep] = typed
    return out


def _reduce(ufunc, x, starts, S, empty_value):
    if S == 0:
        return np.full(0, empty_value, dtype=x.dtype)
    return ufunc.reduceat(x, starts)


def _identity(dtype, how):
    if dtype.kind == "f":
        return np.inf if how == "min" else -np.inf
    if dtype.kind == "b":
        return how == "min"
    info = np.iinfo(dtype)
    return info.max if how == "min" else info.min


def _ranks(v: np.ndarray):
    """(the sorted distinct values, each value's index among them).  Objects
    are hashed first (the core's factorize) and only the distinct values
    sorted: Python comparisons per distinct value, not per event."""
    if v.dtype.kind != "O":
        uniq, codes = np.unique(v, return_inverse=True)
        return uniq, codes.ravel()
    from . import _core

    codes, uniques = _core.factorize(v)
    distinct = np.empty(len(uniques), dtype=object)
    distinct[:] = uniques
    by_value = np.argsort(distinct, kind="stable")  # TypeError when unorderable
    rank = np.empty(len(distinct), dtype=np.int64)
    rank[by_value] = np.arange(len(distinct))
    return distinct[by_value], rank[codes]


def _n_unique(v, m, sid, S):
    if m is not None:
        v, sid = v[~m], sid[~m]
    if not len(v):
        return np.zeros(S, dtype=np.int64)
    if v.dtype.kind == "O":
        from . import _core

        codes, uniques = _core.factorize(v)
        n_codes = len(uniques)
    else:
        x = v.view(np.int64) if v.dtype.kind in "Mm" else v
        if x.dtype.kind == "f":
            x = x + 0.0  # -0.0 and 0.0 are one value, as pandas counts them
        uniq, codes = np.unique(x, return_inverse=True)
        n_codes = len(uniq)
    # (session, value) pairs sorted; a pair unlike the one before is new
    pairs = np.sort(sid * n_codes + np.asarray(codes, dtype=np.int64).ravel())
    new = np.ones(len(pairs), dtype=bool)
    new[1:] = pairs[1:] != pairs[:-1]
    return np.bincount(pairs[new] // n_codes, minlength=S).astype(np.int64)


def _what(v):
    k = v.dtype.kind
    return {"U": "str", "S": "bytes", "O": "object", "M": "datetime64",
            "m": "timedelta64"}.get(k, str(v.dtype))


# ---- numpy results (the array API) --------------------------------------

def as_numpy(r: Result):
    """A Result as a SessionTable column: nulls as NaN (floats; integers
    that held a null become float64), NaT (datetimes), None (bools, strings
    and objects that held a null become object arrays)."""
    if r.list is not None:
        return r.list
    data, mask = r.data, r.mask
    kind = data.dtype.kind
    if not r.nullable and mask is None:
        return data
    if kind in "iu" and r.nullable:
        data = data.astype(np.float64)
    elif kind in "bUS" and r.nullable:
        data = data.astype(object)
    if mask is None:
        return data
    data = data.copy()
    kind = data.dtype.kind
    if kind == "f":
        data[mask] = np.nan
    elif kind in "Mm":
        data[mask] = np.array("NaT", data.dtype)  # of the column's unit
    else:
        data = data.astype(object)
        data[mask] = None
    return data
