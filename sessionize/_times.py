"""Times of any supported type as int64, and back.

    integers          any unit; durations are integers in that unit
    datetime64[u]     any unit; durations as timedelta, timedelta64 or '30min'
    timedelta64[u]    the same, for elapsed times
    float seconds     time.time() style, held as int64 microseconds exactly as
                      Apache Beam's Timestamp.of() holds them
    datetime objects  as datetime64[us]; aware ones as their UTC instants,
                      the zone kept for the results
    zoned pandas      (DatetimeTZDtype) their UTC instants, the zone kept
    ISO-8601 strings  as datetime64[ns] (see _iso); with an offset, UTC
                      instants, the offset kept as the results' zone

time_unit ('s', 'ms', 'us', 'ns') names the unit of integer times, as epoch
counts: durations may then be given as '30min' or a timedelta, and the
times come back as the integers they were.

The core sees only int64.  A TimeKind remembers how to convert durations
into that int64 unit and results back into the caller's type.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import _arrow, _core, _iso, _missing
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
    unit: str = ""                  # the int64's unit as numpy names it ('ms', '10us'),
                                    # '' for integers of no stated unit

    def to_int(self, value: object, name: str) -> int:
        return self.duration(value, name)


TIME_UNITS = ("s", "ms", "us", "ns")


def check_time_unit(time_unit: object) -> "str | None":
    """time_unit as given, or SessionizeError naming it."""
    if time_unit is None or (isinstance(time_unit, str) and time_unit in TIME_UNITS):
        return time_unit
    raise SessionizeError(
        f"time_unit: must be one of 's', 'ms', 'us', 'ns' or None, got {time_unit!r}")


def zone_name(tz) -> str:
    """The name Arrow and pandas take for a tzinfo ("" for none)."""
    if tz is None:
        return ""
    if tz is datetime.timezone.utc:
        return "UTC"
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)  # zoneinfo, pytz
    if key:
        return key
    off = tz.utcoffset(None)
    if off is not None:  # a fixed offset: "+05:30"
        m = int(off.total_seconds()) // 60
        return f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}"
    return str(tz)


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
        unit=f"{count}{unit}" if count != 1 else unit,
    )
    return _native_i8_view(arr), kind


_INT = TimeKind("int", False, _durations.to_integer_unit, lambda a: a)


def _int_kind(time_unit: "str | None") -> TimeKind:
    if time_unit is None:
        return _INT
    return TimeKind("int", False,
                    lambda v, name: _durations.to_epoch_unit(v, time_unit, name),
                    lambda a: a, unit=time_unit)


def _with_zone(tk: TimeKind, zone: str) -> TimeKind:
    return TimeKind(tk.name, tk.nat, tk.duration, tk.restore, zone, tk.unit)
_SECONDS = TimeKind(
    "seconds",
    False,
    _durations.to_micros_from_seconds,
    lambda a: a / 1e6,  # Beam: float(Timestamp) == micros / 1000000
    unit="us",
)


def _from_objects(arr: np.ndarray) -> tuple[np.ndarray, TimeKind]:
    """Python datetimes (naive, or aware: their UTC instants, the zone of
    the first kept when they share it, else UTC), or ISO strings."""
    if _iso.is_text(arr):
        return _from_iso(arr)
    aware = None
    zones = set()
    out = np.empty(len(arr), dtype=np.int64)
    for i, v in enumerate(arr):
        if isinstance(v, datetime.datetime):
            is_aware = v.utcoffset() is not None
            if aware is None:
                aware = is_aware
            elif is_aware != aware:
                raise TypeError(
                    f"times[{i}]: cannot mix naive and timezone-aware datetimes "
                    f"(times[0] is {'aware' if aware else 'naive'})"
                )
            if is_aware:
                zones.add(zone_name(v.tzinfo))
                out[i] = (v - _EPOCH_UTC) // _US
        elif v is None:
            raise SessionizeError(f"times[{i}]: missing time (None)")
        else:
            raise TypeError(
                f"times[{i}]: expected datetime.datetime or an ISO-8601 string in an "
                f"object array, got {type(v).__name__}"
            )
    if not aware:
        return _unit_kind(arr.astype("datetime64[us]"), "datetime64")
    arr64, tk = _unit_kind(out.view("M8[us]"), "datetime64")
    return arr64, _with_zone(tk, zones.pop() if len(zones) == 1 else "UTC")


_EPOCH_UTC = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_US = datetime.timedelta(microseconds=1)


def _from_iso(values: object) -> tuple[np.ndarray, TimeKind]:
    ns, zone = _iso.column_ns(values, "times")
    arr, tk = _unit_kind(ns.view("M8[ns]"), "datetime64")
    return arr, _with_zone(tk, zone) if zone else tk


def _from_pandas_zoned(times, tz) -> tuple[np.ndarray, TimeKind]:
    """A zoned pandas Series, Index or array: its UTC instants in its own
    unit (NaT stays NaT: the core names it), and its zone."""
    values = times.array if hasattr(times, "array") else times
    unit = getattr(times.dtype, "unit", "ns")
    arr, tk = _unit_kind(np.asarray(values.asi8).view(f"M8[{unit}]"), "datetime64")
    return arr, _with_zone(tk, zone_name(tz))


# the core's sz_arrow_kind and sz_arrow_unit
_ARROW_INTEGER, _ARROW_TIMESTAMP, _ARROW_DATE, _ARROW_DURATION = range(4)
_ARROW_UNITS = {1: "s", 2: "ms", 3: "us", 4: "ns", 5: "D"}


def _from_arrow(src: object, time_unit: "str | None") -> tuple[np.ndarray, TimeKind]:
    """An Arrow integer, timestamp, date or duration column, read in C into
    int64 in its own unit, then typed as numpy types it: a timestamp as
    datetime64 (UTC instants when it has a zone, which the kind keeps for
    the results), a date as datetime64[D] or [ms], a duration as
    timedelta64.  A string column is read as ISO-8601 times."""
    strings = _arrow_strings(src)
    if strings is not None:
        _no_unit_for(time_unit, "ISO-8601 strings")
        return _from_iso(strings)
    values, kind, unit, zone = _core.arrow_ints(src, "times")
    if kind == _ARROW_INTEGER:
        return values, _int_kind(time_unit)
    _no_unit_for(time_unit, "Arrow timestamps")
    dtype = np.dtype(f"{'m' if kind == _ARROW_DURATION else 'M'}8[{_ARROW_UNITS[unit]}]")
    arr, tk = _unit_kind(values.view(dtype), "timedelta64" if kind == _ARROW_DURATION
                         else "datetime64")
    return arr, _with_zone(tk, zone) if zone else tk


def _arrow_strings(src: object):
    """A pyarrow array of `src` when it is an Arrow string column (pyarrow,
    polars), else None."""
    if type(src).__module__.startswith("polars"):
        import polars as pl

        return src.to_arrow() if src.dtype in (pl.String, pl.Categorical) else None
    t = getattr(src, "type", None)
    if t is None:
        return None
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return src
    return None


def _no_unit_for(time_unit: "str | None", what: str) -> None:
    if time_unit is not None:
        raise SessionizeError(
            f"time_unit: {time_unit!r} is for integer epoch times; {what} carry their own")


def normalize(times: object, time_unit: "str | None" = None) -> tuple[np.ndarray, TimeKind]:
    """Returns (int64-compatible array, its TimeKind)."""
    time_unit = check_time_unit(time_unit)
    tz = getattr(getattr(times, "dtype", None), "tz", None)
    if tz is not None and type(times).__module__.startswith("pandas"):
        _no_unit_for(time_unit, "zoned datetimes")
        return _from_pandas_zoned(times, tz)
    src = _arrow.source(times)
    if src is not None:
        return _from_arrow(src, time_unit)
    arr = _as_array(_missing.plain(times, "times"))
    k = arr.dtype.kind
    if k == "i":
        return arr, _int_kind(time_unit)
    if k == "u":
        if arr.dtype.itemsize == 8 and arr.size:
            over = arr > INT64_MAX
            if over.any():
                i = int(np.argmax(over))
                raise SessionizeError(
                    f"times[{i}]: {int(arr[i])} does not fit int64"
                )
            return arr.astype(np.int64), _int_kind(time_unit)
        return arr, _int_kind(time_unit)
    if k in "MmfOU":
        _no_unit_for(time_unit, {"M": "datetime64 times", "m": "timedelta64 times",
                                 "f": "float seconds", "O": "datetimes and strings",
                                 "U": "ISO-8601 strings"}[k])
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
    if k == "U":
        return _from_iso(arr)
    if k == "O":
        return _from_objects(arr)
    raise TypeError(
        f"times: unsupported dtype {arr.dtype}; expected integers, datetime64, "
        "timedelta64, float seconds or ISO-8601 strings"
    )
