"""Keys of any supported type, in the form the core takes, and back.

    numpy integer / bool arrays   int64 values, hashed in C
    numpy 'S' and 'U' arrays      fixed-width bytes, hashed in C
    object arrays, lists, tuples  factorized in one C pass through a dict
                                  (the binding's factorize), then dense codes

Session keys come back as the caller's own values: a numpy array of the
same dtype, or an object array holding the caller's objects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _arrow, _core, _missing
from ._core import SessionizeError

KEYS_INT64, KEYS_BYTES, KEYS_DENSE = 0, 1, 2


@dataclass
class Keys:
    data: np.ndarray        # what the core reads
    kind: int               # KEYS_INT64, KEYS_BYTES or KEYS_DENSE
    n_codes: int            # KEYS_DENSE: number of codes
    _values: np.ndarray     # gathers session keys: _values[_index[i]]
    _index: np.ndarray | None

    def __len__(self) -> int:
        return len(self.data)

    def take(self, positions: np.ndarray) -> np.ndarray:
        """The caller's key of each event position in `positions`."""
        if self._index is None:
            return self._values[positions]
        return self._values[self._index[positions]]


class ArrowKeys(Keys):
    """Keys read from Arrow data: codes by first appearance, and the row of
    each code's first occurrence, to gather the session keys from."""

    def __init__(self, src: object, codes: np.ndarray, first: np.ndarray):
        super().__init__(codes, KEYS_DENSE, len(first), src, codes)
        self._first = first

    def take(self, positions: np.ndarray):
        return _arrow.take(self._values, self._first[self._index[positions]])


def check_count(obj: object, name: str) -> None:
    """Refuses an input longer than one call takes (the core's 2**31 - 1
    events), from its len() alone: before any conversion, copy or output
    is made, so a huge input fails at once rather than after gigabytes
    were allocated.  Inputs without a len() are counted where read."""
    try:
        n = len(obj)
    except TypeError:
        return
    if n > _core.MAX_EVENTS:
        raise SessionizeError(
            f"{name}: more than {_core.MAX_EVENTS} events in one call ({n}); "
            "split the input by key"
        )


def _object_array(values: list) -> np.ndarray:
    # fromiter keeps tuples whole, where np.array would broadcast them.
    return np.fromiter(values, dtype=object, count=len(values))


def _factorized(seq: object) -> Keys:
    codes, uniques = _core.factorize(seq)
    return Keys(codes, KEYS_DENSE, len(uniques), _object_array(uniques), codes)


def normalize(keys: object) -> Keys:
    src = _arrow.source(keys)
    if src is not None:
        codes, first = _core.arrow_keys(src, "keys")
        return ArrowKeys(src, codes, first)
    keys = _missing.plain(keys, "keys")
    if not isinstance(keys, np.ndarray):
        if isinstance(keys, (list, tuple)):
            return _factorized(keys)
        keys = np.asarray(keys)  # pandas Series, array-likes
        if keys.ndim == 0:
            raise TypeError(
                f"keys: expected an array, list or tuple of keys, got "
                f"{type(keys.item()).__name__}"
            )
    if keys.ndim != 1:
        raise _core.SessionizeError(
            f"keys: expected a 1-D array, got {keys.ndim} dimensions"
        )
    k = keys.dtype.kind
    if len(keys) == 0 and k not in "iubSU":
        # nothing to compare: np.asarray([]) is float64, and an empty column
        # of any dtype gives empty results (keys of that dtype), not an error
        return Keys(np.zeros(0, dtype=np.int64), KEYS_DENSE, 0, keys, None)
    if k in "iub":
        if k == "u" and keys.dtype.itemsize == 8:
            # Same bits, same equality: the core only compares keys.
            data = keys.view(np.dtype(np.int64).newbyteorder(keys.dtype.byteorder
                                                             if keys.dtype.byteorder in "<>"
                                                             else "="))
        else:
            data = keys.astype(np.int64, copy=False)
        return Keys(data, KEYS_INT64, 0, keys, None)
    if k in "SU":
        if keys.dtype.itemsize == 0:  # every key is the empty string
            codes = np.zeros(len(keys), dtype=np.int64)
            return Keys(codes, KEYS_DENSE, 1 if len(keys) else 0, keys, None)
        return Keys(keys, KEYS_BYTES, 0, keys, None)
    if k == "O":
        return _factorized(keys)
    raise TypeError(
        f"keys: unsupported dtype {keys.dtype}; expected integers, strings, "
        "bytes or hashable objects"
    )
