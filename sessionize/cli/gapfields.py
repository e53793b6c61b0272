"""Gap fields (--gap-field): each event's own inactivity gap, as int64
nanoseconds, no longer than --gap:

    duration strings   '10min', '90s', '1h30min', Spark's '10 minutes' (the
                       package's duration strings, as --gap takes them)
    numbers            in --time-unit (default ms), as numeric times are;
    numeric strings    so 1.5 with --time-unit s is 1.5 s
    Arrow durations    (a Parquet duration column) as they are

A missing, empty, zero, negative or unreadable gap, one finer than a
nanosecond, or one longer than --gap is a bad record of its line, the
message naming the field.  The native path (`native`) converts whole
columns; a column with any such value returns None, and the exact path
(`parse`) names each one.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .._core import SessionizeError
from .._durations import parse_duration_string
from .timefields import _NUMBER, NS_PER

_AS_PER_NS = 10**9  # attoseconds (the duration parser's unit) in a nanosecond
_INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class GapRule:
    """What --gap-field asks: the field's name, the longest gap (--gap, ns)
    and how --gap was written (for the messages)."""

    field: str
    bound_ns: int
    bound_text: str


def parse_one(v, factor: int, rule: GapRule) -> int:
    """One gap as int64 ns, or ValueError saying why not (without the field)."""
    if v is None:
        raise ValueError("missing gap")
    if isinstance(v, bool):
        raise ValueError(f"gap {v!r} is a boolean, not a duration")
    if isinstance(v, (int, np.integer)):
        ns = Fraction(int(v)) * factor
    elif isinstance(v, (float, np.floating)):
        if v != v or v in (float("inf"), float("-inf")):
            raise ValueError(f"gap {v!r} is not a duration")
        ns = Fraction(repr(float(v))) * factor  # the digits the file had
    elif isinstance(v, datetime.timedelta):
        ns = Fraction((v.days * 86400 + v.seconds) * 10**6 + v.microseconds) * 1000
    elif isinstance(v, str):
        s = v.strip()
        if not s:
            raise ValueError("missing gap (empty)")
        if _NUMBER.match(s):
            ns = Fraction(s) * factor
        else:
            sign = -1 if s.startswith("-") else 1  # '-5min' is negative, not unreadable
            try:
                ns = sign * Fraction(parse_duration_string(s.lstrip("+-"), "gap"), _AS_PER_NS)
            except SessionizeError:
                raise ValueError(f"gap {v!r} is not a duration (write e.g. 10min, 90s, "
                                 "'10 minutes', or a number in --time-unit)") from None
    else:
        raise ValueError(f"gap of type {type(v).__name__} ({v!r:.40}): expected a duration "
                         "string or a number")
    if ns.denominator != 1:
        raise ValueError(f"gap {v!r} is finer than a nanosecond")
    n = int(ns)
    if n <= 0:
        raise ValueError(f"gap {v!r} must be > 0")
    if n > rule.bound_ns:
        raise ValueError(f"gap {v!r} is longer than --gap {rule.bound_text}, the longest "
                         "a gap may be")
    return n


def parse(raw: list, unit: str, rule: GapRule) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """(int64 ns per value, [(position, reason) of bad gaps]); a bad gap's
    slot holds 0.  Each reason names the field."""
    factor = NS_PER[unit]
    out = np.zeros(len(raw), dtype=np.int64)
    bad = []
    cache: dict = {}
    for i, v in enumerate(raw):
        try:
            # distinct values are few (a gap per kind of event): each read once
            key = (v.__class__, v)
            n = cache.get(key)
            if n is None:
                n = cache[key] = parse_one(v, factor, rule)
            out[i] = n
        except TypeError:  # an unhashable value (a list, an object)
            try:
                out[i] = parse_one(v, factor, rule)
            except ValueError as e:
                bad.append((i, f"{rule.field}: {e}"))
        except ValueError as e:
            bad.append((i, f"{rule.field}: {e}"))
    return out, bad


def native(arr, unit: str, rule: GapRule) -> np.ndarray | None:
    """Int64 ns of a whole Arrow column of gaps, when every one is good;
    None otherwise (the exact path then names the bad ones).  Integers and
    durations column-wise; strings and floats each distinct value once."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if hasattr(arr, "combine_chunks"):
        arr = arr.combine_chunks()
    if arr.null_count:
        return None
    t = arr.type
    factor = NS_PER[unit]
    try:
        if pa.types.is_duration(t):
            ints = arr.cast(pa.duration("ns")).cast(pa.int64()).to_numpy()
            factor = 1
        elif pa.types.is_integer(t) and not pa.types.is_uint64(t):
            ints = arr.cast(pa.int64()).to_numpy()
        elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_floating(t):
            ints = _distinct(pa, pc, arr, factor, rule)
            if ints is None:
                return None
            factor = 1
        else:
            return None  # booleans, timestamps, ...: the exact path says why
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if factor != 1:
        if len(ints) and max(-int(ints.min()), int(ints.max())) > _INT64_MAX // factor:
            return None
        ints = ints * factor
    if len(ints) and (int(ints.min()) <= 0 or int(ints.max()) > rule.bound_ns):
        return None
    return ints


def _distinct(pa, pc, arr, factor: int, rule: GapRule) -> np.ndarray | None:
    """Strings or floats, each distinct value read once and gathered by
    index: a dictionary of integer strings cast in C, any other read by
    parse_one (a failed cast of the whole column, by contrast, cost a
    tenth of a block's parse)."""
    enc = pc.dictionary_encode(arr)
    distinct = enc.dictionary
    values = None
    if not pa.types.is_floating(distinct.type):
        try:
            ints = pc.cast(distinct, pa.int64()).to_numpy()
            if len(ints) and max(-int(ints.min()), int(ints.max())) > _INT64_MAX // factor:
                return None
            values = ints * factor
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    if values is None:
        values = np.empty(len(distinct), dtype=np.int64)
        for j, v in enumerate(distinct.to_pylist()):
            try:
                values[j] = parse_one(v, factor, rule)
            except ValueError:
                return None
    return values[enc.indices.to_numpy(zero_copy_only=False)]
