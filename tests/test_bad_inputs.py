"""Bad inputs that slipped through (issue 22), each as a regression test:
masked arrays, keys whose hash changes while a stream holds them, the
event limit checked before any conversion, and the errors that did not
name their argument and position.
"""
import pickle

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


# ---- a key whose hash changes while a stream holds it ----------------------

class MutableKey:
    """A key whose hash reads a field the caller may change."""

    def __init__(self, v):
        self.v = v

    def __hash__(self):
        return hash(self.v)

    def __eq__(self, other):
        return isinstance(other, MutableKey) and other.v == self.v

    def __repr__(self):
        return f"MutableKey({self.v})"


def _outputs(call, *args):
    """A call's output, and the key it reported as changed (or None): the
    output is the call's result, or the error's .sessions."""
    try:
        return call(*args), None
    except E as e:
        assert "changed after it was pushed" in str(e), e
        return e.sessions, e.key


HASH_CHANGED = (r"^keys: the hash of key MutableKey\(2\) changed after it was pushed; "
                r"a key must keep its hash while a {} holds it")


@pytest.mark.parametrize("emit", ["final", "update"])
def test_changed_hash_reported_and_nothing_lost(emit):
    z = sessionize.Sessionizer(gap=10, emit=emit)
    k = MutableKey(1)
    z.push(k, 0)
    z.push("b", 1)
    k.v = 2
    with pytest.raises(E, match=HASH_CHANGED.format("Sessionizer")) as e:
        z.advance(100)
    assert e.value.key is k
    assert [(s.key, s.start, s.count) for s in e.value.sessions] == [(k, 0, 1), ("b", 1, 1)]
    # the stream goes on: nothing held; the key, pushed again, is hashed as it is now
    assert z.stats()["keys"] == 0
    assert z.push(k, 200) == []
    assert [(s.key, s.start, s.count) for s in _outputs(z.flush)[0]] == [(k, 200, 1)]


def test_changed_hash_flush_reports_with_the_sessions():
    z = sessionize.Sessionizer(gap=10, collect=True)
    k = MutableKey(1)
    z.push(k, 0, "x")
    k.v = 2
    with pytest.raises(E, match=HASH_CHANGED.format("Sessionizer")) as e:
        z.flush()
    assert [(s.key, s.values) for s in e.value.sessions] == [(k, ("x",))]


def test_changed_hash_after_a_restore_is_reported():
    """A restored stream notes its keys' hashes as the original did."""
    z = sessionize.Sessionizer(gap=10, collect=True)
    z.push(MutableKey(1), 0, "x")
    z.push("b", 1, "y")
    z = pickle.loads(pickle.dumps(z))
    (k,) = [key for key in z._getstate()[1].values() if isinstance(key, MutableKey)]
    k.v = 2
    with pytest.raises(E, match=HASH_CHANGED.format("Sessionizer")) as e:
        z.flush()
    assert [(s.key, s.values) for s in e.value.sessions] == [(k, ("x",)), ("b", ("y",))]


def test_changed_hash_columnar():
    z = sessionize.Sessionizer(gap=10, columnar=True)
    k = MutableKey(1)
    z.push_many([k, k], [0, 1])
    k.v = 2
    with pytest.raises(E, match=HASH_CHANGED.format("Sessionizer")) as e:
        z.flush()
    batch = e.value.sessions
    assert list(batch.sessions.key) == [k] and list(batch.sessions.count) == [2]


def test_changed_hash_does_not_lose_the_session_of_a_swept_handle():
    """The issue's failure: once the handles of freed keys were swept (a
    snapshot sweeps first), a key whose hash had changed left an entry
    pointing at a dropped handle; a later advance() raised 'state: a key
    handle is missing (corrupted state)' and lost the session it had taken
    out, flush() too.  Every event must come back in a session."""
    z = sessionize.Sessionizer(gap=10)
    k0, k1, k2 = MutableKey(0), MutableKey(1), MutableKey(2)
    out, pushed = [], 0

    def run(call, *args):
        o, _ = _outputs(call, *args)
        out.extend(o)

    for keys, times in (([k1, k0, k2], [0, 1, 2]), ([k2], [2])):
        run(z.push_many, keys, times)
        pushed += len(keys)
    z._getstate()
    run(z.advance, 6)
    run(z.push, k0, 10)
    k1.v = 3
    for key, t in ((k1, 14), (k0, 28)):
        run(z.push, key, t)
    pushed += 3
    z._getstate()  # sweeps the freed handles
    for t in (35, 42, 49):
        run(z.push, k0, t)
    run(z.push_many, [k2, k2, k1], [49, 50, 51])
    pushed += 6
    run(z.advance, 51)
    run(z.flush)
    assert sum(s.count for s in out) == pushed


def test_changed_hash_random_operations_lose_nothing():
    import random

    for seed in range(300):
        rnd = random.Random(seed)
        z = sessionize.Sessionizer(gap=10)
        keys = [MutableKey(i) for i in range(3)] + ["s", ("t", 1)]
        t, out, pushed = 0, [], 0
        for _ in range(16):
            op = rnd.random()
            if op < 0.4:
                t += rnd.randint(0, 15)
                pushed += 1
                out += _outputs(z.push, rnd.choice(keys), t)[0]
            elif op < 0.6:
                rnd.choice(keys[:3]).v = rnd.randint(0, 4)
            elif op < 0.75:
                t += rnd.randint(0, 20)
                out += _outputs(z.advance, t)[0]
            elif op < 0.85:
                z._getstate()
            else:
                n = rnd.choice([3, 70])
                pushed += n
                out += _outputs(z.push_many, [rnd.choice(keys) for _ in range(n)],
                                list(range(t, t + n)))[0]
                t += n
        out += _outputs(z.flush)[0]
        assert sum(s.count for s in out) == pushed, seed


def test_changed_hash_search_sessionizer():
    z = sessionize.SearchSessionizer(gap=10)
    k = MutableKey(1)
    z.push(k, "SEARCH", 0, "q")
    z.push(k, "CLICK", 1)
    k.v = 2
    with pytest.raises(E, match=HASH_CHANGED.format("SearchSessionizer")) as e:
        z.advance(100)
    assert [(r.key, r.value, r.clicks) for r in e.value.sessions] == [(k, "q", 1)]
    assert z.flush() == []


def test_changed_hash_search_sessionizer_random_operations_lose_nothing():
    import random

    for seed in range(300):
        rnd = random.Random(seed)
        z = sessionize.SearchSessionizer(gap=10)
        keys = [MutableKey(i) for i in range(3)] + ["s"]
        t, out, searches = 0, [], 0
        for _ in range(16):
            op = rnd.random()
            if op < 0.45:
                t += rnd.randint(0, 15)
                kind = rnd.choice([1, 1, 3, 4])
                searches += kind == 1
                out += _outputs(z.push, rnd.choice(keys), kind, t)[0]
            elif op < 0.65:
                rnd.choice(keys[:3]).v = rnd.randint(0, 4)
            elif op < 0.8:
                t += rnd.randint(0, 20)
                out += _outputs(z.advance, t)[0]
            elif op < 0.88:
                z._getstate()
            else:
                n = rnd.choice([3, 70])
                kinds = [rnd.choice([1, 3]) for _ in range(n)]
                searches += kinds.count(1)
                out += _outputs(z.push_many, [rnd.choice(keys) for _ in range(n)], kinds,
                                list(range(t, t + n)))[0]
                t += n
        out += _outputs(z.flush)[0]
        assert not any(isinstance(r, sessionize.LateEvent) for r in out), seed
        assert sum(isinstance(r, sessionize.StreamSearchRow) for r in out) == searches, seed


def test_unchanged_custom_keys_are_not_reported():
    z = sessionize.Sessionizer(gap=10)
    keys = [MutableKey(i % 7) for i in range(200)]
    out = z.push_many(keys, list(range(200))) + z.advance(10**6)
    z._getstate()
    out += z.push_many(keys, list(range(10**6, 10**6 + 200))) + z.flush()
    assert sum(s.count for s in out) == 400


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
