"""Empty input of any dtype gives empty output, not an error: np.asarray([])
is float64, an empty column keeps whatever dtype its frame gave it."""

from __future__ import annotations

import numpy as np
import pytest

import sessionize

KEY_DTYPES = ["float64", "float32", "datetime64[s]", "timedelta64[ms]", "complex128",
              "object", "U3", "S2", "int8", "uint64", "bool"]
TIMES = {"int64": (np.array([], dtype=np.int64), 5),
         "float64": (np.asarray([]), 5.0),
         "datetime64[ms]": (np.array([], dtype="M8[ms]"), "5s")}


@pytest.mark.parametrize("key_dtype", KEY_DTYPES)
@pytest.mark.parametrize("times", list(TIMES))
def test_empty_batch(key_dtype, times):
    keys = np.array([], dtype=key_dtype)
    t, gap = TIMES[times]
    ids = sessionize.assign(keys, t, gap=gap)
    assert ids.dtype == np.int64 and ids.shape == (0,)
    table = sessionize.sessions(keys, t, gap=gap, max_duration=gap)
    assert len(table) == 0
    assert table.key.dtype == keys.dtype
    assert table.start.dtype == (t.dtype if times != "float64" else np.float64)


@pytest.mark.parametrize("key_dtype", KEY_DTYPES)
def test_empty_push_many(key_dtype):
    z = sessionize.Sessionizer(gap=5)
    assert list(z.push_many(np.array([], dtype=key_dtype), np.array([], dtype=np.int64))) == []
    assert list(z.flush()) == []


def test_a_nonempty_float_key_array_is_still_refused():
    with pytest.raises(TypeError, match=r"keys: unsupported dtype float64"):
        sessionize.assign(np.array([1.5]), np.array([0]), gap=1)
