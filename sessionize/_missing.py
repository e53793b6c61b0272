"""Inputs that carry their own missing values, checked once at the boundary.

numpy masked arrays and pandas' nullable arrays (``Int64``, ``Float64``,
``boolean``, ``string[python]``, categoricals) hold a mask beside their
data: read as plain arrays, a masked element would become a value of its
own (the data under the mask, or NaN), and so a session of its own.  Here
a masked or NA element is an error naming the argument and its position,
as a NaT or a null already is; without one, the plain data goes on
(a view for numpy, one conversion for pandas), so batch and streaming
read it as any other array.  Shared by _keys, _times, the stream types
and the event kinds.
"""

from __future__ import annotations

import numpy as np

from ._core import SessionizeError


def _first(mask: np.ndarray) -> int:
    return int(np.argmax(mask))


def plain(obj: object, name: str) -> object:
    """`obj` without its mask: the data of a numpy masked array, or a numpy
    array of a pandas nullable array; other objects as they are.  A masked
    or missing element raises SessionizeError ``name[i]: missing value
    (masked)`` or ``(null)`` (the Arrow readers' words for a null), or
    ``missing time (NaT)`` for a pandas datetime extension array."""
    if isinstance(obj, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(obj)
        if mask.ndim == 1 and mask.any():
            raise SessionizeError(f"{name}[{_first(mask)}]: missing value (masked)")
        return np.ma.getdata(obj)
    mod = type(obj).__module__
    if not mod.startswith("pandas"):
        return obj
    dtype = getattr(obj, "dtype", None)
    if dtype is None or isinstance(dtype, np.dtype):
        return obj  # numpy-backed: NaN and NaT are checked as numpy's own
    isna = getattr(obj, "isna", None)
    if isna is None:
        return obj
    na = np.asarray(isna(), dtype=bool)
    if na.ndim == 1 and na.any():
        what = "time (NaT)" if getattr(dtype, "kind", "O") in "mM" else "value (null)"
        raise SessionizeError(f"{name}[{_first(na)}]: missing {what}")
    numpy_dtype = getattr(dtype, "numpy_dtype", None)
    if getattr(dtype, "kind", "O") in "iubf" and numpy_dtype is not None:
        return obj.to_numpy(dtype=numpy_dtype)  # Int64 and friends: plain numbers
    return obj
