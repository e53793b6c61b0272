"""Time fields as the command line reads them, into int64 nanoseconds since
the epoch (UTC):

    numbers            epoch time in --time-unit (s, ms, us, ns; default ms)
    numeric strings    the same: the Spark Structured Streaming pipeline sends epoch ms as strings
    ISO-8601 strings   '2026-10-01T16:00:00Z', '...+02:00', '2026-10-01 16:00:00.123',
                       '2026-10-01'; without an offset a time is UTC

Nanoseconds hold every unit exactly (epoch ns fit int64 from 1677 to 2262),
so a time is never rounded: a value finer than a nanosecond, or outside that
range, is a bad record.  Whole chunks of integers or integer strings take a
numpy fast path; anything else goes value by value.
"""

from __future__ import annotations

import datetime
import re
from fractions import Fraction

import numpy as np

from .._iso import one_ns as iso_ns

NS_PER = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_INT64_MAX = 2**63 - 1
_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")


def parse(raw: list, unit: str) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """(int64 ns per value, [(position, reason) of values that are not times]).
    A bad value's slot in the array holds 0."""
    factor = NS_PER[unit]
    fast = _integers(raw)
    if fast is not None:
        limit = _INT64_MAX // factor
        if not len(fast) or int(np.abs(fast).max()) <= limit:
            return fast * factor, []
    out = np.zeros(len(raw), dtype=np.int64)
    bad = []
    for i, v in enumerate(raw):
        try:
            out[i] = parse_one(v, factor)
        except ValueError as e:
            bad.append((i, str(e)))
    return out, bad


def _integers(raw: list) -> np.ndarray | None:
    """The values as int64 when every one is an int or an integer string."""
    try:
        arr = np.array(raw)
        if arr.dtype.kind in "iu":
            # numpy reads True as 1; a boolean is not a time (the slow path says so)
            if any(v.__class__ is bool for v in raw):
                return None
            return arr.astype(np.int64)
        if arr.dtype.kind == "U":
            return arr.astype(np.int64)
    except (ValueError, OverflowError, TypeError):
        pass
    return None


def parse_one(v, factor: int) -> int:
    """One time as int64 ns, or ValueError saying why not."""
    if v is None:
        raise ValueError("missing time")
    if isinstance(v, bool):
        raise ValueError(f"time {v!r} is a boolean, not a time")
    if isinstance(v, (int, np.integer)):
        return _checked(Fraction(int(v)) * factor, v)
    if isinstance(v, (float, np.floating)):
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError(f"time {v!r} is not a time")
        # the shortest decimal that is this float: the digits the file had
        # (1790000000.123 is .123 s, not the binary fraction nearest it)
        return _checked(Fraction(repr(float(v))) * factor, v)
    if isinstance(v, (datetime.datetime, np.datetime64)):
        return _iso(str(np.datetime64(v, "ns")) if isinstance(v, np.datetime64) else v.isoformat())
    if not isinstance(v, str):
        raise ValueError(f"time of type {type(v).__name__} ({v!r:.40}): expected a number or a string")
    s = v.strip()
    if not s:
        raise ValueError("missing time (empty)")
    if _NUMBER.match(s):
        return _checked(Fraction(s) * factor, v)
    return _iso(s)


def _checked(ns: Fraction, original) -> int:
    if ns.denominator != 1:
        raise ValueError(f"time {original!r} is finer than a nanosecond")
    n = int(ns)
    if not -_INT64_MAX <= n <= _INT64_MAX:
        raise ValueError(f"time {original!r} is out of range (epoch ns must fit int64: 1677-2262)")
    return n


def _iso(s: str) -> int:
    try:
        return iso_ns(s)[0]
    except ValueError as e:
        # a string that is not a number either (numbers were tried first)
        raise ValueError(str(e).replace("is not an ISO-8601", "is neither a number nor an "
                                        "ISO-8601")) from None
