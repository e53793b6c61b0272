"""The promises around the result: inputs untouched, any array layout
accepted, key dtypes kept, any input order giving the same sessions, no
reference leaks, safe from several threads."""
import copy
import datetime as dt
import gc
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import sessionize
from reference import partition, reference_sessions
from session_check import COLUMNS, check

RNG_SEED = 20240601


def events(n=400, n_keys=7, seed=0):
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, n_keys, n)
    times = rng.integers(0, 40, n).cumsum()  # a log: nondecreasing
    times = rng.permutation(times)           # now shuffled
    return keys, times


def key_forms(keys):
    """The same keys as every kind the contract takes."""
    return {
        "int64": keys.astype(np.int64),
        "int32": keys.astype(np.int32),
        "uint16": keys.astype(np.uint16),
        "U": np.array([f"user-{k}" for k in keys.tolist()]),
        "S": np.array([f"user-{k}".encode() for k in keys.tolist()]),
        "list": [f"user-{k}" for k in keys.tolist()],
        "object": to_object_array([("u", k) for k in keys.tolist()]),
    }


def to_object_array(values):
    a = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        a[i] = v
    return a


def time_forms(times):
    return {
        "int64": (times.astype(np.int64), 5),
        "M8[ms]": (times.astype("M8[ms]"), dt.timedelta(milliseconds=5)),
        "M8[ns]": (times.astype("M8[ns]"), "5ns"),
        "float": (times.astype(np.float64) * 0.5, 2.5),
    }


def snapshot(x):
    return x.copy() if isinstance(x, np.ndarray) else copy.deepcopy(x)


def assert_same_input(a, b):
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes() if a.dtype != object else \
            a.tolist() == b.tolist()
    else:
        assert type(a) is type(b) and a == b


def table_rows(table):
    return list(zip(*(getattr(table, c).tolist() for c in COLUMNS)))


# ---------------------------------------------------------------------------
# inputs are not mutated


@pytest.mark.parametrize("kf", list(key_forms(np.arange(1))))
@pytest.mark.parametrize("tf", list(time_forms(np.arange(1))))
@pytest.mark.parametrize("cap", [None, "restart", "fixed"])
def test_inputs_not_mutated(kf, tf, cap):
    k, t = events(300, 5, seed=1)
    keys = key_forms(k)[kf]
    times, gap = time_forms(t)[tf]
    kw = dict(gap=gap)
    if cap:
        kw.update(max_duration=gap * 3 if not isinstance(gap, str) else "15ns",
                  max_duration_mode=cap)
    keys0, times0 = snapshot(keys), snapshot(times)
    key_objects = [id(x) for x in keys] if kf in ("list", "object") else None
    ids = sessionize.assign(keys, times, **kw)
    table = sessionize.sessions(keys, times, **kw)
    assert_same_input(keys, keys0)
    assert_same_input(times, times0)
    if key_objects is not None:
        assert [id(x) for x in keys] == key_objects
    assert len(ids) == 300 and table.count.sum() == 300
    # changing an output (where it is writable) must not reach the input
    if table.start.flags.writeable:
        table.start.fill(table.start[0])
    if table.key.flags.writeable:
        table.key.fill(table.key[0])
    assert_same_input(keys, keys0)
    assert_same_input(times, times0)


# ---------------------------------------------------------------------------
# any layout: strided, negative strides, byte-swapped, read-only


def layouts(a):
    """(name, the same values in another layout)."""
    doubled = np.repeat(a, 2)[::2]
    assert np.array_equal(doubled, a)
    column = np.stack([a, a[::-1]], axis=1)[:, 0]
    reversed_twice = a[::-1].copy()[::-1]
    readonly = a.copy()
    readonly.setflags(write=False)
    out = [("strided", doubled), ("column_of_2d", column),
           ("negative_stride", reversed_twice), ("readonly", readonly)]
    if a.dtype.byteorder in "<>=" and a.dtype.itemsize > 1:
        swapped = a.astype(a.dtype.newbyteorder("S"))
        assert swapped.dtype.isnative != a.dtype.isnative
        out.append(("byteswapped", swapped))
    ro_strided = np.repeat(a, 3)[1::3]
    ro_strided.setflags(write=False)
    out.append(("readonly_strided", ro_strided))
    return out


LAYOUT_NAMES = ["strided", "column_of_2d", "negative_stride", "readonly",
                "byteswapped", "readonly_strided"]


KEY_LAYOUTS = [(kf, layout)
               for kf in ["int64", "int32", "uint16", "U", "S", "object"]
               for layout in LAYOUT_NAMES
               if not (layout == "byteswapped" and kf in ("S", "object"))]


@pytest.mark.parametrize("kf,layout", KEY_LAYOUTS)
@pytest.mark.parametrize("cap", [None, "fixed"])
def test_key_layouts(layout, kf, cap):
    k, t = events(500, 9, seed=2)
    keys = key_forms(k)[kf]
    kw = dict(gap=7)
    if cap:
        kw.update(max_duration=20, max_duration_mode=cap)
    want_ids = sessionize.assign(keys, t, **kw)
    want = table_rows(sessionize.sessions(keys, t, **kw))
    other = dict(layouts(keys))[layout]
    assert np.array_equal(other, keys) and other.tolist() == keys.tolist()
    assert sessionize.assign(other, t, **kw).tolist() == want_ids.tolist()
    table = sessionize.sessions(other, t, **kw)
    assert table_rows(table) == want
    if keys.dtype != object:
        assert table.key.dtype.kind == keys.dtype.kind
        assert table.key.dtype.itemsize == keys.dtype.itemsize


@pytest.mark.parametrize("layout", LAYOUT_NAMES)
@pytest.mark.parametrize("tf", ["int64", "M8[ms]", "M8[ns]", "float"])
@pytest.mark.parametrize("cap", [None, "restart"])
def test_time_layouts(layout, tf, cap):
    k, t = events(500, 9, seed=3)
    times, gap = time_forms(t)[tf]
    kw = dict(gap=gap)
    if cap:
        kw.update(max_duration="30ns" if isinstance(gap, str) else gap * 6,
                  max_duration_mode=cap)
    want_ids = sessionize.assign(k, times, **kw)
    want = table_rows(sessionize.sessions(k, times, **kw))
    other = dict(layouts(times))[layout]
    assert np.array_equal(other, times)
    assert sessionize.assign(k, other, **kw).tolist() == want_ids.tolist()
    table = sessionize.sessions(k, other, **kw)
    assert table_rows(table) == want
    # output times are native-endian, in the caller's type and unit
    assert table.start.dtype == times.dtype
    assert table.start.dtype.isnative


def test_layouts_match_reference():
    """The contiguous answer itself is right (so the comparisons above
    compare against something correct)."""
    k, t = events(500, 9, seed=2)
    for name, kk in layouts(k):
        for tname, tt in layouts(t):
            check(kk, tt, k.tolist(), t.tolist(), "int", ref_gap=7,
                  ref_max=20, max_duration=20, max_duration_mode="fixed",
                  gap=7)


# ---------------------------------------------------------------------------
# key dtypes


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "uint16",
                                   "int32", "uint32", "int64", "uint64"])
def test_int_key_dtypes(dtype):
    info = np.iinfo(dtype)
    pool = np.array([info.min, info.max, 0, 1, info.max - 1], dtype=dtype)
    rng = np.random.default_rng(4)
    keys = pool[rng.integers(0, len(pool), 200)]
    times = rng.integers(0, 100, 200)
    ids, table = check(keys, times, keys.tolist(), times.tolist(), "int",
                       ref_gap=3)
    assert table.key.dtype == np.dtype(dtype)
    assert set(table.key.tolist()) == set(pool.tolist())


def test_uint64_keys_above_int64_are_distinct():
    keys = np.array([2**63, 0, 2**64 - 1, 2**63 - 1, 2**63], dtype=np.uint64)
    ids = sessionize.assign(keys, np.array([0, 0, 0, 0, 1]), gap=5)
    assert ids.tolist() == [0, 1, 2, 3, 0]
    table = sessionize.sessions(keys, np.array([0, 0, 0, 0, 1]), gap=5)
    assert table.key.tolist() == [2**63, 0, 2**64 - 1, 2**63 - 1]


@pytest.mark.parametrize("width", [1, 3, 8, 9, 33])
def test_string_key_width_does_not_matter(width):
    rng = np.random.default_rng(width)
    words = ["", "a", "b", "ab", "\u0101", "\U0001F600"]
    words = [w for w in words if len(w) <= width]
    k = [words[i] for i in rng.integers(0, len(words), 300)]
    t = rng.integers(0, 50, 300)
    for dtype in (f"U{width}", f"U{width + 5}"):
        keys = np.array(k, dtype=dtype)
        check(keys, t, keys.tolist(), t.tolist(), "int", ref_gap=2)
    for dtype in (f"S{width}", f"S{width + 5}"):
        keys = np.array([w.encode("utf-8")[:width] for w in k], dtype=dtype)
        check(keys, t, keys.tolist(), t.tolist(), "int", ref_gap=2)


def test_keys_equal_across_kinds_give_the_same_partition():
    k, t = events(1000, 50, seed=5)
    want = partition(sessionize.assign(k, t, gap=10).tolist())
    for name, keys in key_forms(k).items():
        got = partition(sessionize.assign(keys, t, gap=10).tolist())
        assert got == want, name


# ---------------------------------------------------------------------------
# large input: every order gives the same sessions


def big_input():
    rng = np.random.default_rng(RNG_SEED)
    n, n_keys = 200_000, 20_000
    key_values = rng.integers(-2**62, 2**62, n_keys)
    keys = key_values[rng.integers(0, n_keys, n)]
    times = np.sort(rng.integers(0, 10**5, n)) * 1000  # a log, with ties
    return keys, times


def canonical(ids, perm):
    """Event (original position) -> smallest original position in its
    session, from ids computed over events reordered by perm."""
    ids = np.asarray(ids)
    smallest = np.full(ids.max() + 1 if len(ids) else 0, len(ids), np.int64)
    np.minimum.at(smallest, ids, perm)
    out = np.empty(len(ids), np.int64)
    out[perm] = smallest[ids]
    return out


@pytest.fixture(scope="module")
def big():
    return big_input()


PARAMS = [
    dict(gap=10_000_000),
    dict(gap=10_000_000, inclusive=False),
    dict(gap=10_000_000, max_duration=30_000_000),
    dict(gap=10_000_000, max_duration=30_000_000, max_duration_mode="fixed",
         inclusive=False),
]


@pytest.mark.parametrize("kw", PARAMS, ids=["gap", "exclusive", "restart",
                                            "fixed"])
def test_large_input_any_order(big, kw):
    keys, times = big
    n = len(keys)
    rng = np.random.default_rng(7)
    ref_ids, ref_sessions = reference_sessions(
        keys.tolist(), times.tolist(), kw["gap"],
        max_duration=kw.get("max_duration"),
        mode=kw.get("max_duration_mode", "restart"),
        inclusive=kw.get("inclusive", True))
    ref = np.array(partition(ref_ids))
    assert 1000 < len(ref_sessions) < n  # both joins and splits happen

    orders = {
        "time": np.arange(n),
        "sorted": np.lexsort((times, keys)),
        "shuffled": rng.permutation(n),
        "reversed": np.arange(n)[::-1].copy(),
    }
    rows = None
    for name, p in orders.items():
        ids = sessionize.assign(keys[p], times[p], **kw)
        assert np.array_equal(canonical(ids, p), ref), name
        table = sessionize.sessions(keys[p], times[p], **kw)
        assert len(table) == len(ref_sessions)
        got = sorted(table_rows(table))
        if rows is None:
            rows = got
            want = sorted(tuple(s[c] for c in COLUMNS) for s in ref_sessions)
            assert rows == want
        assert got == rows, name


def test_large_input_string_and_object_keys(big):
    keys, times = big
    n = len(keys)
    p = np.random.default_rng(8).permutation(n)
    want = canonical(sessionize.assign(keys, times, gap=10_000_000),
                     np.arange(n))
    skeys = np.array([f"k{k:x}" for k in keys.tolist()])
    okeys = skeys.tolist()
    for kk in (skeys, okeys):
        for perm in (np.arange(n), p):
            sub = kk[perm] if isinstance(kk, np.ndarray) else \
                [kk[i] for i in perm.tolist()]
            ids = sessionize.assign(sub, times[perm], gap=10_000_000)
            assert np.array_equal(canonical(ids, perm), want)


# ---------------------------------------------------------------------------
# no leaks, threads


def test_no_reference_leaks():
    marker = ("a key object", 1)
    keys = [marker, "b", marker, 3]
    times = np.array([0, 1, 2, 100])
    for _ in range(10):  # warm up caches
        sessionize.sessions(keys, times, gap=5)
    gc.collect()
    before = sys.getrefcount(marker)
    for _ in range(2000):
        sessionize.assign(keys, times, gap=5)
        table = sessionize.sessions(keys, times, gap=5)
        del table
    for _ in range(200):  # and on the error path
        with pytest.raises(TypeError):
            sessionize.assign(keys + [[1]], np.arange(5), gap=5)
    gc.collect()
    assert sys.getrefcount(marker) == before


def test_no_array_leaks():
    keys = np.arange(1000) % 17
    times = np.arange(1000)
    rk, rt = sys.getrefcount(keys), sys.getrefcount(times)
    for _ in range(500):
        sessionize.assign(keys, times, gap=2)
        sessionize.sessions(keys, times, gap=2, max_duration=10)
    gc.collect()
    assert (sys.getrefcount(keys), sys.getrefcount(times)) == (rk, rt)


def test_threads_give_the_same_answer(big):
    keys, times = big
    p = np.random.default_rng(9).permutation(len(keys))
    k, t = keys[p], times[p]
    want = sessionize.assign(k, t, gap=10_000_000, max_duration=30_000_000)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(
            lambda _: sessionize.assign(k, t, gap=10_000_000,
                                        max_duration=30_000_000), range(8)))
    for r in results:
        assert np.array_equal(r, want)


# ---------------------------------------------------------------------------
# the table


def test_table_to_pandas():
    pd = pytest.importorskip("pandas")
    keys = ["a", "b", "a"]
    times = np.array([0, 1, 10], dtype="M8[s]")
    table = sessionize.sessions(keys, times, gap="5s")
    df = table.to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert len(df) == 3
    for c in COLUMNS:
        assert df[c].tolist() == table[c].tolist()
    assert df["start"].dtype.kind == "M"


def test_table_unknown_column():
    table = sessionize.sessions([1], np.array([0]), gap=1)
    with pytest.raises(KeyError):
        table["no_such_column"]
