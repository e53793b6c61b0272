"""search_ctr against the seeds' own logic (tests/ctr_reference.py).

- any events, with and without times, gap, flush, inclusive, in any arrival
  order: search_ctr == reference_ctr, row for row;
- no times, no Timeout: search_ctr(events, flush=False) == the first seed's
  dataflow, in order;
- time-ordered events, no AppClose/Timeout: search_ctr(events, gap=g) == the
  second seed's dataflow, as a multiset (Bytewax gives no order across users);
- every input form (events, lists, arrays of ints or names, every key kind)
  gives the same rows;
- with bytewax installed, its dataflows on random events agree too.
(Batch == streaming: tests/test_ctr_stream.py.)
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import sessionize
from sessionize import events as ev

import ctr_reference as ref

KIND_WEIGHTS = [0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 5]  # realistic mix


@st.composite
def ctr_inputs(draw, times=None, closes=True, timeouts=True, max_n=50):
    n = draw(st.integers(0, max_n))
    n_users = draw(st.integers(1, 5))
    pool = [k for k in KIND_WEIGHTS
            if (closes or k not in (4, 5)) and (timeouts or k != 5)]
    users = draw(st.lists(st.integers(0, n_users - 1), min_size=n, max_size=n))
    kinds = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    with_times = draw(st.booleans()) if times is None else times
    gap = None
    t = None
    if with_times:
        gap = draw(st.one_of(st.none(), st.integers(1, 8)))
        g = gap or 4
        steps = draw(st.lists(st.sampled_from([0, 1, g - 1, g, g + 1, 2 * g, 3]),
                              min_size=n, max_size=n))
        clock: dict[int, int] = {}
        t = []
        for u, d in zip(users, steps):
            clock[u] = clock.get(u, draw(st.integers(-5, 5))) + d
            t.append(clock[u])
        order = draw(st.sampled_from(["per-key", "time", "shuffled"]))
        idx = list(range(n))
        if order == "time":
            idx.sort(key=lambda i: t[i])
        elif order == "shuffled":
            idx = draw(st.permutations(idx))
        users = [users[i] for i in idx]
        kinds = [kinds[i] for i in idx]
        t = [t[i] for i in idx]
    flush = draw(st.booleans())
    inclusive = draw(st.booleans())
    return users, kinds, t, gap, flush, inclusive


def rows(table):
    return list(zip(table.key.tolist(), table.session.tolist(), table.search.tolist(),
                    table.clicked.tolist(), table.clicks.tolist()))


def run(users, kinds, t, gap, flush, inclusive):
    times = None if t is None else np.array(t, dtype=np.int64)
    return sessionize.search_ctr(np.array(users, dtype=np.int64),
                                 np.array(kinds, dtype=np.uint8), times, gap=gap,
                                 flush=flush, inclusive=inclusive)


def to_events(users, kinds, t=None):
    out = []
    for i, (u, k) in enumerate(zip(users, kinds)):
        cls = ref.KIND_CLASSES[k]
        extra = [f"x{i}"] if k in (1, 2, 3) else []
        e = cls(u, *extra)
        out.append(e if t is None else dataclasses.replace(e, time=t[i]))
    return out


@settings(max_examples=600, deadline=None)
@given(ctr_inputs())
def test_matches_reference(inp):
    users, kinds, t, gap, flush, inclusive = inp
    assert rows(run(*inp)) == ref.reference_ctr(users, kinds, t, gap, flush, inclusive)


@settings(max_examples=150, deadline=None)
@given(ctr_inputs(times=True, max_n=400))
def test_matches_reference_long(inp):
    users, kinds, t, gap, flush, inclusive = inp
    assert rows(run(*inp)) == ref.reference_ctr(users, kinds, t, gap, flush, inclusive)


@settings(max_examples=300, deadline=None)
@given(ctr_inputs(times=False, timeouts=False))
def test_first_seed_dataflow(inp):
    users, kinds, _t, _gap, _flush, _inclusive = inp
    events = to_events(users, kinds)
    want = ref.seed_reduce_flow(events)
    got = sessionize.search_ctr(events, flush=False)
    assert [1.0 if c else 0.0 for c in got.clicked] == [ref.calc_ctr(s) for s in want]
    assert got.search.tolist() == [events.index(s[0]) for s in want]
    assert got.clicks.tolist() == [ref.clicks_of(s) for s in want]


@settings(max_examples=300, deadline=None)
@given(ctr_inputs(times=True, closes=False), st.integers(1, 8))
def test_second_seed_dataflow(inp, gap):
    users, kinds, t, _gap, _flush, _inclusive = inp
    order = sorted(range(len(t)), key=lambda i: t[i])  # the seed's events come in time order
    users = [users[i] for i in order]
    kinds = [kinds[i] for i in order]
    t = [t[i] for i in order]
    events = to_events(users, kinds, t)
    want = ref.seed_window_flow(events, gap)
    got = sessionize.search_ctr(events, gap=gap)
    got_rows = sorted(zip(got.search.tolist(), got.clicked.tolist(), got.clicks.tolist()))
    want_rows = sorted((events.index(s[0]), ref.calc_ctr(s) == 1.0, ref.clicks_of(s))
                       for s in want)
    assert got_rows == want_rows


def _forms(users, kinds, t):
    names = [ev.Kind(k).name for k in kinds]
    yield "events", (to_events(users, kinds, t),), {}
    times = None if t is None else np.array(t, dtype=np.int64)
    yield "int arrays", (np.array(users, dtype=np.int16), np.array(kinds, dtype=np.int64),
                         times), {}
    yield "lists", (list(users), list(kinds), None if t is None else list(t)), {}
    yield "names", ([f"u{u}" for u in users], names, times), {}
    yield "lower names", (np.array([f"u{u}" for u in users], dtype="U"),
                          np.array([n.lower() for n in names], dtype="U"), times), {}
    yield "class names", (np.array([f"u{u}".encode() for u in users], dtype="S"),
                          [type(e).__name__ for e in to_events(users, kinds)], times), {}
    yield "Kind members", ([("u", u) for u in users], [ev.Kind(k) for k in kinds], times), {}


@settings(max_examples=200, deadline=None)
@given(ctr_inputs())
def test_every_input_form_agrees(inp):
    users, kinds, t, gap, flush, inclusive = inp
    want = run(*inp)
    for name, args, _ in _forms(users, kinds, t):
        got = sessionize.search_ctr(*args, gap=gap, flush=flush, inclusive=inclusive)
        assert got.session.tolist() == want.session.tolist(), name
        assert got.search.tolist() == want.search.tolist(), name
        assert got.clicks.tolist() == want.clicks.tolist(), name
        assert got.clicked.tolist() == want.clicked.tolist(), name
        assert len(got.key) == len(want.key), name


@settings(max_examples=100, deadline=None)
@given(ctr_inputs(times=True))
def test_any_arrival_order_gives_the_same_rows(inp):
    """Rows depend on each key's time order and on the input positions that
    break ties, not on how keys interleave: moving one key's events as a
    block keeps its rows (positions renamed)."""
    users, kinds, t, gap, flush, inclusive = inp
    assume(len(users) > 0)
    n = len(users)
    # a stable sort by key keeps every key's own arrival order
    perm = sorted(range(n), key=lambda i: users[i])
    got = run([users[i] for i in perm], [kinds[i] for i in perm], [t[i] for i in perm],
              gap, flush, inclusive)
    want = run(users, kinds, t, gap, flush, inclusive)
    # same rows as a multiset (the close order can change with positions)
    back = [perm[p] for p in got.search.tolist()]
    assert sorted(zip(back, got.clicks.tolist())) == \
        sorted(zip(want.search.tolist(), want.clicks.tolist()))


# ---- Bytewax itself on random events -----------------------------------------------

@pytest.fixture(scope="module")
def bytewax():
    from engines.require import engine
    return engine("bytewax", dist="bytewax", minversion="0.20")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ctr_inputs(times=False, timeouts=False, max_n=30))
def test_bytewax_reduce_dataflow_agrees(bytewax, inp):
    from test_ctr_seeds import run_reduce_dataflow
    users, kinds, *_ = inp
    events = to_events(users, kinds)
    got = run_reduce_dataflow(events)
    ours = sessionize.search_ctr(events, flush=False)
    assert [events.index(s) for s, _ in got] == ours.search.tolist()
    assert [c for _, c in got] == [1.0 if c else 0.0 for c in ours.clicked]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ctr_inputs(times=True, closes=False, max_n=30), st.integers(1, 8))
def test_bytewax_window_dataflow_agrees(bytewax, inp, gap):
    from datetime import datetime, timedelta, timezone
    from test_ctr_seeds import run_window_dataflow
    users, kinds, t, *_ = inp
    order = sorted(range(len(t)), key=lambda i: t[i])
    base = datetime(2024, 1, 1, tzinfo=timezone.utc)
    times = [base + timedelta(seconds=t[i]) for i in order]
    events = to_events([users[i] for i in order], [kinds[i] for i in order], times)
    got = run_window_dataflow(events, timedelta(seconds=gap))
    ours = sessionize.search_ctr(events, gap=timedelta(seconds=gap))
    assert sorted((events.index(s), c) for s, c in got) == \
        sorted(zip(ours.search.tolist(), [1.0 if c else 0.0 for c in ours.clicked]))
