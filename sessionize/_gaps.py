"""A gap per event (Flink's withDynamicGap, Spark's session_window over a
gap column), as int64 in the times' unit, and what to do with bad ones.

``gap`` is per event when it is a column: a 1-D numpy array, a list or
tuple, a pandas, polars or Arrow column (anything with the Arrow C
interface).  Its values are converted as a scalar ``gap`` would be for the
same times, but column-wise:

    integer times          integers in the times' unit (floats only when
                           whole: a column with nulls arrives as floats)
    integer times with     integers in that unit, or timedelta64 / Arrow
    time_unit              durations made exactly that many units
    datetime64 times       timedelta64 or Arrow durations (or a list of
    (and datetimes)        datetime.timedelta), exactly
    float-second times     numbers are seconds (truncated to microseconds,
                           as Beam's Duration.of), or timedelta64
    any times              strings such as '30min' or '10 minutes' (Spark's
                           gap expressions), each distinct one read once

A missing (null, NaN, NaT), zero or negative gap is an error naming the
row, by default; ``on_bad_gap="drop"`` drops those events instead, as
Spark does silently, and says how many with a SessionizeWarning.
"""

from __future__ import annotations

import datetime
import sys
import warnings

import numpy as np

from . import _agg
from ._core import SessionizeError
from ._times import TimeKind

ON_BAD_GAP = ("raise", "drop")


class SessionizeWarning(UserWarning):
    """Something in the input was skipped as asked (on_bad_gap='drop')."""


def is_per_event(gap: object) -> bool:
    """Whether `gap` is a column (one gap per event) rather than one value."""
    if isinstance(gap, np.ndarray):
        return gap.ndim > 0
    if isinstance(gap, (list, tuple)):
        return True
    mod = type(gap).__module__.split(".")[0]
    return mod in ("pandas", "polars", "pyarrow") or hasattr(gap, "__arrow_c_array__") \
        or hasattr(gap, "__arrow_c_stream__")


def check_on_bad_gap(on_bad_gap: object) -> str:
    if not isinstance(on_bad_gap, str) or on_bad_gap not in ON_BAD_GAP:
        raise SessionizeError(f"on_bad_gap: must be 'raise' or 'drop', got {on_bad_gap!r}")
    return on_bad_gap


def show(value: object) -> str:
    """A value as the user wrote it: 4e-07, not np.float64(4e-07)."""
    if isinstance(value, np.generic) and value.dtype.kind not in "mM":
        value = value.item()
    return repr(value)


def _bad(i: int, what: str, name: str) -> SessionizeError:
    return SessionizeError(f"{name}[{i}]: {what}")


def _ints(data: np.ndarray, missing: np.ndarray, name: str) -> np.ndarray:
    """Whole numbers as int64: floats only where they are whole and fit."""
    if data.dtype.kind in "iu":
        if data.dtype.kind == "u" and data.size and int(data.max()) > 2**63 - 1:
            i = int(np.argmax(data > 2**63 - 1))
            raise _bad(i, f"{show(data[i])} does not fit int64", name)
        return data.astype(np.int64, copy=False)
    if data.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            wrong = ~missing & ((data != np.floor(data)) | (np.abs(data) >= 2.0**63))
        if wrong.any():
            i = int(np.argmax(wrong))
            raise _bad(i, f"{show(data[i])} is not a whole number of the times' unit "
                       "(integer times take integer gaps)", name)
        return np.where(missing, 0, data).astype(np.int64)
    raise TypeError(f"{name}: integer times take integer gaps, not {data.dtype}")


def _timedeltas(data: np.ndarray, missing: np.ndarray, unit: str, name: str) -> np.ndarray:
    """timedelta64 of any unit as exact int64 counts of `unit`."""
    src = np.where(missing, np.timedelta64(0, "ns").astype(data.dtype), data)
    target = np.dtype(f"m8[{unit}]")
    with np.errstate(over="ignore", invalid="ignore"):
        conv = src.astype(target)
        wrong = conv.astype(src.dtype) != src
    if wrong.any():
        i = int(np.argmax(wrong))
        raise _bad(i, f"{show(data[i])} is not a whole number of the times' unit [{unit}] "
                   "(or does not fit int64 in it)", name)
    return conv.view(np.int64)


def _strings(data: np.ndarray, missing: np.ndarray, kind: TimeKind, name: str) -> np.ndarray:
    """Duration strings, each distinct one read once by the scalar rules."""
    out = np.zeros(len(data), dtype=np.int64)
    idx = np.flatnonzero(~missing)
    if len(idx) == 0:
        return out
    texts = data[idx].astype(str)
    distinct, inverse = np.unique(texts, return_inverse=True)
    values = np.empty(len(distinct), dtype=np.int64)
    for j, text in enumerate(distinct):
        row = int(idx[int(np.argmax(inverse == j))])
        try:
            values[j] = kind.to_int(str(text), f"{name}[{row}]")
        except SessionizeError as e:
            if "must be > 0" in str(e):  # a bad gap, which on_bad_gap decides on
                values[j] = 0
                continue
            raise
    out[idx] = values[inverse]
    return out


def _all_timedeltas(data: np.ndarray, missing: np.ndarray) -> bool:
    vals = data[~missing]
    return len(vals) > 0 and all(isinstance(v, (datetime.timedelta, np.timedelta64))
                                 for v in vals)


def per_event(gap: object, kind: TimeKind, n: int, name: str = "gap",
              ) -> tuple[np.ndarray, np.ndarray]:
    """(gaps as int64 in the times' unit, bad): `bad` marks the missing,
    zero and negative ones (their int64 is meaningless)."""
    col = _agg.column(gap, name)
    data = col.data
    missing = col.mask if col.mask is not None else np.zeros(len(data), dtype=bool)
    if len(data) != n:
        raise SessionizeError(
            f"{name}: one gap per event expected, got {len(data)} for {n} events")
    k = data.dtype.kind
    if k == "O" and _all_timedeltas(data, missing):  # a list of datetime.timedelta
        data = np.array([np.timedelta64("NaT", "ns") if m else v
                         for v, m in zip(data, missing)], dtype="m8[ns]")
        k = "m"
    if k in "OUS":
        ints = _strings(data, missing, kind, name)
    elif k == "m":
        if kind.unit == "":
            raise SessionizeError(
                f"{name}: durations have a unit but integer times do not; give "
                f"{name} as integers in the times' unit, or say the times' unit "
                "with time_unit='s', 'ms', 'us' or 'ns'")
        ints = _timedeltas(data, missing, kind.unit, name)
    elif k == "b":
        raise TypeError(f"{name}: expected durations, got bools")
    elif kind.name == "seconds":
        with np.errstate(invalid="ignore", over="ignore"):
            micros = np.trunc(np.where(missing, 0.0, data.astype(np.float64)) * 1e6)
            wrong = ~missing & ~(np.abs(micros) < 2.0**63)
        if wrong.any():
            i = int(np.argmax(wrong))
            raise _bad(i, f"{show(data[i])} s does not fit int64 microseconds", name)
        ints = micros.astype(np.int64)
        tiny = ~missing & (data > 0) & (ints < 1)
        if tiny.any():
            i = int(np.argmax(tiny))
            raise _bad(i, f"{show(data[i])} s is less than one microsecond (float-second times "
                       "are held in whole microseconds, as Beam holds them)", name)
    elif kind.name == "int":
        ints = _ints(data, missing, name)
    else:
        raise TypeError(
            f"{name}: {kind.name} times take gaps as timedelta64, Arrow durations "
            f"or strings such as '30min', not {data.dtype}")
    return ints, missing | (ints <= 0)


def _caller_level() -> int:
    """warnings.warn's stacklevel of the first frame outside this package."""
    level, f = 1, sys._getframe(1)
    while f is not None and f.f_globals.get("__name__", "").startswith("sessionize"):
        level, f = level + 1, f.f_back
    return level


def describe_bad(i: int, gap_value: object, missing: bool, name: str = "gap") -> str:
    if missing:
        return f"{name}[{i}]: missing gap (null, NaN or NaT); pass on_bad_gap='drop' to " \
               "drop such events, as Spark does"
    return f"{name}[{i}]: must be > 0, got {gap_value!r}; pass on_bad_gap='drop' to " \
           "drop such events, as Spark does"


def settle(gap: object, ints: np.ndarray, bad: np.ndarray, on_bad_gap: str,
           name: str = "gap") -> np.ndarray | None:
    """None when every gap is good; else raises (on_bad_gap='raise') or
    warns and returns the positions of the events kept."""
    if not bad.any():
        return None
    i = int(np.argmax(bad))
    if on_bad_gap == "raise":
        col = _agg.column(gap, name)
        missing = col.mask is not None and bool(col.mask[i])
        value = None if missing else col.data[i]
        if isinstance(value, np.generic):
            value = value.item() if value.dtype.kind != "m" else value
        raise SessionizeError(describe_bad(i, value, missing, name))
    dropped = int(bad.sum())
    warnings.warn(
        f"{name}: dropped {dropped} of {len(bad)} events whose gap is missing, zero or "
        f"negative (on_bad_gap='drop'), the first at {name}[{i}]",
        SessionizeWarning, stacklevel=_caller_level())
    return np.flatnonzero(~bad)
