"""ISO-8601 time strings as int64 nanoseconds since the epoch.

    '2026-10-01T16:00:00'   '2026-10-01 16:00:00.123'   '2026-10-01'
    '2026-10-01T16:00:00Z'  '2026-10-01T16:00:00+02:00'

A string with an offset is an instant (held as UTC); one without is a
wall-clock time, held as it reads (naive), as pandas' ``to_datetime`` and
polars' ``str.to_datetime`` read them.  One column is all one or the other:
mixing them has no single answer, so it is an error naming the first string
that differs.  Nanoseconds hold every ISO time exactly from 1677 to 2262; a
digit past the nanosecond is refused rather than dropped.

A whole column parses in C (Arrow's ISO-8601 cast when pyarrow is installed,
numpy's parser otherwise); only when that refuses the column are the strings
read one by one, to name the first bad one.  Shared by the array API,
frames, the streaming types and the command line.
"""

from __future__ import annotations

import re

import numpy as np

from ._core import SessionizeError

_OFFSET = re.compile(r"(Z|z|[+-]\d\d(?::?\d\d)?)$")
_OFFSET_GROUP = r"(?P<o>Z|z|[+-]\d\d(?::?\d\d)?)$"  # the same, for Arrow's extract_regex
_FRACTION = re.compile(r"[T ]\d\d:\d\d:\d\d[.,](\d+)")
_INT64_MIN = np.iinfo(np.int64).min


def one_ns(s: str) -> tuple[int, str | None]:
    """(epoch ns, offset text or None) of one ISO string, or ValueError
    saying why it is not one."""
    s = s.strip()
    m = _FRACTION.search(s)
    if m is not None and m.group(1)[9:].strip("0"):
        raise ValueError(f"time {s!r} is finer than a nanosecond")
    offset_ns, offset = 0, None
    m = _OFFSET.search(s) if len(s) > 10 else None
    if m is not None:
        offset = m.group(1)
        s = s[: m.start()]
        if offset not in ("Z", "z"):
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
            offset_ns = sign * (hours * 60 + minutes) * 60 * 10**9
    try:
        t = np.datetime64(s.replace(" ", "T", 1), "ns")
    except (ValueError, OverflowError):
        raise ValueError(f"time {s!r} is not an ISO-8601 time "
                         "(e.g. 2026-10-01T16:00:00Z)") from None
    if np.isnat(t):
        raise ValueError(f"time {s!r} is not a time (NaT)")
    return int(t.astype(np.int64)) - offset_ns, offset


def zone_of(offset: str) -> str:
    """The zone name results carry for strings with this offset: 'UTC' for
    Z and +00:00, else the offset as '+02:00' (a fixed-offset zone, as
    Arrow and pandas name one)."""
    if offset in ("Z", "z"):
        return "UTC"
    digits = offset[1:].replace(":", "")
    hh, mm = digits[:2], digits[2:4] or "00"
    if hh == "00" and mm == "00":
        return "UTC"
    return f"{offset[0]}{hh}:{mm}"


def is_text(arr: np.ndarray) -> bool:
    """Whether an object array holds strings (its first non-None value)."""
    for v in arr:
        if v is not None:
            return isinstance(v, str)
    return False


def column_ns(values: object, name: str) -> tuple[np.ndarray, str | None]:
    """(int64 epoch ns, zone) of a column of ISO strings: a numpy str or
    object array, a list, or an Arrow string array.  zone is None for
    naive strings, else what zone_of gives for their common offset
    ('UTC' when the offsets differ).  A missing or bad string is a
    SessionizeError naming ``name[i]``."""
    strs = _as_strings(values, name)
    fast = _fast(strs)
    if fast is not None:
        return fast
    return _one_by_one(strs, name)


def _as_strings(values: object, name: str):
    """An Arrow string array or a numpy object/str array of the values."""
    if hasattr(values, "type") and hasattr(values, "cast"):  # pyarrow
        import pyarrow as pa

        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        return values
    arr = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    return arr


def _fast(strs) -> tuple[np.ndarray, str | None] | None:
    """The column parsed in C, or None when that is refused (a bad or
    missing string, or a mix the vectorized parsers do not take)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return _fast_numpy(strs)
    try:
        arr = strs if isinstance(strs, pa.Array) else pa.array(strs, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if arr.null_count or not len(arr):
        return None if arr.null_count else (np.empty(0, np.int64), None)
    first = arr[0].as_py()
    m = _OFFSET.search(first) if len(first) > 10 else None
    if m is not None and not _finer_than_ns(first):
        # instants: shown in their offset's zone when they share one
        # ('+01:00' and '+0100' are one), else in UTC
        try:
            ts = pc.cast(arr, pa.timestamp("ns", "UTC"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        # (the cast took them all: no whitespace around any of them)
        if pc.all(pc.ends_with(arr, m.group(1))).as_py():  # the usual case, fast
            zones = {zone_of(m.group(1))}
        else:
            offsets = pc.extract_regex(arr, _OFFSET_GROUP)
            zones = {zone_of(o) for o in pc.unique(offsets.field("o")).to_pylist()}
        out = ts.cast(pa.int64()).to_numpy()
        return out, zones.pop() if len(zones) == 1 else "UTC"
    try:
        # whitespace around a string fails the cast: the slow path strips it
        ts = pc.cast(arr, pa.timestamp("ns"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if _finer_than_ns(first):
        return None
    return ts.cast(pa.int64()).to_numpy(), None


def _finer_than_ns(s: str) -> bool:
    m = _FRACTION.search(s)
    return m is not None and bool(m.group(1)[9:].strip("0"))


def _fast_numpy(strs) -> tuple[np.ndarray, str | None] | None:
    """numpy's parser, for naive strings only (it would warn on offsets)."""
    try:
        arr = np.asarray(strs, dtype="U")
        if arr.size and (np.char.endswith(arr, "Z").any()
                         or any(_OFFSET.search(s) for s in arr[:1] if len(s) > 10)):
            return None
        out = np.char.replace(arr, " ", "T", count=1).astype("M8[ns]").view(np.int64)
    except (ValueError, TypeError, OverflowError):
        return None
    if (out == _INT64_MIN).any():
        return None  # a 'NaT' string: named one by one
    return out, None


def _one_by_one(strs, name: str) -> tuple[np.ndarray, str | None]:
    """Each string parsed on its own: the first bad, missing or
    differently-zoned one is named."""
    values = strs.to_pylist() if hasattr(strs, "to_pylist") else list(strs)
    out = np.empty(len(values), dtype=np.int64)
    offsets: set[str | None] = set()
    first_naive = first_aware = None
    for i, v in enumerate(values):
        if v is None:
            raise SessionizeError(f"{name}[{i}]: missing time (None)")
        if not isinstance(v, str):
            raise TypeError(f"{name}[{i}]: expected an ISO-8601 string like the others, "
                            f"got {type(v).__name__}")
        try:
            out[i], offset = one_ns(v)
        except ValueError as e:
            raise SessionizeError(f"{name}[{i}]: {e}") from None
        if offset is None:
            first_naive = i if first_naive is None else first_naive
        else:
            first_aware = i if first_aware is None else first_aware
            offsets.add(zone_of(offset))
        if first_naive is not None and first_aware is not None:
            j = max(first_naive, first_aware)
            raise SessionizeError(
                f"{name}[{j}]: {str(values[j])!r} {'has no' if j == first_naive else 'has a'} "
                f"UTC offset, unlike {name}[{min(first_naive, first_aware)}]; "
                "a column is all instants (with offsets) or all wall-clock times")
    if first_aware is None:
        return out, None
    return out, offsets.pop() if len(offsets) == 1 else "UTC"
