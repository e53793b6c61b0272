"""Arrow data in (SPEC section 7): keys and times given through the Arrow
C Data Interface (pyarrow, polars, pandas backed by Arrow) give exactly what
the numpy form of the same data gives: the same ids, the same tables, keys
back in the caller's Arrow type, times in their unit and zone.  Every key
type, sliced arrays, chunk boundaries inside a key's events, empty chunks,
nulls at the first, a middle and the last row, arrays of 0 and 1 element,
and random chunkings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import sessionize
from engines.require import optional
from reference import reference_sessions

pa = optional("pyarrow", extra="frame")

GAP = 10


def _events(n=60, seed=0, users=7):
    rng = np.random.default_rng(seed)
    keys = [f"user-{u:03d}" for u in rng.integers(0, users, n)]
    times = np.sort(rng.integers(0, 40 * GAP, n)).astype(np.int64)
    return keys, times


def _want(keys, times, **kw):
    return (sessionize.assign(np.array(keys, dtype=object), times, gap=GAP, **kw),
            sessionize.sessions(np.array(keys, dtype=object), times, gap=GAP, **kw))


def _same_table(got, want):
    assert len(got) == len(want)
    assert [(k.decode() if isinstance(k, bytes) else k) for k in _list(got.key)] == \
        [(k.decode() if isinstance(k, bytes) else k) for k in _list(want.key)]
    for c in ("start", "end", "count", "index", "window_end"):
        assert got[c].tolist() == want[c].tolist(), c


def _list(col):
    if hasattr(col, "to_pylist"):
        return col.to_pylist()
    if hasattr(col, "to_list"):
        return col.to_list()
    return col.tolist()


STRING_TYPES = {
    "utf8": lambda ks: pa.array(ks, type=pa.string()),
    "large_utf8": lambda ks: pa.array(ks, type=pa.large_string()),
    "utf8_view": lambda ks: pa.array(ks, type=pa.string_view()),
    "binary": lambda ks: pa.array([k.encode() for k in ks], type=pa.binary()),
    "large_binary": lambda ks: pa.array([k.encode() for k in ks], type=pa.large_binary()),
    "binary_view": lambda ks: pa.array([k.encode() for k in ks], type=pa.binary_view()),
    "fixed_size_binary": lambda ks: pa.array([k.encode() for k in ks], type=pa.binary(8)),
    "dictionary": lambda ks: pa.array(ks).dictionary_encode(),
    "dictionary_int8": lambda ks: pa.array(ks).dictionary_encode().cast(
        pa.dictionary(pa.int8(), pa.string())),
    "chunked": lambda ks: pa.chunked_array([ks[:7], [], ks[7:30], ks[30:]]),
    "chunked_dictionary": lambda ks: pa.chunked_array(
        [pa.array(ks[:25]).dictionary_encode(), pa.array(ks[25:]).dictionary_encode()]),
    "sliced": lambda ks: pa.array(["pad-0", "pad-1", *ks, "pad-2"])[2:-1],
}


@pytest.mark.parametrize("kind", list(STRING_TYPES))
def test_string_keys_equal_the_numpy_form(kind):
    keys, times = _events()
    ids, table = _want(keys, times)
    k = STRING_TYPES[kind](keys)
    assert sessionize.assign(k, times, gap=GAP).tolist() == ids.tolist()
    got = sessionize.sessions(k, times, gap=GAP)
    _same_table(got, table)
    assert isinstance(got.key, (pa.Array, pa.ChunkedArray))


INT_TYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


@pytest.mark.parametrize("t", INT_TYPES)
def test_integer_keys_equal_the_numpy_form(t):
    keys, times = _events()
    ints = np.array([int(k[-3:]) for k in keys], dtype=t)
    want = sessionize.assign(ints, times, gap=GAP)
    assert sessionize.assign(pa.array(ints), times, gap=GAP).tolist() == want.tolist()
    got = sessionize.sessions(pa.array(ints), times, gap=GAP)
    assert _list(got.key) == sessionize.sessions(ints, times, gap=GAP).key.tolist()


def test_uint64_keys_above_int64_are_distinct():
    keys = pa.array([2**64 - 1, 2**63 - 1, 2**64 - 1, 0], type=pa.uint64())
    ids = sessionize.assign(keys, np.array([0, 0, 5, 0]), gap=GAP)
    assert ids.tolist() == [0, 1, 0, 2]


def test_polars_and_pandas_arrow_columns():
    pl = optional("polars", extra="frame")
    pd = optional("pandas", extra="frame")
    keys, times = _events()
    ids, table = _want(keys, times)
    for k in (pl.Series(keys), pd.Series(keys, dtype="string[pyarrow]"),
              pd.Series(pd.array(keys, dtype=pd.ArrowDtype(pa.string())))):
        assert sessionize.assign(k, times, gap=GAP).tolist() == ids.tolist()
        _same_table(sessionize.sessions(k, times, gap=GAP), table)
    assert isinstance(sessionize.sessions(pl.Series(keys), times, gap=GAP).key, pl.Series)


@pytest.mark.parametrize("where", ["first", "middle", "last"])
@pytest.mark.parametrize("what", ["keys", "times"])
def test_a_null_is_an_error_naming_its_row(where, what):
    keys, times = _events(n=20)
    row = {"first": 0, "middle": 9, "last": 19}[where]
    k = list(keys)
    t = times.tolist()
    (k if what == "keys" else t)[row] = None
    # chunked, so the row is counted over chunks
    ka = pa.chunked_array([k[:5], k[5:]], type=pa.string())
    ta = pa.chunked_array([t[:12], t[12:]], type=pa.int64())
    with pytest.raises(sessionize.SessionizeError, match=rf"^{what}\[{row}\]: missing value \(null\)"):
        sessionize.assign(ka, ta, gap=GAP)


def test_a_null_in_a_dictionary_is_an_error():
    d = pa.DictionaryArray.from_arrays(pa.array([0, 1, 0], type=pa.int32()),
                                       pa.array(["a", None]))
    with pytest.raises(sessionize.SessionizeError, match=r"^keys\[1\]: missing value"):
        sessionize.assign(d, np.array([0, 1, 2]), gap=GAP)


@pytest.mark.parametrize("n", [0, 1])
def test_zero_and_one_element(n):
    k = pa.array(["a"] * n, type=pa.string())
    t = pa.array(list(range(n)), type=pa.int64())
    assert sessionize.assign(k, t, gap=GAP).tolist() == [0] * n
    s = sessionize.sessions(k, t, gap=GAP)
    assert len(s) == n and _list(s.key) == ["a"] * n
    empty = pa.chunked_array([], type=pa.string())
    assert len(sessionize.sessions(empty, pa.chunked_array([], type=pa.int64()), gap=GAP)) == 0


TIME_UNITS = ["s", "ms", "us", "ns"]


@pytest.mark.parametrize("unit", TIME_UNITS)
@pytest.mark.parametrize("zone", [None, "UTC", "Asia/Kolkata"])
def test_timestamps_keep_unit_and_zone(unit, zone):
    keys, secs = _events()
    np_times = (secs * 60).astype(f"M8[s]").astype(f"M8[{unit}]")
    want = sessionize.sessions(np.array(keys), np_times, gap="10min")
    t = pa.array(np_times, type=pa.timestamp(unit, tz=zone))
    got = sessionize.sessions(pa.array(keys), t, gap="10min")
    _same_table(got, want)
    assert got.start.dtype == np.dtype(f"M8[{unit}]")
    assert got.time_zone == (zone or "")
    out = got.to_arrow()
    assert out.schema.field("start").type == pa.timestamp(unit, tz=zone)
    assert out.column("start").cast(pa.int64()).to_pylist() == \
        t.cast(pa.int64()).take(pa.array(_first_rows(want, np_times))).to_pylist()


def _first_rows(table, times):
    """The input row of each session's first event (times are unique here or
    the first one is taken, which has the same time)."""
    tl = times.tolist()
    return [tl.index(s) for s in table.start.tolist()]


def test_date32_and_date64():
    keys, days = _events()
    d = days.astype("M8[D]")
    want = sessionize.sessions(np.array(keys), d, gap=np.timedelta64(10, "D"))
    got = sessionize.sessions(pa.array(keys), pa.array(d, type=pa.date32()),
                              gap=np.timedelta64(10, "D"))
    _same_table(got, want)
    assert got.start.dtype == np.dtype("M8[D]")
    # date64 is milliseconds since the epoch: datetime64[ms] back
    got64 = sessionize.sessions(pa.array(keys), pa.array(d, type=pa.date64()),
                                gap=np.timedelta64(10, "D"))
    assert got64.start.dtype == np.dtype("M8[ms]")
    assert got64.start.tolist() == want.start.astype("M8[ms]").tolist()
    assert got64.count.tolist() == want.count.tolist()


@pytest.mark.parametrize("t", INT_TYPES)
def test_integer_times(t):
    keys, times = _events()
    if t in ("int8", "uint8"):
        times = times % 120
        times.sort()
    ids, table = _want(keys, times.astype(t).astype(np.int64))
    got = sessionize.sessions(pa.array(keys), pa.array(times.astype(t)), gap=GAP)
    _same_table(got, table)


def test_uint64_time_beyond_int64_names_its_row():
    t = pa.array([0, 1, 2**63], type=pa.uint64())
    with pytest.raises(sessionize.SessionizeError, match=r"^times\[2\]: out of range"):
        sessionize.assign(pa.array(["a", "a", "a"]), t, gap=GAP)


def test_unsupported_types_name_the_argument():
    with pytest.raises(TypeError, match=r"^keys: unsupported Arrow type \(format 'g'\)"):
        sessionize.assign(pa.array([1.5]), np.array([0]), gap=GAP)
    with pytest.raises(TypeError, match=r"^times: unsupported Arrow type"):
        sessionize.assign(np.array([1]), pa.array([True]), gap=GAP)


def test_length_mismatch():
    with pytest.raises(sessionize.SessionizeError, match="lengths differ"):
        sessionize.assign(pa.array(["a", "b"]), pa.array([0]), gap=GAP)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_chunkings_equal_one_shot(data):
    n = data.draw(st.integers(0, 80))
    seed = data.draw(st.integers(0, 2**16))
    keys, times = _events(n, seed=seed, users=data.draw(st.integers(1, 9)))
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=6)))
    bounds = [0, *cuts, n]
    kc = pa.chunked_array([keys[a:b] for a, b in zip(bounds, bounds[1:])], type=pa.string())
    tc = pa.chunked_array([times[a:b] for a, b in zip(bounds, bounds[1:])], type=pa.int64())
    if data.draw(st.booleans()):
        kc = pa.chunked_array([c.dictionary_encode() for c in kc.chunks],
                              type=pa.dictionary(pa.int32(), pa.string()))
    ids, _ = reference_sessions(keys, times.tolist(), GAP)
    got = sessionize.assign(kc, tc, gap=GAP)
    assert got.tolist() == list(ids)
