"""Arrow data in: which inputs are read through the Arrow C Data Interface,
and the session keys gathered back from them.

Anything with ``__arrow_c_array__`` or ``__arrow_c_stream__`` (pyarrow
arrays and chunked arrays, polars Series, nanoarrow arrays) is read by the
core in C, chunk by chunk, with no Python object per event; so is a pandas
Series or Index backed by Arrow (``string[pyarrow]``, pandas 3's default
``str``, ``ArrowDtype``).  A numpy-backed pandas Series takes the numpy
path, which needs no conversion.  pyarrow is not needed to read.
"""

from __future__ import annotations

import numpy as np


def _pandas_arrow(obj: object):
    """The pyarrow ChunkedArray behind a pandas Series/Index/array backed by
    Arrow (no copy), None for any other pandas object, or NotImplemented
    when obj is not from pandas."""
    if not type(obj).__module__.startswith("pandas"):
        return NotImplemented
    arr = getattr(obj, "array", obj)
    if "Arrow" in type(arr).__name__ and hasattr(arr, "__arrow_array__"):
        return arr.__arrow_array__()
    return None


def source(obj: object):
    """What the core reads as Arrow data for `obj`, or None (numpy path)."""
    if isinstance(obj, (np.ndarray, list, tuple)):
        return None
    pd_arrow = _pandas_arrow(obj)
    if pd_arrow is not NotImplemented:
        return pd_arrow
    if hasattr(obj, "__arrow_c_array__") or hasattr(obj, "__arrow_c_stream__"):
        return obj
    return None


def take(src: object, positions: np.ndarray):
    """The values of `src` at `positions`, in the caller's own Arrow type:
    a polars Series for polars, else a pyarrow Array (pyarrow needed)."""
    if type(src).__module__.startswith("polars"):
        return src.gather(positions)
    try:
        import pyarrow as pa
    except ImportError as e:
        raise ImportError(
            f"the session keys of Arrow input ({type(src).__name__}) are gathered with "
            "pyarrow: pip install pyarrow (assign() needs nothing more)") from e
    if not isinstance(src, (pa.Array, pa.ChunkedArray)):
        src = pa.chunked_array(src)
    idx = pa.array(positions, type=pa.int64())
    try:
        out = src.take(idx)
    except pa.ArrowNotImplementedError:
        # pyarrow has no take for the view types: through the large ones,
        # back to the caller's type
        t = src.type
        wide = pa.large_string() if pa.types.is_string_view(t) else pa.large_binary()
        out = src.cast(wide).take(idx).cast(t)
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def to_list(values) -> list:
    """A column as a list of Python values (numpy, pyarrow or polars)."""
    if hasattr(values, "to_pylist"):
        return values.to_pylist()
    if hasattr(values, "to_list"):
        return values.to_list()
    return values.tolist()
