"""Times of any supported type as int64, and back.

    integers          any unit; durations are integers in that unit
    datetime64[u]     any unit; durations as timedelta, timedelta64 or '30min'
    timedelta64[u]    the same, for elapsed times
    float seconds     time.time() style, held as int64 microseconds exactly as
                      Apache Beam's Timestamp.of() holds them
    datetime objects  naive ones, as datetime64[us]

The core sees only int64.  A TimeKind remembers how to convert durations
into that int64 unit and results back into the caller's type.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import _arrow, _core, _missing
from ._core import SessionizeError
from . import _durations

INT64_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class TimeKind:
    """How the caller's times map to int64 and back."""

    name: str                       # 'int', 'datetime64', 'timedelta64', 'seconds'
    nat: bool                       # INT64_MIN is a missing value
    duration: Callable[[object, str], int]
    restore: Callable[[np.ndarray], np.ndarray]
    zone: str = ""                  # Arrow timestamps' time zone, kept for the results

    def to_int(self, value: object, name: str) -> int:
        return self.duration(value, name)


def _as_array(times: object) -> np.ndarray:
    arr = times if isinstance(times, np.ndarray) else np.asarray(times)
    if arr.ndim == 0 and not isinstance(times, np.ndarray):
        raise TypeError(
            f"times: expected an array, list or tuple of times, got {type(times).__name__}"
        )
    if arr.ndim != 1:
        raise SessionizeError(f"times: expected a 1-D array, got {arr.ndim} dimensions")
    return arr


def _native_i8_view(arr: np.ndarray) -> np.ndarray:
    """The int64 bits of a datetime64/timedelta64 array, without a copy."""
    order = arr.dtype.byteorder
    return arr.view(np.dtype(np.int64).newbyteorder(order if order in "<>" else "="))


def _unit_kind(arr: np.ndarray, kind_name: str) -> tuple[np.ndarray, TimeKind]:
    unit, count = np.datetime_data(arr.dtype)
    if unit == "generic":
        raise SessionizeError(
            f"times: {arr.dtype} has no unit; use e.g. datetime64[ms]"
        )
    dtype = arr.dtype.newbyteorder("=")
    kind = TimeKind(
        kind_name,
        True,
        lambda v, name: _durations.to_unit(v, unit, count, name),
        lambda a: a.view(dtype),
    )
    return _native_i8_view(arr), kind


_INT = TimeKind("int", False, _durations.to_integer_unit, lambda a: a)
_SECONDS = TimeKind(
    "seconds",
    False,
    _durations.to_micros_from_seconds,
    lambda a: a / 1e6,  # Beam: float(Timestamp) == micros / 1000000
)


def _from_objects(arr: np.ndarray) -> tuple[np.ndarray, TimeKind]:
    """Python datetimes (naive), or Python numbers that numpy left as objects."""
    for i, v in enumerate(arr):
        if isinstance(v, datetime.datetime):
            if v.tzinfo is not None:
                raise TypeError(
                    f"times[{i}]: timezone-aware datetimes are not supported "
                    "by the array API; pass datetime64 (UTC) instead"
                )
        elif v is None:
            raise SessionizeError(f"times[{i}]: missing time (None)")
        else:
            raise TypeError(
                f"times[{i}]: expected datetime.datetime in an object array, "
                f"got {type(v).__name__}"
            )
    return _unit_kind(arr.astype("datetime64[us]"), "datetime64")


# the core's sz_arrow_kind and sz_arrow_unit
_ARROW_INTEGER, _ARROW_TIMESTAMP, _ARROW_DATE, _ARROW_DURATION = range(4)
_ARROW_UNITS = {1: "s", 2: "ms", 3: "us", 4: "ns", 5: "D"}


def _from_arrow(src: object) -> tuple[np.ndarray, TimeKind]:
    """An Arrow integer, timestamp, date or duration column, read in C into
    int64 in its own unit, then typed as numpy types it: a timestamp as
    datetime64 (UTC instants when it has a zone, which the kind keeps for
    the results), a date as datetime64[D] or [ms], a duration as
    timedelta64."""
    values, kind, unit, zone = _core.arrow_ints(src, "times")
    if kind == _ARROW_INTEGER:
        return values, _INT
    dtype = np.dtype(f"{'m' if kind == _ARROW_DURATION else 'M'}8[{_ARROW_UNITS[unit]}]")
    arr, tk = _unit_kind(values.view(dtype), "timedelta64" if kind == _ARROW_DURATION
                         else "datetime64")
    if zone:
        tk = TimeKind(tk.name, tk.nat, tk.duration, tk.restore, zone)
    return arr, tk


def normalize(times: object) -> tuple[np.ndarray, TimeKind]:
    """Returns (int64-compatible array, its TimeKind)."""
    src = _arrow.source(times)
    if src is not None:
        return _from_arrow(src)
    arr = _as_array(_missing.plain(times, "times"))
    k = arr.dtype.kind
    if k == "i":
        return arr, _INT
    if k == "u":
        if arr.dtype.itemsize == 8 and arr.size:
            over = arr > INT64_MAX
            if over.any():
                i = int(np.argmax(over))
                raise SessionizeError(
                    f"times[{i}]: {int(arr[i])} does not fit int64"
                )
            return arr.astype(np.int64), _INT
        return arr, _INT
    if k == "M":
        return _unit_kind(arr, "datetime64")
    if k == "m":
        return _unit_kind(arr, "timedelta64")
    if k == "f":
        if arr.dtype.itemsize > 8:
            # numpy's own cast error would not name the argument; float64
            # holds every time.time() value, so refuse rather than round
            raise TypeError(
                f"times: unsupported dtype longdouble ({arr.dtype}); pass float64 "
                "seconds, integers or datetime64"
            )
        return _core.seconds_to_micros(arr), _SECONDS
    if k == "O":
        return _from_objects(arr)
    raise TypeError(
        f"times: unsupported dtype {arr.dtype}; expected integers, datetime64, "
        "timedelta64 or float seconds"
    )
