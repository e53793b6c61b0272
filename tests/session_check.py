"""Shared checks for the tests: run sessionize, run the reference, compare.

``check(keys, times, ref_keys, ref_times, time_kind, **kwargs)`` calls both
``sessionize.assign`` and ``sessionize.sessions`` with ``keys``, ``times`` and
``kwargs`` (the public keyword arguments, in the caller's units), runs
``reference_sessions`` over ``ref_keys`` / ``ref_times`` (plain Python values,
times as ints) with ``ref_gap`` / ``ref_max`` (ints in the same unit), and
asserts that every output agrees.  ``time_kind`` says how output time columns
map back to ints: "int", "float" (seconds; ints are microseconds), or a
numpy datetime64 dtype.
"""
import numpy as np

import sessionize
from reference import reference_sessions

COLUMNS = ("key", "start", "end", "count", "index", "window_end")
TIME_COLUMNS = ("start", "end", "window_end")


def time_column_to_ints(col, time_kind):
    """The time column as a list of ints in the reference's unit, after
    asserting its dtype is the one the contract promises."""
    if time_kind == "int":
        assert col.dtype == np.int64, col.dtype
        return [int(v) for v in col.tolist()]
    if time_kind == "float":
        assert col.dtype == np.float64, col.dtype
        return col.tolist()  # compared with micros / 1e6 by the caller
    dtype = np.dtype(time_kind)
    assert col.dtype == dtype, (col.dtype, dtype)
    return col.view(np.int64).tolist()


def expected_times(values, time_kind):
    if time_kind == "float":
        return [m / 1e6 for m in values]
    return list(values)


def check_keys(col, keys, expected):
    """The key column: same dtype for numpy non-object input, else an object
    array holding the caller's own objects."""
    if isinstance(keys, np.ndarray) and keys.dtype != object:
        assert col.dtype == keys.dtype, (col.dtype, keys.dtype)
        assert col.tolist() == expected
        return
    assert col.dtype == object, col.dtype
    got = col.tolist()
    assert got == expected
    mine = {id(k) for k in keys}
    for g, e in zip(got, expected):
        assert type(g) is type(e), (g, e)
        assert id(g) in mine, f"key {g!r} is not one of the caller's objects"


def check(keys, times, ref_keys, ref_times, time_kind, *, ref_gap,
          ref_max=None, **kwargs):
    kwargs.setdefault("gap", ref_gap)
    mode = kwargs.get("max_duration_mode", "restart")
    inclusive = kwargs.get("inclusive", True)
    ids_ref, sess_ref = reference_sessions(
        ref_keys, ref_times, ref_gap,
        max_duration=ref_max, mode=mode, inclusive=inclusive)

    ids = sessionize.assign(keys, times, **kwargs)
    assert isinstance(ids, np.ndarray)
    assert ids.dtype == np.int64 and ids.ndim == 1, (ids.dtype, ids.shape)
    assert ids.tolist() == ids_ref

    table = sessionize.sessions(keys, times, **kwargs)
    assert len(table) == len(sess_ref)
    assert isinstance(table.columns, tuple)
    assert set(COLUMNS) <= set(table.columns), table.columns
    for name in COLUMNS:
        col = getattr(table, name)
        assert isinstance(col, np.ndarray), (name, type(col))
        assert col.ndim == 1 and len(col) == len(sess_ref), (name, col.shape)
        by_item = table[name]
        assert by_item.dtype == col.dtype
        if col.dtype.kind == "f":  # NaN-free, but compare the way it is meant
            assert np.array_equal(by_item, col)
        else:
            assert by_item.tolist() == col.tolist(), name

    check_keys(table.key, keys, [s["key"] for s in sess_ref])
    for name in TIME_COLUMNS:
        got = time_column_to_ints(getattr(table, name), time_kind)
        want = expected_times([s[name] for s in sess_ref], time_kind)
        assert got == want, (name, got, want)
    for name in ("count", "index"):
        col = getattr(table, name)
        assert col.dtype.kind in "iu", (name, col.dtype)
        assert col.tolist() == [s[name] for s in sess_ref], name
    return ids, table
