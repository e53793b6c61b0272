"""Bad inputs that slipped through (issue 22), each as a regression test:
masked arrays, keys whose hash changes while a stream holds them, the
event limit checked before any conversion, and the errors that did not
name their argument and position.
"""
import numpy as np
import numpy.ma as ma
import pytest

import sessionize
import sessionize.frame

E = sessionize.SessionizeError


def _batch_calls():
    return [sessionize.assign, sessionize.sessions]


# ---- masked arrays ---------------------------------------------------------

MASKED_TIMES = ma.array([0, 5, 10**9, 12], mask=[0, 0, 1, 0])


@pytest.mark.parametrize("call", _batch_calls())
def test_masked_times_batch(call):
    with pytest.raises(E, match=r"^times\[2\]: missing value \(masked\)$"):
        call(["a"] * 4, MASKED_TIMES, gap=10)


@pytest.mark.parametrize("call", _batch_calls())
@pytest.mark.parametrize("keys", [
    ma.array([1, 2, 1, 1], mask=[0, 1, 0, 0]),
    ma.array(["a", "b", "a", "a"], mask=[0, 1, 0, 0]),
    ma.array(np.array(["a", ("t",), "a", "a"], dtype=object), mask=[0, 1, 0, 0]),
])
def test_masked_keys_batch(call, keys):
    with pytest.raises(E, match=r"^keys\[1\]: missing value \(masked\)$"):
        call(keys, [0, 1, 2, 3], gap=10)


def test_masked_datetime_times():
    t = ma.array(np.array([0, 1, 2], dtype="M8[s]"), mask=[0, 0, 1])
    with pytest.raises(E, match=r"^times\[2\]: missing value \(masked\)"):
        sessionize.sessions(["a"] * 3, t, gap="1s")


@pytest.mark.parametrize("call", _batch_calls())
def test_masked_without_masked_values_is_its_data(call):
    keys = ma.array([1, 1, 2, 1], mask=False)
    times = ma.array([0, 5, 10**9, 12], mask=[0, 0, 0, 0])
    got = call(keys, times, gap=10)
    want = call(np.array([1, 1, 2, 1]), np.array([0, 5, 10**9, 12]), gap=10)
    if call is sessionize.assign:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_array_equal(got.key, want.key)
        np.testing.assert_array_equal(got.count, want.count)


def test_masked_search_ctr():
    keys = ma.array([1, 1, 1], mask=[0, 1, 0])
    with pytest.raises(E, match=r"^keys\[1\]: missing value \(masked\)"):
        sessionize.search_ctr(keys, [0, 1, 3], [0, 1, 2])
    with pytest.raises(E, match=r"^times\[0\]: missing value \(masked\)"):
        sessionize.search_ctr([1, 1, 1], [0, 1, 3], ma.array([0, 1, 2], mask=[1, 0, 0]))
    with pytest.raises(E, match=r"^kinds\[2\]: missing value \(masked\)"):
        sessionize.search_ctr([1, 1, 1], ma.array([0, 1, 3], mask=[0, 0, 1]), [0, 1, 2])


@pytest.mark.parametrize("columnar", [False, True])
def test_masked_sessionizer_push_many(columnar):
    z = sessionize.Sessionizer(gap=10, columnar=columnar)
    with pytest.raises(E, match=r"^times\[2\]: missing value \(masked\)"):
        z.push_many(["a"] * 4, MASKED_TIMES)
    with pytest.raises(E, match=r"^keys\[1\]: missing value \(masked\)"):
        z.push_many(ma.array([1, 2, 1, 1], mask=[0, 1, 0, 0]), np.arange(4))
    with pytest.raises(E, match=r"^keys\[70\]: missing value \(masked\)"):
        keys = ma.array(np.array(["k"] * 100, dtype=object), mask=np.arange(100) == 70)
        z.push_many(keys, np.arange(100))
    # nothing was pushed by the refused chunks
    assert z.stats()["open_sessions"] == 0
    z.push_many(ma.array(["a"] * 3, mask=False), ma.array([0, 1, 2], mask=False))
    out = z.flush()
    sessions = list(out.sessions.rows()) if columnar else out
    assert [(s.key, s.start, s.end, s.count) for s in sessions] == [("a", 0, 2, 3)]


def test_masked_search_sessionizer_push_many():
    z = sessionize.SearchSessionizer(gap=10)
    with pytest.raises(E, match=r"^times\[1\]: missing value \(masked\)"):
        z.push_many([1, 1], [0, 1], ma.array([0, 1], mask=[0, 1]))
    with pytest.raises(E, match=r"^keys\[0\]: missing value \(masked\)"):
        z.push_many(ma.array([1, 1], mask=[1, 0]), [0, 1], [0, 1])
    with pytest.raises(E, match=r"^kinds\[1\]: missing value \(masked\)"):
        z.push_many([1, 1], ma.array([0, 1], mask=[0, 1]), [0, 1])


# ---- the event limit, before any conversion --------------------------------

HUGE = 2**31 + 1


def _huge_ints():
    # a view of one int64: len 2**31 + 1, no memory
    return np.broadcast_to(np.int64(0), (HUGE,))


@pytest.mark.parametrize("call", _batch_calls())
def test_event_limit_times_before_conversion(call):
    with pytest.raises(E, match=r"^times: more than 2147483647 events in one call"):
        call(np.zeros(3, np.int64), _huge_ints(), gap=1)


@pytest.mark.parametrize("call", _batch_calls())
def test_event_limit_keys_before_conversion(call):
    # int64 keys would be copied to a contiguous array (16 GiB) first
    with pytest.raises(E, match=r"^keys: more than 2147483647 events in one call"):
        call(_huge_ints(), _huge_ints(), gap=1)


class _Long:
    """A sequence that says it is huge; reading it is a bug."""

    def __len__(self):
        return HUGE

    def __getitem__(self, i):
        raise AssertionError("read before the limit was checked")

    def __array__(self, *a, **k):
        raise AssertionError("converted before the limit was checked")


def test_event_limit_any_len():
    with pytest.raises(E, match=r"^keys: more than 2147483647 events in one call "
                                r"\(2147483649\); split the input by key$"):
        sessionize.sessions(_Long(), [0], gap=1)
    with pytest.raises(E, match=r"^times: more than"):
        sessionize.assign([0], _Long(), gap=1)


def test_event_limit_search_ctr():
    with pytest.raises(E, match=r"^kinds: more than 2147483647 events"):
        sessionize.search_ctr([1], _Long(), [0])
    with pytest.raises(E, match=r"^times: more than 2147483647 events"):
        sessionize.search_ctr([1], [0], _huge_ints())


# ---- errors that name argument and position --------------------------------

class _HashRaises:
    def __hash__(self):
        raise RuntimeError("no hash today")


class _EqRaises:
    def __hash__(self):
        return 1

    def __eq__(self, other):
        raise RuntimeError("no eq today")


@pytest.mark.parametrize("call", _batch_calls())
@pytest.mark.parametrize("wrap", [list, tuple, lambda v: np.array(v, dtype=object)])
def test_key_hash_raises_batch(call, wrap):
    with pytest.raises(E, match=r"^keys\[1\]: hashing or comparing a key of type "
                                r"_HashRaises raised RuntimeError: no hash today$") as e:
        call(wrap(["a", _HashRaises(), "b"]), [0, 1, 2], gap=1)
    assert isinstance(e.value.__cause__, RuntimeError)


@pytest.mark.parametrize("call", _batch_calls())
def test_key_eq_raises_batch(call):
    with pytest.raises(E, match=r"^keys\[2\]: hashing or comparing a key of type "
                                r"_EqRaises raised RuntimeError: no eq today$") as e:
        call(["a", _EqRaises(), _EqRaises()], [0, 1, 2], gap=1)
    assert isinstance(e.value.__cause__, RuntimeError)


def test_unhashable_key_batch_keeps_pythons_reason():
    with pytest.raises(TypeError, match=r"^keys\[1\]: unhashable type: 'list'$"):
        sessionize.sessions(["a", ["b"]], [0, 1], gap=1)


def test_key_hash_raises_search_ctr():
    with pytest.raises(E, match=r"^keys\[0\]: hashing or comparing"):
        sessionize.search_ctr([_HashRaises()], [0], [0])


@pytest.mark.parametrize("call", _batch_calls())
def test_longdouble_times(call):
    t = np.array([0, 1], dtype=np.longdouble)
    if t.dtype.itemsize <= 8:
        pytest.skip("longdouble is float64 on this platform")
    with pytest.raises(TypeError, match=r"^times: unsupported dtype longdouble"):
        call(["a", "a"], t, gap=1)


def test_longdouble_times_stream():
    t = np.array([0, 1], dtype=np.longdouble)
    if t.dtype.itemsize <= 8:
        pytest.skip("longdouble is float64 on this platform")
    with pytest.raises(TypeError, match=r"^times: unsupported dtype longdouble"):
        sessionize.Sessionizer(gap=1).push_many(["a", "a"], t)


pd = pytest.importorskip("pandas")


@pytest.mark.parametrize("call", _batch_calls())
@pytest.mark.parametrize("keys", [
    lambda: pd.array([1, None, 2], dtype="Int64"),
    lambda: pd.Series([1, None, 2], dtype="Int64"),
    lambda: pd.array([1.0, None, 2.0], dtype="Float64"),
    lambda: pd.array([True, None, False], dtype="boolean"),
    lambda: pd.array(["a", None, "b"], dtype="string[python]"),
    lambda: pd.Series(pd.Categorical(["a", None, "b"])),
])
def test_nullable_keys_batch(call, keys):
    with pytest.raises(E, match=r"^keys\[1\]: missing value \(null\)$"):
        call(keys(), [0, 1, 2], gap=1)


@pytest.mark.parametrize("call", _batch_calls())
def test_arrow_integer_keys_with_a_null(call):
    pa = pytest.importorskip("pyarrow")
    for keys in (pa.array([1, None, 2]), pa.chunked_array([[1], [None, 2]]),
                 pd.Series([1, None, 2], dtype="int64[pyarrow]")):
        with pytest.raises(E, match=r"^keys\[1\]: missing value \(null\)$"):
            call(keys, [0, 1, 2], gap=1)


def test_nullable_without_na_is_plain():
    got = sessionize.sessions(pd.array([3, 1, 3], dtype="Int64"),
                              pd.array([0, 1, 2], dtype="Int64"), gap=5)
    assert list(got.key) == [3, 1] and list(got.count) == [2, 1]


@pytest.mark.parametrize("call", _batch_calls())
def test_nullable_times_batch(call):
    with pytest.raises(E, match=r"^times\[1\]: missing value \(null\)$"):
        call(["a"] * 3, pd.array([1, None, 2], dtype="Int64"), gap=1)


def test_nullable_streaming():
    z = sessionize.Sessionizer(gap=1)
    with pytest.raises(E, match=r"^keys\[1\]: missing value \(null\)$"):
        z.push_many(pd.array([1, None, 2], dtype="Int64"), np.arange(3))
    with pytest.raises(E, match=r"^times\[1\]: missing value \(null\)$"):
        z.push_many(["a"] * 3, pd.array([1, None, 2], dtype="Int64"))
    s = sessionize.SearchSessionizer()
    with pytest.raises(E, match=r"^keys\[0\]: missing value \(null\)$"):
        s.push_many(pd.array([None, 2], dtype="Int64"), [0, 1])


# ---- sessionize.frame --------------------------------------------------------

@pytest.mark.parametrize("fn", ["assign", "sessions"])
@pytest.mark.parametrize("ts", [
    lambda: pd.to_datetime(["2020-01-01", None, "2020-01-02"]),
    lambda: pd.to_datetime(["2020-01-01", None, "2020-01-02"]).tz_localize("UTC"),
])
def test_frame_missing_time_names_the_column(fn, ts):
    df = pd.DataFrame({"u": ["a", "b", "a"], "ts": ts()})
    with pytest.raises(E, match=r"^time\[1\]: missing time \(NaT\) in column 'ts'$"):
        getattr(sessionize.frame, fn)(df, key="u", time="ts", gap="1h")


def test_frame_nan_time_names_the_column():
    df = pd.DataFrame({"u": ["a", "b", "a"], "ts": [1.0, np.nan, 2.0]})
    with pytest.raises(E, match=r"^time\[1\]: NaN is not a time in column 'ts'$"):
        sessionize.frame.sessions(df, key="u", time="ts", gap=1)


def test_frame_polars_and_arrow_nan_time_names_the_column():
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    for df in (pl.DataFrame({"u": ["a", "b"], "t": [1.0, float("nan")]}),
               pa.table({"u": ["a", "b"], "t": [1.0, float("nan")]})):
        with pytest.raises(E, match=r"^time\[1\]: NaN is not a time in column 't'$"):
            sessionize.frame.sessions(df, key="u", time="t", gap=1)


@pytest.mark.parametrize("fn", ["assign", "sessions"])
def test_frame_duplicate_columns_pandas(fn):
    df = pd.DataFrame([["a", 1, 2], ["b", 2, 3]], columns=["u", "ts", "ts"])
    with pytest.raises(E, match=r"^time: the frame has 2 columns named 'ts'"):
        getattr(sessionize.frame, fn)(df, key="u", time="ts", gap=1)
    df = pd.DataFrame([["a", "x", 2], ["b", "y", 3]], columns=["u", "u", "ts"])
    with pytest.raises(E, match=r"^key: the frame has 2 columns named 'u'"):
        getattr(sessionize.frame, fn)(df, key="u", time="ts", gap=1)


@pytest.mark.parametrize("fn", ["assign", "sessions"])
def test_frame_duplicate_columns_arrow(fn):
    pa = pytest.importorskip("pyarrow")
    tb = pa.Table.from_arrays([pa.array(["a", "b"]), pa.array([1, 2]), pa.array([3, 4])],
                              names=["u", "ts", "ts"])
    with pytest.raises(E, match=r"^time: the frame has 2 columns named 'ts'"):
        getattr(sessionize.frame, fn)(tb, key="u", time="ts", gap=1)
    reader = pa.RecordBatchReader.from_batches(tb.schema, tb.to_batches())
    with pytest.raises(E, match=r"^time: the frame has 2 columns named 'ts'"):
        getattr(sessionize.frame, fn)(reader, key="u", time="ts", gap=1)


def test_frame_duplicate_other_columns_are_fine():
    df = pd.DataFrame([["a", 1, 2, 3], ["a", 2, 3, 4]], columns=["u", "ts", "x", "x"])
    out = sessionize.frame.assign(df, key="u", time="ts", gap=5)
    assert list(out["session_id"]) == [0, 0]
