"""SearchSessionizer and search_ctr_stream (the streaming form of search CTR).

- random scripts (keys of two types, kinds, with and without times, gaps,
  delays, disorder past the delay, chunks into push / push_many /
  push_events, advances, a pickle round trip anywhere, flush or not):
  every call's output == the seeds' logic streamed (tests/ctr_stream_reference.py),
  record for record;
- batch == streaming: with nothing late, the rows up to a flush are
  search_ctr(flush=True)'s, and without a flush (after advance(max time))
  search_ctr(flush=False)'s, grouped into the same sessions;
- both Bytewax seeds through the streaming form;
- late events under every on_late; bad input names the argument and position.
"""

from __future__ import annotations

import dataclasses
import math
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sessionize
from sessionize import SearchSessionizer, StreamSearchRow, search_ctr_stream
from sessionize import events as ev
from sessionize._sessionizer import LateEvent

import ctr_reference as ref
from ctr_stream_reference import Model
from test_stream_api import (BAD_KEY_CASES, BAD_KEY_IDS, Breakable, BreaksBefore,
                             Interrupts, Named, check_bad_key_error)

KIND_WEIGHTS = [0, 1, 1, 1, 2, 3, 3, 3, 3, 4, 5]
KEYS = [0, 1, 2, "a", ("t", 1)]


@st.composite
def scripts(draw):
    times = draw(st.booleans())
    gap = draw(st.one_of(st.none(), st.integers(1, 12))) if times else None
    delay = draw(st.integers(0, 6)) if times else 0
    inclusive = draw(st.booleans())
    n = draw(st.integers(0, 40))
    keys = draw(st.lists(st.sampled_from(KEYS[: draw(st.integers(1, 5))]),
                         min_size=n, max_size=n))
    kinds = draw(st.lists(st.sampled_from(KIND_WEIGHTS), min_size=n, max_size=n))
    ts = []
    now = 100
    disorder = draw(st.integers(0, 3))
    for _ in range(n):
        now += draw(st.integers(0, 4))
        back = draw(st.integers(0, delay + (3 if disorder == 3 else 0)))
        ts.append(now - back)
    # the script: chunks, each pushed one way, advances and one pickle
    ops, i = [], 0
    while i < n:
        size = draw(st.integers(1, 6))
        how = draw(st.sampled_from(["push", "many", "events"]))
        ops.append(("chunk", i, min(n, i + size), how))
        i += size
        if times and draw(st.integers(0, 5)) == 0:
            ops.append(("advance", now - draw(st.integers(0, 8))))
        if draw(st.integers(0, 6)) == 0:
            ops.append(("pickle",))
    flush = draw(st.booleans())
    return dict(times=times, gap=gap, delay=delay, inclusive=inclusive, keys=keys,
                kinds=kinds, ts=ts if times else None, ops=ops, flush=flush)


def _event(key, kind, t, i):
    cls = ref.KIND_CLASSES[kind]
    args = [key] + ([f"q{i}"] if kind == 1 else [["r"]] if kind == 2 else
                    ["item"] if kind == 3 else [])
    return cls(*args, time=t)


def _records(out):
    recs = []
    for r in out:
        if isinstance(r, StreamSearchRow):
            recs.append(("row", r.key, r.session, r.search, r.time, r.clicked, r.clicks))
        else:
            assert isinstance(r, LateEvent)
            recs.append(("late", r.key, r.time))
    return recs


def _run(sc, sz, model):
    """Runs the script on both; asserts every call's output is the model's."""
    ts = sc["ts"]
    values = {}
    for op in sc["ops"]:
        if op[0] == "chunk":
            _, a, b, how = op
            evs = [(sc["keys"][i], sc["kinds"][i], None if ts is None else ts[i])
                   for i in range(a, b)]
            if how == "push":  # one call per event: one model call per event
                expect = [r for e in evs for r in model.push([e])]
            else:
                expect = model.push(evs)
            if how == "push":
                out = []
                for i, (k, kind, t) in enumerate(evs):
                    out += sz.push(k, kind, t, f"q{a + i}" if kind == 1 else None)
            elif how == "many":
                out = sz.push_many([k for k, _, _ in evs],
                                   np.array([kd for _, kd, _ in evs], dtype=np.uint8),
                                   None if ts is None else np.array(ts[a:b]),
                                   [f"q{a + i}" for i in range(b - a)])
            else:
                out = sz.push_events([_event(k, kd, t, a + i)
                                      for i, (k, kd, t) in enumerate(evs)])
            assert _records(out) == expect
            for r in out:
                if isinstance(r, StreamSearchRow):
                    values[r.search] = r.value
        elif op[0] == "advance":
            assert _records(sz.advance(op[1])) == model.advance(op[1])
        else:
            sz = pickle.loads(pickle.dumps(sz))
    if sc["flush"]:
        out = sz.flush()
        assert _records(out) == model.flush()
        for r in out:
            values[r.search] = r.value
        assert sz.watermark == math.inf
    assert sz.late_count == model.late_count
    # every row carries its SEARCH's value (the query)
    assert all(v == f"q{o}" for o, v in values.items())
    return sz


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(scripts())
def test_streaming_is_the_seeds_logic_streamed(sc):
    sz = SearchSessionizer(sc["gap"], inclusive=sc["inclusive"], delay=sc["delay"])
    model = Model(sc["gap"], sc["inclusive"], sc["delay"], sc["times"])
    sz = _run(sc, sz, model)
    if sc["flush"]:
        st_ = sz.stats()
        assert st_["keys"] == 0 and st_["open_searches"] == 0 and st_["buffered"] == 0



def test_a_late_event_of_a_key_freed_in_the_same_call_and_int_keys_beside_handles():
    """Regression (hypothesis, in CI's sanitizer pass): the binding forgot a
    freed key's handle while turning the core's output into objects, so a
    late event of that key later in the same output had no key ('a key
    handle is missing'); and an int key's freeing forgot the object key
    whose handle equals the int."""
    sz = SearchSessionizer(None, inclusive=False, delay=1)
    for _ in range(4):
        sz.push(0, sessionize.APP_OPEN, 100)
    # 'a' opens at 100 and, holding no search, is freed once the watermark
    # (101 - 1) passes it; its event at 99 is then late, in the same output
    out = sz.push_many(["a", 0, "a"], [sessionize.APP_OPEN] * 3, [100, 101, 99])
    assert out == [LateEvent("a", 99, None)]
    # 'b' takes a handle; int key 1 (equal to it or not) comes and goes
    sz.push("b", sessionize.APP_OPEN, 102)
    sz.push("b", sessionize.SEARCH, 102, "q")
    for k in (0, 1, 2):
        sz.push(k, sessionize.APP_OPEN, 103)
    sz.advance(200)
    rows = sz.flush()
    assert [(r.key, r.value) for r in rows] == [("b", "q")]
    assert sz.late_count == 1

def _grouped(rows):
    """{(session's searches as (key, search, clicked, clicks)), ...}"""
    sessions = {}
    for key, session, search, clicked, clicks in rows:
        sessions.setdefault(session, []).append((repr(key), search, bool(clicked),
                                                 int(clicks)))
    return sorted(sorted(s) for s in sessions.values())


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(scripts())
def test_batch_equals_streaming_when_nothing_is_late(sc):
    ts = sc["ts"]
    if ts is not None:
        # nothing late: within the delay of the largest time so far
        top, fixed = -10**9, []
        for t in ts:
            t = max(t, top - sc["delay"])
            top = max(top, t)
            fixed.append(t)
        ts = sc["ts"] = fixed
        sc["ops"] = [op for op in sc["ops"] if op[0] != "advance"]
    sz = SearchSessionizer(sc["gap"], inclusive=sc["inclusive"], delay=sc["delay"])
    model = Model(sc["gap"], sc["inclusive"], sc["delay"], sc["times"])
    flush = sc["flush"]
    sc["flush"] = False
    sz = _run(sc, sz, model)
    rows = []
    # (the rows so far were checked against the model; here against batch)
    sz2 = SearchSessionizer(sc["gap"], inclusive=sc["inclusive"], delay=sc["delay"])
    n = len(sc["keys"])
    out = sz2.push_many(sc["keys"], np.array(sc["kinds"], dtype=np.uint8),
                        None if ts is None else np.array(ts))
    if flush:
        out += sz2.flush()
    elif ts is not None and n:
        out += sz2.advance(max(ts))
    assert sz2.late_count == 0
    rows = [(r.key, r.session, r.search, r.clicked, r.clicks) for r in out]
    keys = np.empty(n, dtype=object)
    keys[:] = sc["keys"]
    table = sessionize.search_ctr(list(keys), np.array(sc["kinds"], dtype=np.uint8),
                                  None if ts is None else np.array(ts, dtype=np.int64),
                                  gap=sc["gap"] if n else None, flush=flush,
                                  inclusive=sc["inclusive"])
    batch = list(zip(table.key, table.session.tolist(), table.search.tolist(),
                     table.clicked.tolist(), table.clicks.tolist()))
    assert _grouped(rows) == _grouped(batch)
    if flush and (ts is None or sc["delay"] == 0 or ts == sorted(ts)):
        # one chunk in time order: the batch's rows, in order, numbers and all
        assert [(k, s, q, bool(c), int(x)) for k, s, q, c, x in rows] == \
               [(k, s, q, bool(c), int(x)) for k, s, q, c, x in batch]


# ---- the seeds ---------------------------------------------------------------

SEED = [ev.AppOpen(1), ev.Search(1, "dogs"), ev.Results(1, ["fido", "rover", "buddy"]),
        ev.ClickResult(1, "rover"), ev.Search(1, "cats"),
        ev.Results(1, ["fluffy", "burrito", "kathy"]), ev.ClickResult(1, "fluffy"),
        ev.AppOpen(2), ev.ClickResult(1, "kathy"), ev.Search(2, "fruit"),
        ev.AppClose(1), ev.AppClose(2)]


def test_reduce_seed_streams_1_1_0_in_close_order():
    rows = list(search_ctr_stream(SEED, flush=False))
    assert [1.0 if r.clicked else 0.0 for r in rows] == [1.0, 1.0, 0.0]
    assert [r.value for r in rows] == ["dogs", "cats", "fruit"]
    # pushed one at a time, each row comes out at its AppClose
    sz = SearchSessionizer()
    outs = [sz.push(e.user, type(e).__name__.upper().replace("CLICKRESULT", "CLICK")
                    .replace("APPOPEN", "APP_OPEN").replace("APPCLOSE", "APP_CLOSE"),
                    None, getattr(e, "query", None)) for e in SEED]
    assert [len(o) for o in outs] == [0] * 10 + [2, 1]
    assert sz.stats()["keys"] == 0


def test_window_seed_streams_the_multiset():
    timed = [dataclasses.replace(e, time=1_700_000_000.0 + i) for i, e in enumerate(SEED)]
    rows = list(search_ctr_stream(timed, gap=5))
    assert sorted(1.0 if r.clicked else 0.0 for r in rows) == [0.0, 1.0, 1.0]
    assert {r.value for r in rows} == {"dogs", "cats", "fruit"}


# ---- late events ----------------------------------------------------------------

@pytest.mark.parametrize("on_late", ["return", "drop", "raise"])
def test_late_events_per_on_late(on_late):
    sz = SearchSessionizer(gap=10, delay=2, on_late=on_late)
    assert sz.push_many([1, 1, 2], ["SEARCH", "CLICK", "SEARCH"], [100, 101, 110],
                        ["a", None, "b"]) == []
    assert sz.watermark == 108
    if on_late == "raise":
        with pytest.raises(sessionize.LateEventError) as e:
            sz.push_many([3, 4], ["SEARCH", "CLICK"], [50, 200], ["late", None])
        assert e.value.event == LateEvent(3, 50, "late") and e.value.position == 0
        assert sz.late_count == 1
        assert sz.stats()["events"] == 4  # the event after it was not consumed
        return
    out = sz.push_many([3, 4], ["SEARCH", "CLICK"], [50, 200], ["late", None])
    rows = [r for r in out if isinstance(r, StreamSearchRow)]
    lates = [r for r in out if isinstance(r, LateEvent)]
    assert sz.late_count == 1
    assert lates == ([LateEvent(3, 50, "late")] if on_late == "return" else [])
    # the watermark (198) is past both sessions' gaps
    assert sorted((r.key, r.clicks, r.value) for r in rows) == [(1, 1, "a"), (2, 0, "b")]
    # after flush every event is late
    sz.flush()
    out = sz.push(1, "SEARCH", 300)
    assert sz.late_count == 2 and (out == [LateEvent(1, 300, None)]) == (on_late == "return")


def test_times_of_every_kind_come_back_in_their_type():
    import datetime
    t0 = datetime.datetime(2024, 1, 1, 12, 0)
    sz = SearchSessionizer(gap=datetime.timedelta(minutes=30))
    sz.push("u", "SEARCH", t0, "q")
    out = sz.push("u", "SEARCH", t0 + datetime.timedelta(hours=1))
    assert out[0].time == t0 and out[0].value == "q"
    sz = SearchSessionizer(gap="30min")
    out = sz.push_many(["u", "u"], ["SEARCH", "SEARCH"],
                       np.array(["2024-01-01T00:00", "2024-01-01T02:00"], dtype="M8[s]"))
    assert out[0].time == np.datetime64("2024-01-01T00:00", "s")
    sz = pickle.loads(pickle.dumps(sz))
    assert sz.flush()[0].time == np.datetime64("2024-01-01T02:00", "s")


# ---- bad input -----------------------------------------------------------------

def test_bad_input_names_the_argument_and_position():
    sz = SearchSessionizer()
    with pytest.raises(sessionize.SessionizeError, match=r"kind: unknown event kind 'NOPE'"):
        sz.push(1, "NOPE")
    with pytest.raises(sessionize.SessionizeError, match=r"kinds\[2\]"):
        sz.push_many([1, 2, 3], ["SEARCH", "CLICK", 9])
    with pytest.raises(sessionize.SessionizeError, match=r"keys: length 2 differs"):
        sz.push_many([1, 2], ["SEARCH", "CLICK", "CLICK"])
    with pytest.raises(sessionize.SessionizeError, match=r"values: length"):
        sz.push_many([1, 2], ["SEARCH", "CLICK"], None, ["x"])
    with pytest.raises(TypeError, match=r"keys\[1\]: unhashable"):
        sz.push_many([1, [2]], ["SEARCH", "CLICK"])
    with pytest.raises(TypeError, match="no times"):
        sz.push(1, "SEARCH", 5)
    with pytest.raises(sessionize.SessionizeError, match="watermark: .*no times"):
        sz.advance(5)
    with pytest.raises(sessionize.SessionizeError, match="gap: the gap rule needs times"):
        SearchSessionizer(gap=5).push(1, "SEARCH")
    with pytest.raises(sessionize.SessionizeError, match="delay: needs times"):
        SearchSessionizer(delay=3).push(1, "SEARCH")
    with pytest.raises(sessionize.SessionizeError, match="delay: must be >= 0"):
        SearchSessionizer(gap=5, delay=-1)
    with pytest.raises(sessionize.SessionizeError, match="gap: must be > 0"):
        SearchSessionizer(gap=0)
    with pytest.raises(sessionize.SessionizeError, match="on_late: must be one of"):
        SearchSessionizer(on_late="ignore")
    timed = SearchSessionizer(gap=5)
    timed.push(1, "SEARCH", 10)
    with pytest.raises(TypeError, match="time: expected an int"):
        timed.push(1, "CLICK")
    with pytest.raises(sessionize.SessionizeError, match=r"times\[1\]: time \+ gap overflows"):
        timed.push_many([1, 1], ["CLICK", "CLICK"], np.array([11, 2**63 - 2]))
    with pytest.raises(TypeError, match=r"events\[1\]: .* is not an event class"):
        list(search_ctr_stream([ev.Search(1, "q"), object()]))
    assert timed.stats()["events"] == 1  # failed calls consumed nothing


# Keys whose own __hash__ or __eq__ raise (issue 20): the cases and checks of
# test_stream_api.py, on SearchSessionizer.

def _bad_key_prefix(sz):
    return sz.push_many([Named("held"), "s", 9], ["SEARCH"] * 3, [0, 1, 2],
                        ["q0", "q1", "q2"])


def _bad_key_chunk(n):
    kinds = ["SEARCH" if i % 2 == 0 else "CLICK" for i in range(n)]
    values = [f"v{i}" if i % 2 == 0 else None for i in range(n)]
    return kinds, list(range(3, 3 + n)), values


def _drop(xs, pos):
    return xs[:pos] + xs[pos + 1:]


@pytest.mark.parametrize("case", BAD_KEY_CASES, ids=BAD_KEY_IDS)
def test_push_many_key_whose_hash_or_eq_raises(case):
    _, make, pos, exc_type, message = case
    keys = make()
    bad = keys[pos]
    kinds, times, values = _bad_key_chunk(len(keys))
    sz = SearchSessionizer(gap=5)
    _bad_key_prefix(sz)
    stats, handles = sz.stats(), dict(sz._getstate()[1])
    with pytest.raises(exc_type) as ei:
        sz.push_many(keys, kinds, times, values)
    check_bad_key_error(ei, bad, exc_type, message, f"keys[{pos}]")
    # as it was: no handle made for keys[:pos] is left, nothing consumed
    assert sz.stats() == stats
    assert sz._getstate()[1] == handles
    restored = pickle.loads(pickle.dumps(sz))  # the key map matches the core
    good = [_drop(x, pos) for x in (keys, kinds, times, values)]
    fresh = SearchSessionizer(gap=5)
    _bad_key_prefix(fresh)
    expected = fresh.push_many(*good) + fresh.flush()
    assert len(expected) >= 3
    for x in (sz, restored):
        assert x.push_many(*good) + x.flush() == expected


@pytest.mark.parametrize("case", BAD_KEY_CASES, ids=BAD_KEY_IDS)
def test_push_key_whose_hash_or_eq_raises(case):
    _, make, pos, exc_type, message = case
    keys = make()
    bad = keys[pos]
    sz = SearchSessionizer(gap=5)
    _bad_key_prefix(sz)
    for k in keys[:pos]:
        sz.push(k, "SEARCH", 3, "q")
    stats, handles = sz.stats(), dict(sz._getstate()[1])
    with pytest.raises(exc_type) as ei:
        sz.push(bad, "SEARCH", 4, "q")
    check_bad_key_error(ei, bad, exc_type, message, "key")
    assert sz.stats() == stats
    assert sz._getstate()[1] == handles
    fresh = SearchSessionizer(gap=5)
    _bad_key_prefix(fresh)
    for k in keys[:pos]:
        fresh.push(k, "SEARCH", 3, "q")
    for x in (sz, fresh):
        for k in keys[pos + 1:]:
            x.push(k, "CLICK", 4)
    assert sz.flush() == fresh.flush()


def test_push_many_cleanup_that_fails_keeps_the_key_error():
    victim = Breakable("v")
    keys = [Named("a"), victim, BreaksBefore(victim), Named("b")]
    kinds, times, values = _bad_key_chunk(4)
    sz = SearchSessionizer(gap=5)
    _bad_key_prefix(sz)
    stats = sz.stats()
    with pytest.raises(sessionize.SessionizeError) as ei:
        sz.push_many(keys, kinds, times, values)
    check_bad_key_error(ei, keys[2], sessionize.SessionizeError,
                        "hashing or comparing a key of type BreaksBefore raised "
                        "KeyFault: cannot hash", "keys[2]")
    assert sz.stats() == stats
    victim.broken = False
    assert set(sz._getstate()[1].values()) == {Named("held"), "s", victim}
    fresh = SearchSessionizer(gap=5)
    _bad_key_prefix(fresh)
    good = [_drop(x, 2) for x in (keys, kinds, times, values)]
    assert sz.push_many(*good) + sz.flush() == fresh.push_many(*good) + fresh.flush()


def test_push_many_key_raising_a_base_exception_passes_it_as_is():
    sz = SearchSessionizer(gap=5)
    _bad_key_prefix(sz)
    handles = dict(sz._getstate()[1])
    with pytest.raises(KeyboardInterrupt) as ei:
        sz.push_many([Named("a"), Interrupts()], ["SEARCH", "CLICK"], [3, 4])
    assert ei.value.__cause__ is None
    assert sz._getstate()[1] == handles
