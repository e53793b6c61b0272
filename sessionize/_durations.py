"""Durations (gap, max_duration) as exact integers in the times' unit.

Every duration is first made an exact count of attoseconds (a Python int),
then divided by the times' unit; a remainder is an error rather than a
silent rounding, so "500ms" against second-resolution times is refused.
"""

from __future__ import annotations

import datetime
import numbers
import re
from fractions import Fraction

import numpy as np

from ._core import SessionizeError

INT64_MAX = 2**63 - 1

# numpy's fixed-length time units, in attoseconds.  Years and months have no
# fixed length: they only convert among themselves (see _calendar_months).
UNIT_AS = {
    "W": 7 * 86400 * 10**18,
    "D": 86400 * 10**18,
    "h": 3600 * 10**18,
    "m": 60 * 10**18,
    "s": 10**18,
    "ms": 10**15,
    "us": 10**12,
    "ns": 10**9,
    "ps": 10**6,
    "fs": 10**3,
    "as": 1,
}

# Unit words accepted in duration strings, pandas' and Spark's spellings.
_WORDS = {
    "ns": "ns", "nanosecond": "ns", "nanoseconds": "ns",
    "us": "us", "µs": "us", "microsecond": "us", "microseconds": "us",
    "ms": "ms", "millisecond": "ms", "milliseconds": "ms",
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "d": "D", "day": "D", "days": "D",
    "w": "W", "week": "W", "weeks": "W",
}
_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([^\d\s.]+)\s*")


def parse_duration_string(text: str, name: str) -> int:
    """'30min', '2h', '500ms', '1h30min', '30 minutes' -> attoseconds."""
    pos, total, parts = 0, Fraction(0), 0
    while pos < len(text):
        m = _PART.match(text, pos)
        if m is None:
            raise SessionizeError(
                f"{name}: cannot read {text!r} as a duration "
                "(write e.g. '30min', '2h', '500ms', '1h30min')"
            )
        number, word = m.group(1), m.group(2)
        unit = _WORDS.get(word.lower()) if word != "M" else None
        if unit is None:
            raise SessionizeError(
                f"{name}: unknown unit {word!r} in {text!r} "
                "(use ns, us, ms, s, min, h, d or w)"
            )
        total += Fraction(number) * UNIT_AS[unit]
        pos, parts = m.end(), parts + 1
    if parts == 0:
        raise SessionizeError(f"{name}: empty duration string")
    if total.denominator != 1:
        raise SessionizeError(f"{name}: {text!r} is finer than an attosecond")
    return int(total)


def _check_range(value: int, original: object, name: str, unit: str | None) -> int:
    if value <= 0:
        raise SessionizeError(f"{name}: must be > 0, got {original!r}")
    if value > INT64_MAX:
        where = f" in the times' unit [{unit}]" if unit else ""
        raise SessionizeError(f"{name}: {original!r} does not fit int64{where}")
    return value


def _exact(attos: int, unit_as: int, original: object, name: str, unit: str) -> int:
    q, r = divmod(attos, unit_as)
    if r:
        raise SessionizeError(
            f"{name}: {original!r} is not a whole number of the times' unit [{unit}]"
        )
    return _check_range(q, original, name, unit)


def _timedelta64_parts(value: np.timedelta64, name: str) -> tuple[str, int]:
    if np.isnat(value):
        raise SessionizeError(f"{name}: missing duration (NaT)")
    unit, count = np.datetime_data(value.dtype)
    if unit == "generic":
        raise SessionizeError(
            f"{name}: a numpy.timedelta64 without a unit is ambiguous; "
            "give one, e.g. numpy.timedelta64(30, 'm')"
        )
    return unit, int(value.astype(np.int64)) * count


def to_unit(value: object, unit: str, count: int, name: str) -> int:
    """A duration for datetime64/timedelta64 times of unit `count` x `unit`."""
    label = f"{count}{unit}" if count != 1 else unit
    if unit in ("Y", "M"):
        return _calendar_months(value, unit, count, name, label)
    unit_as = UNIT_AS[unit] * count
    if isinstance(value, str):
        return _exact(parse_duration_string(value, name), unit_as, value, name, label)
    if isinstance(value, datetime.timedelta):
        micros = (value.days * 86400 + value.seconds) * 10**6 + value.microseconds
        return _exact(micros * 10**12, unit_as, value, name, label)
    if isinstance(value, np.timedelta64):
        vunit, n = _timedelta64_parts(value, name)
        if vunit in ("Y", "M"):
            raise SessionizeError(
                f"{name}: {value!r} has no fixed length in the times' unit [{label}]"
            )
        return _exact(n * UNIT_AS[vunit], unit_as, value, name, label)
    raise TypeError(
        f"{name}: datetime64 times take a duration as datetime.timedelta, "
        f"numpy.timedelta64 or a string like '30min', not {type(value).__name__}"
    )


def _calendar_months(value: object, unit: str, count: int, name: str, label: str) -> int:
    months = {"Y": 12, "M": 1}
    if isinstance(value, np.timedelta64):
        vunit, n = _timedelta64_parts(value, name)
        if vunit in months:
            q, r = divmod(n * months[vunit], months[unit] * count)
            if not r:
                return _check_range(q, value, name, label)
    raise SessionizeError(
        f"{name}: {value!r} cannot be expressed in the times' calendar unit "
        f"[{label}]; give a numpy.timedelta64 in months or years"
    )


def to_micros_from_seconds(value: object, name: str) -> int:
    """A duration for float-second times, held as integer microseconds.

    Numbers are seconds converted as Beam's Duration.of(): int(x * 1000000).
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a duration, got a bool")
    # numpy.timedelta64 is a numbers.Integral: it has a unit, so not seconds
    if isinstance(value, numbers.Real) and not isinstance(value, np.timedelta64):
        micros = float(value) * 1000000
        if micros != micros or micros in (float("inf"), float("-inf")):
            raise SessionizeError(f"{name}: must be a finite number of seconds, got {value!r}")
        if 0 < micros < 1:
            raise SessionizeError(
                f"{name}: {value!r} s is less than one microsecond (float-second "
                "times are held in whole microseconds, as Beam holds them)"
            )
        return _check_range(int(micros), value, name, "us")
    return to_unit(value, "us", 1, name)


def to_integer_unit(value: object, name: str) -> int:
    """A duration for integer times: an integer in the times' own unit."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected an integer duration, got a bool")
    if isinstance(value, numbers.Integral) and not isinstance(value, np.timedelta64):
        return _check_range(int(value), value, name, None)
    if isinstance(value, (str, datetime.timedelta, np.timedelta64)):
        raise SessionizeError(
            f"{name}: {value!r} has a unit but integer times do not; give "
            f"{name} as an integer in the times' unit, or say the times' unit "
            "with time_unit='s', 'ms', 'us' or 'ns'"
        )
    raise TypeError(
        f"{name}: integer times take an integer duration, not {type(value).__name__}"
    )


def to_epoch_unit(value: object, unit: str, name: str) -> int:
    """A duration for integer times in a unit the caller named (time_unit):
    an integer in that unit, or a timedelta, timedelta64 or '30min' made
    exactly that many units."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_,
                                                                      np.timedelta64)):
        return to_integer_unit(value, name)
    return to_unit(value, unit, 1, name)
