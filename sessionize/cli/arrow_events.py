"""A block of input read natively (Arrow columns), made ready to push with
no Python object per event: keys stay an Arrow column (push_many
factorizes it in C), times and gaps (--gap-field) become int64 nanoseconds
in numpy, collected values an object array gathered from the block's
distinct values.

Only a block in which every record is good takes this path.  A null, an
empty key, a key that is not a string or an integer, a time that is not an
integer (ISO-8601, fractional, out of range), a gap that is not good
(gapfields): each sends the whole block to the exact Python reader
(`NativeBlock.exact`), which says which line and why, so the bad-record
contract is the old path's to the letter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from .timefields import NS_PER

_INT64_MAX = 2**63 - 1


@dataclass
class NativeBlock:
    """What a native reader yields, read but not yet parsed, so that blocks
    can be parsed on worker threads (Arrow's parsers release the GIL):
    `parse()` gives (lines, columns), `lines` the int64 line or row number
    of each record and `columns` role -> Arrow array, or None when Arrow
    cannot read the block; `exact()` re-reads the block alone with the
    Python reader, as chunks (records.Chunk) with the file's numbers."""

    parse: Callable[[], tuple | None]
    exact: Callable[[], Iterator]


@dataclass
class NativeEvents:
    lines: np.ndarray       # int64 line (row) numbers
    keys: object            # Arrow array of strings or integers, no null, no ""
    times: np.ndarray       # int64 ns since the epoch
    values: np.ndarray | None  # object array (--collect), else None
    gaps: np.ndarray | None = None  # int64 ns (--gap-field), else None

    def __len__(self) -> int:
        return len(self.lines)


def events(block: NativeBlock, unit: str, gap=None) -> NativeEvents | None:
    """The block's events, or None when a record in it needs the exact reader.
    gap: the --gap-field rule (gapfields.GapRule), when the block has gaps."""
    parsed = block.parse()
    if parsed is None:
        return None
    import pyarrow as pa

    lines, cols = parsed
    keys = _whole(cols["key"])
    if keys is None or not _good_keys(pa, keys):
        return None
    times = times_ns(cols["time"], unit)
    if times is None:
        return None
    gaps = None
    if gap is not None:
        from .gapfields import native

        gaps = native(cols["gap"], unit, gap)
        if gaps is None:
            return None
    values = cols.get("value")
    return NativeEvents(lines, keys, times,
                        None if values is None else value_objects(_whole(values, nulls=True)),
                        gaps)


def _whole(arr, nulls: bool = False):
    """One contiguous Arrow array (chunks combined), or None with a null."""
    if hasattr(arr, "combine_chunks"):
        arr = arr.combine_chunks()
    return arr if nulls or arr.null_count == 0 else None


def _good_keys(pa, keys) -> bool:
    t = keys.type
    if pa.types.is_integer(t):
        return True
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        import pyarrow.compute as pc

        return len(keys) == 0 or pc.min(pc.binary_length(keys)).as_py() > 0
    return False  # floats, booleans, lists...: the exact reader names them


def times_ns(arr, unit: str) -> np.ndarray | None:
    """Int64 ns since the epoch of a time column, when every value is an
    integer (or an integer string) in `unit` or an Arrow timestamp; None
    otherwise (the exact path then parses each value and names the bad)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = _whole(arr)
    if arr is None:
        return None
    t = arr.type
    try:
        if pa.types.is_timestamp(t):
            # UTC instants at ns; a safe cast refuses what ns cannot hold
            return arr.cast(pa.timestamp("ns", t.tz)).cast(pa.int64()).to_numpy()
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            arr = pc.cast(arr, pa.int64())  # the Spark Structured Streaming pipeline's epoch ms as strings
        elif not pa.types.is_integer(t) or pa.types.is_uint64(t):
            return None
        ints = arr.cast(pa.int64()).to_numpy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    factor = NS_PER[unit]
    if len(ints) and max(-int(ints.min()), int(ints.max())) > _INT64_MAX // factor:
        return None  # out of range: the exact path says which
    return ints * factor if factor != 1 else ints


def value_objects(arr) -> np.ndarray:
    """The collected field as an object array: each distinct value of the
    block made a Python object once and gathered per event by index."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(arr)
    out = np.empty(n, dtype=object)
    try:
        enc = pc.dictionary_encode(arr, null_encoding="encode")
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):  # nested values
        out[:] = arr.to_pylist()
        return out
    distinct = np.empty(len(enc.dictionary), dtype=object)
    distinct[:] = enc.dictionary.to_pylist()
    out[:] = distinct[enc.indices.to_numpy(zero_copy_only=False)]
    return out
