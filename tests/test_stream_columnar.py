"""columnar=True: the same sessions, rows and late events as the object mode.

A Sessionizer (and a SearchSessionizer) in each mode is fed the same random
scripts (every cap mode, inclusive, emit mode, collect, delay, allowed
lateness, on_late policy; single pushes, chunks, advance, pickling mid-stream,
flush) and every call's result is compared: the columnar batch's session
rows, as StreamSessions, equal the object mode's sessions in order and field
by field (ids, replaces and values included), its late table the object
mode's late events with their positions, and on_late='raise' raises the same
event with the same sessions before it.  The object mode itself is checked
against the reference model in test_stream_props.py.  Then the columns
themselves: dtypes (int64 keys when every key is an int, the caller's
objects otherwise; times in the caller's type), Arrow export, pickling.
"""
from __future__ import annotations

import datetime
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sessionize
from sessionize import LateEvent, SearchSessionizer, Sessionizer, StreamSession
from sessionize._table import LateTable, ListColumn, StreamBatch, StreamSessionTable
from test_stream_props import run_pair
from test_stream_reference import KEY_POOL, SETTINGS, examples, scripts, stream_params


def _key(k):
    return k.item() if isinstance(k, np.generic) else k


def _session_tuple(s: StreamSession) -> tuple:
    return (_key(s.key), s.start, s.end, s.window_end, s.count, s.index, s.revision,
            s.id, tuple(s.replaces), s.values, s.final)


def _check_columns(batch):
    """The columns' own promises: lengths agree, int64 keys exactly when
    every key of the table is an int."""
    assert isinstance(batch, StreamBatch)
    t, late = batch
    for name in t.columns:
        assert len(t[name]) == len(t), name
    for table in (t, late):
        if len(table):
            ints = all(type(_key(k)) is int for k in table.key)
            assert (table.key.dtype == np.int64) == ints, (table.key.dtype, ints)
    assert isinstance(t.replaces, ListColumn)
    assert t.id.dtype == np.uint64 and t.final.dtype == bool


def _split(items):
    sessions = [_session_tuple(x) for x in items if isinstance(x, StreamSession)]
    late = [(_key(x.key), x.time, x.value) for x in items if isinstance(x, LateEvent)]
    return sessions, late


def _run_pair(obj, col, f):
    """f on the object-mode and the columnar stream: (result, result) or,
    when either raises LateEventError, both must, with the same event at
    the same position: (error, error)."""
    out = []
    for s in (obj, col):
        try:
            out.append((f(s), None))
        except sessionize.LateEventError as e:
            out.append((None, e))
    (got_o, err_o), (got_c, err_c) = out
    assert (err_o is None) == (err_c is None), (err_o, err_c)
    if err_o is not None:
        assert tuple(err_c.event) == tuple(err_o.event)
        assert err_c.position == err_o.position
    return got_o, err_o, got_c, err_c


def _call(obj, col, f):
    """Runs f on both; returns the batch (None when both raised)."""
    got_o, err_o, got_c, err_c = _run_pair(obj, col, f)
    if err_o is not None:
        want, _ = _split(err_o.sessions)
        got = [_session_tuple(s) for s in err_c.sessions.rows()]
        assert got == want
        return None
    want_s, want_l = _split(got_o)
    _check_columns(got_c)
    got_s = [_session_tuple(s) for s in got_c.sessions.rows()]
    assert got_s == want_s
    got_l = [(_key(r.key), r.time, r.value) for r in got_c.late.rows()]
    assert got_l == want_l
    return got_c


def _run_both(params, ops, pickle_at=()):
    obj = Sessionizer(**params)
    col = Sessionizer(**params, columnar=True)
    n = 0
    for i, op in enumerate(ops):
        if i in pickle_at:
            obj = pickle.loads(pickle.dumps(obj))
            col = pickle.loads(pickle.dumps(col))
        if op[0] == "push":
            v = n
            n += 1
            b = _call(obj, col, lambda s: s.push(op[1], op[2], v))
            if b is not None and len(b.late):
                assert b.late.position.tolist() == [0] * len(b.late)
        elif op[0] == "many":
            ks = [k for k, _ in op[1]]
            ts = [t for _, t in op[1]]
            vs = list(range(n, n + len(ks)))
            n += len(ks)
            b = _call(obj, col, lambda s: s.push_many(ks, ts, vs))
            if b is not None:  # each late event's value is its number
                for r in b.late.rows():
                    assert r.value == vs[r.position] and r.time == ts[r.position]
        else:
            _call(obj, col, lambda s: s.advance(op[1]))
        assert col.late_count == obj.late_count
        assert col.stats() == obj.stats()
    _call(obj, col, lambda s: s.flush())


@settings(max_examples=examples(200), **SETTINGS)
@given(data=st.data(), params=stream_params())
def test_columnar_matches_object_mode(data, params):
    ops = data.draw(scripts(params))
    pickle_at = data.draw(st.sets(st.integers(0, len(ops)), max_size=2))
    _run_both(params, ops, pickle_at)


@settings(max_examples=examples(60), **SETTINGS)
@given(data=st.data(), params=stream_params(emit="update"))
def test_columnar_update_mode_with_int_keys(data, params):
    # only int keys: the key column is int64 throughout
    ops = data.draw(scripts(params, key_pool=[0, 1, -7]))
    _run_both(params, ops)


def test_chunked_int_arrays_match_batch_sessions():
    """Numpy chunks of a time-ordered log, through the columnar mode, give
    exactly sessions() of the whole log."""
    rng = np.random.default_rng(5)
    n = 20_000
    keys = rng.integers(0, 500, n).astype(np.int64)
    times = np.sort(rng.integers(0, 2_000_000, n)).astype(np.int64)
    z = Sessionizer(600, delay=0, columnar=True)
    parts = [z.push_many(keys[i:i + 1000], times[i:i + 1000]).sessions
             for i in range(0, n, 1000)]
    parts.append(z.flush().sessions)
    assert all(p.key.dtype == np.int64 for p in parts)
    got = sorted(zip(*(np.concatenate([p[c] for p in parts]).tolist()
                       for c in ("key", "start", "end", "count"))))
    want = sessionize.sessions(keys, times, gap=600)
    assert got == sorted(zip(want.key.tolist(), want.start.tolist(), want.end.tolist(),
                             want.count.tolist()))


def test_string_keys_are_the_callers_objects():
    keys = ["u1", "u2", "u1"]
    z = Sessionizer(5, columnar=True)
    z.push_many(keys, [0, 1, 2])
    t = z.flush().sessions
    assert t.key.dtype == object
    assert sorted(t.key.tolist()) == ["u1", "u2"]
    assert any(k is keys[0] for k in t.key)  # referenced, not copied


def test_times_in_the_callers_type():
    t0 = np.datetime64("2024-01-01T00:00:00", "ms")
    z = Sessionizer(np.timedelta64(5, "m"), columnar=True)
    z.push_many([1, 1], np.array([t0, t0 + np.timedelta64(1, "m")]))
    t = z.flush().sessions
    assert t.start.dtype == np.dtype("M8[ms]") and t.start[0] == t0
    z = Sessionizer(2.5, columnar=True)
    z.push_many([1, 1], [0.5, 1.5])
    t = z.flush().sessions
    assert t.end.dtype == np.float64 and t.end.tolist() == [1.5]
    tz = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
    d0 = datetime.datetime(2024, 1, 1, tzinfo=tz)
    z = Sessionizer(datetime.timedelta(minutes=5), columnar=True)
    z.push("k", d0)
    t = z.flush().sessions
    assert t.time_zone == "+05:30"
    assert t.start.dtype == np.dtype("M8[us]")
    assert t.to_pandas().start[0] == d0


def test_collected_values_and_arrow_export():
    pa = pytest.importorskip("pyarrow")
    z = Sessionizer(5, collect=True, columnar=True)
    z.push_many(["a", "a", "b"], [0, 1, 2], values=["x", "y", "z"])
    t = z.flush().sessions
    assert "values" in t.columns
    assert [tuple(v) for v in t.values] == [("x", "y"), ("z",)]
    at = pa.table(t)
    assert at.column("values").to_pylist() == [["x", "y"], ["z"]]
    assert at.column("start").type == pa.int64()
    assert at.num_rows == 2
    back = pickle.loads(pickle.dumps(t))
    assert [tuple(v) for v in back.values] == [("x", "y"), ("z",)]
    assert back.key.tolist() == ["a", "b"]


def test_empty_batches():
    for z in (Sessionizer(5, columnar=True), SearchSessionizer(5, columnar=True)):
        b = z.flush()
        assert isinstance(b, StreamBatch) and not b
        assert len(b.sessions) == 0 and len(b.late) == 0
    z = Sessionizer(5, columnar=True)
    b = z.push_many(np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert isinstance(b.sessions, StreamSessionTable) and isinstance(b.late, LateTable)
    assert not b


def test_late_table_and_raise():
    z = Sessionizer(5, delay=0, columnar=True)
    z.push_many([1], [100])
    b = z.push_many(["x", 1, "y"], [1, 101, 2], values=["v0", "v1", "v2"])
    assert b.late.position.tolist() == [0, 2]
    assert b.late.value.tolist() == ["v0", "v2"]
    assert b.late.key.tolist() == ["x", "y"]
    z = Sessionizer(5, delay=0, on_late="drop", columnar=True)
    z.push_many([1], [100])
    assert len(z.push_many([2], [1]).late) == 0 and z.late_count == 1
    z = Sessionizer(5, delay=0, on_late="raise", columnar=True)
    z.push_many([1, 2], [100, 200])
    with pytest.raises(sessionize.LateEventError) as e:
        z.push_many([3, 4], [300, 7])
    assert e.value.position == 1 and e.value.event == LateEvent(4, 7, None)
    assert isinstance(e.value.sessions, StreamSessionTable)
    assert e.value.sessions.key.tolist() == [2]  # 1 closed in the call before


# ---- SearchSessionizer ----------------------------------------------------

KINDS = ["app_open", "search", "results", "click", "app_close", "timeout"]


@st.composite
def ctr_scripts(draw):
    gap = draw(st.sampled_from([None, 3, 10]))
    params = dict(gap=gap, delay=draw(st.sampled_from([0, 0, 2, 8])),
                  inclusive=draw(st.booleans()),
                  on_late=draw(st.sampled_from(["return", "drop", "raise"])))
    ops, t = [], 0
    for _ in range(draw(st.integers(1, 12))):
        what = draw(st.sampled_from(["push", "many", "many", "advance"]))
        if what == "advance":
            ops.append(("advance", t + draw(st.integers(-5, 20))))
            continue
        evs = []
        for _ in range(1 if what == "push" else draw(st.integers(0, 12))):
            t += draw(st.integers(-6, 6))
            evs.append((draw(st.sampled_from(KEY_POOL[:3])), draw(st.sampled_from(KINDS)),
                        t, draw(st.sampled_from([None, "q1", "q2"]))))
        ops.append((what, evs))
    return params, ops


def _ctr_rows(items):
    rows = [tuple(_key(v) for v in r) for r in items if not isinstance(r, LateEvent)]
    late = [(_key(x.key), x.time, x.value) for x in items if isinstance(x, LateEvent)]
    return rows, late


def _ctr_call(obj, col, f):
    got_o, err_o, got_c, err_c = _run_pair(obj, col, f)
    if err_o is not None:
        assert [tuple(_key(v) for v in r) for r in err_c.sessions.rows()] \
            == _ctr_rows(err_o.sessions)[0]
        return
    rows, late = _ctr_rows(got_o)
    assert [tuple(_key(v) for v in r) for r in got_c.sessions.rows()] == rows
    assert [(_key(r.key), r.time, r.value) for r in got_c.late.rows()] == late


@settings(max_examples=examples(150), **SETTINGS)
@given(case=ctr_scripts(), pickle_at=st.sets(st.integers(0, 12), max_size=2))
def test_search_columnar_matches_object_mode(case, pickle_at):
    params, ops = case
    obj = SearchSessionizer(**params)
    col = SearchSessionizer(**params, columnar=True)
    for i, op in enumerate(ops):
        if i in pickle_at:
            obj = pickle.loads(pickle.dumps(obj))
            col = pickle.loads(pickle.dumps(col))
        if op[0] == "advance":
            _ctr_call(obj, col, lambda s: s.advance(op[1]))
        elif op[0] == "push":
            k, kind, t, v = op[1][0]
            _ctr_call(obj, col, lambda s: s.push(k, kind, t, v))
        else:
            ks, kinds, ts, vs = (list(c) for c in zip(*op[1])) if op[1] else ([],) * 4
            _ctr_call(obj, col, lambda s: s.push_many(ks, kinds, ts or None, vs or None)
                      if ks else s.push_many([], []))
        assert col.late_count == obj.late_count
    _ctr_call(obj, col, lambda s: s.flush())


def test_search_columnar_without_times_and_ctr():
    z = SearchSessionizer(columnar=True)
    z.push_many(["u", "u", "u", "u"], ["search", "results", "click", "search"],
                values=["q1", None, None, "q2"])
    t = z.flush().sessions
    assert t.time.tolist() == [None, None]
    assert t.clicked.tolist() == [True, False] and t.ctr == 0.5
    assert t.value.tolist() == ["q1", "q2"]


class _LateValueFails:
    """A values sequence whose item `bad` raises: read only when that event
    is reported late."""

    def __init__(self, n, bad):
        self.n, self.bad = n, bad

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            raise LookupError("no value here")
        return i


@pytest.mark.parametrize("columnar", [False, True])
def test_output_that_fails_leaves_a_consistent_state(columnar):
    """A call whose output cannot be built (the caller's values raise) still
    drops the handles it made: the state pickles and restores, and goes on
    as a stream that never saw the failed call's unheld key."""
    z = Sessionizer(5, delay=0, columnar=columnar)
    z.push_many([1], [100])
    with pytest.raises(LookupError):
        z.push_many(["x", "never-held"], [101, 1], values=_LateValueFails(2, 1))
    back = pickle.loads(pickle.dumps(z))
    assert back.stats()["keys"] == z.stats()["keys"] == 2  # 1 and "x"
    for s in (z, back):
        out = s.flush()
        keys = sorted(map(str, (out.sessions.key if columnar else [x.key for x in out])))
        assert keys == ["1", "x"]


# ---- chunks factorized first (Arrow columns, long lists) -------------------

@settings(max_examples=examples(100), **SETTINGS)
@given(data=st.data(), params=stream_params())
def test_factorized_chunks_match_the_reference(data, params):
    """The property scripts again, every chunk's keys factorized before the
    binding maps them, however short (test_stream_props checks the same
    scripts key by key against the reference model)."""
    import sessionize._sessionizer as m

    ops = data.draw(scripts(params))
    saved, m._FACTORIZE_MIN = m._FACTORIZE_MIN, 0
    try:
        run_pair(params, ops, data.draw(st.sets(st.integers(0, len(ops)), max_size=2)))
    finally:
        m._FACTORIZE_MIN = saved


def _arrow_forms():
    pa = pytest.importorskip("pyarrow")
    forms = {
        "string": lambda ks: pa.array(ks, pa.string()),
        "large_string": lambda ks: pa.array(ks, pa.large_string()),
        "string_view": lambda ks: pa.array(ks, pa.string_view()),
        "dictionary": lambda ks: pa.array(ks, pa.string()).dictionary_encode(),
        "chunked": lambda ks: pa.chunked_array([ks[:len(ks) // 3], ks[len(ks) // 3:]],
                                               pa.string()),
        "sliced": lambda ks: pa.array(["pad"] + ks, pa.string()).slice(1),
    }
    try:
        import polars as pl

        forms["polars"] = lambda ks: pl.Series(ks)
    except ImportError:
        pass
    try:
        import pandas as pd

        forms["pandas string[pyarrow]"] = lambda ks: pd.Series(ks, dtype="string[pyarrow]")
    except ImportError:
        pass
    return forms


def _ms(t) -> int:
    if isinstance(t, (np.datetime64, datetime.datetime)):
        return int(np.datetime64(t, "ms").astype(np.int64))
    return int(t)


@pytest.mark.parametrize("columnar", [False, True])
def test_arrow_chunks_match_lists(columnar):
    """Arrow key columns of every string layout, and Arrow times, give what
    the same keys and times as lists give, chunk after chunk."""
    pa = pytest.importorskip("pyarrow")
    rng = np.random.default_rng(9)
    n = 3000
    keys = [f"user-{k:04d}" for k in rng.integers(0, 150, n)]
    times = np.sort(rng.integers(0, 50_000, n)).astype(np.int64)

    def run(make_keys, make_times, gap=300, delay=20):
        z = Sessionizer(gap, delay=delay, columnar=columnar)
        out = []
        for i in range(0, n, 700):
            out.append(z.push_many(make_keys(keys[i:i + 700]), make_times(times[i:i + 700])))
        out.append(z.flush())
        rows = []
        for b in out:
            items = b.sessions.rows() if columnar else b
            rows += [(str(s.key), _ms(s.start), _ms(s.end), s.count) for s in items]
        return rows

    want = run(list, lambda t: t.tolist())
    assert len(want) > 150
    for name, form in _arrow_forms().items():
        assert run(form, pa.array) == want, name
    ms = run(lambda ks: pa.array(ks), lambda t: pa.array(t.astype("M8[ms]")),
             np.timedelta64(300, "ms"), np.timedelta64(20, "ms"))
    assert ms == want  # datetime64[ms] times, compared as their int64


def test_arrow_keys_with_a_null_are_refused():
    pa = pytest.importorskip("pyarrow")
    z = Sessionizer(5)
    with pytest.raises(sessionize.SessionizeError, match=r"keys\[1\]"):
        z.push_many(pa.array(["a", None, "b"]), [1, 2, 3])
    assert z.stats()["keys"] == 0


def test_long_chunk_with_a_failing_key_names_it():
    class Bad:
        def __hash__(self):
            raise ValueError("no hash")

    keys = [f"k{i}" for i in range(100)]
    keys[70] = Bad()
    z = Sessionizer(5)
    with pytest.raises(sessionize.SessionizeError, match=r"keys\[70\]") as e:
        z.push_many(keys, list(range(100)))
    assert isinstance(e.value.__cause__, ValueError)
    assert z.stats()["keys"] == 0
