"""The two Bytewax search-session seeds, ported unchanged, come out exactly.

seeds/bytewax-search-session-reduce.md: twelve events, no times, sessions
closed by AppClose, nothing emitted for a session never closed (flush=False):
prints 1.0, 1.0, 0.0 in that order.

seeds/bytewax-search-session-window.md: the same events one second apart,
a 5 s session window: {1.0, 1.0, 0.0}.

The events are constructed exactly as the seed constructs its own (named
and positional arguments); then once more with the seed's own dataclass
definitions, which search_ctr recognizes by class name as the seed does.
When bytewax is installed, the seeds' dataflows themselves run (on Bytewax
0.21's API) and must agree.
"""

from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import List

import numpy as np
import pytest

import sessionize
from sessionize.events import AppClose, AppOpen, ClickResult, Results, Search, Timeout

import ctr_reference as ref
from engines.require import engine


def seed_events(AppOpen=AppOpen, Search=Search, Results=Results,
                ClickResult=ClickResult, AppClose=AppClose):
    # IMAGINE_THESE_EVENTS_STREAM_FROM_CLIENTS, as the seed writes it
    return [
        AppOpen(user=1),
        Search(user=1, query="dogs"),
        # Eliding named args...
        Results(1, ["fido", "rover", "buddy"]),
        ClickResult(1, "rover"),
        Search(1, "cats"),
        Results(1, ["fluffy", "burrito", "kathy"]),
        ClickResult(1, "fluffy"),
        AppOpen(2),
        ClickResult(1, "kathy"),
        Search(2, "fruit"),
        AppClose(1),
        AppClose(2),
    ]


START = datetime(2023, 1, 1, tzinfo=timezone.utc)


def after(seconds):
    return START + timedelta(seconds=seconds)


def timed_seed_events():
    """The window seed's events: the same ones, one second apart."""
    return [dataclasses.replace(e, time=after(i)) for i, e in enumerate(seed_events())]


# ---- the first seed: reduce, no times, closed by AppClose -----------------------

def test_reduce_seed_exactly():
    events = seed_events()
    result = sessionize.search_ctr(events, flush=False)
    # the seed prints calc_ctr of each search session: 1.0, 1.0, 0.0
    assert [1.0 if c else 0.0 for c in result.clicked] == [1.0, 1.0, 0.0]
    queries = [events[i].query for i in result.search]
    assert queries == ["dogs", "cats", "fruit"]
    assert result.key.tolist() == [1, 1, 2]
    assert result.session.tolist() == [0, 0, 1]
    assert result.clicks.tolist() == [1, 2, 0]
    assert result.ctr == pytest.approx(2 / 3)
    assert result.clicks_per_search == pytest.approx(1.0)
    # and the literal port of the seed's dataflow says the same
    assert [ref.calc_ctr(s) for s in ref.seed_reduce_flow(events)] == [1.0, 1.0, 0.0]


def test_reduce_seed_with_the_seeds_own_dataclasses():
    """The seed's own classes, copied verbatim: recognized by class name, as
    the seed's is_search / session_has_closed recognize them."""

    @dataclass
    class AppOpen:
        user: int

    @dataclass
    class Search:
        user: int
        query: str

    @dataclass
    class Results:
        user: int
        items: List[str]

    @dataclass
    class ClickResult:
        user: int
        item: str

    @dataclass
    class AppClose:
        user: int

    @dataclass
    class Timeout:
        user: int

    events = seed_events(AppOpen, Search, Results, ClickResult, AppClose)
    result = sessionize.search_ctr(events, flush=False)
    assert [1.0 if c else 0.0 for c in result.clicked] == [1.0, 1.0, 0.0]
    assert [events[i].query for i in result.search] == ["dogs", "cats", "fruit"]


def test_reduce_seed_as_arrays():
    events = seed_events()
    users = [e.user for e in events]
    kinds = [type(e).__name__ for e in events]
    for keys, k in [(users, kinds), (np.array(users), np.array(kinds)),
                    (np.array(users), np.array([e.kind for e in events], dtype=np.uint8)),
                    ([str(u) for u in users], [int(e.kind) for e in events])]:
        result = sessionize.search_ctr(keys, k, flush=False)
        assert result.clicked.tolist() == [True, True, False]
        assert result.search.tolist() == [1, 4, 9]


def test_reduce_seed_flushed_changes_nothing_here():
    # every session of the seed is closed by AppClose: flushing adds nothing
    assert sessionize.search_ctr(seed_events()).clicked.tolist() == [True, True, False]


def test_reduce_seed_session_never_closed_is_dropped():
    events = seed_events()[:-1]  # user 2 never closes the app
    assert sessionize.search_ctr(events, flush=False).clicked.tolist() == [True, True]
    assert sessionize.search_ctr(events).clicked.tolist() == [True, True, False]
    assert [ref.calc_ctr(s) for s in ref.seed_reduce_flow(events)] == [1.0, 1.0]


# ---- the second seed: a 5 s session window, events one second apart -------------

def test_window_seed_exactly():
    events = timed_seed_events()
    result = sessionize.search_ctr(events, gap=timedelta(seconds=5))
    assert sorted(1.0 if c else 0.0 for c in result.clicked) == [0.0, 1.0, 1.0]
    assert [events[i].query for i in result.search] == ["dogs", "cats", "fruit"]
    assert [ref.calc_ctr(s) for s in ref.seed_window_flow(events, timedelta(seconds=5))] \
        == [1.0, 1.0, 0.0]


@pytest.mark.parametrize("gap", [timedelta(seconds=5), "5s", np.timedelta64(5, "s"),
                                 "5000ms"])
def test_window_seed_gap_forms(gap):
    assert sessionize.search_ctr(timed_seed_events(), gap=gap).clicked.tolist() == \
        [True, True, False]


def test_window_seed_without_app_close():
    """Without the AppClose events the sessions end only with the input: the
    watermark (9 s) is not 5 s past either user's last event (8 s, 9 s), so
    they are flushed at the end, or dropped with flush=False."""
    events = [e for e in timed_seed_events() if type(e).__name__ != "AppClose"]
    result = sessionize.search_ctr(events, gap="5s")
    assert result.clicked.tolist() == [True, True, False]
    assert len(sessionize.search_ctr(events, gap="5s", flush=False)) == 0


def test_window_seed_as_float_seconds_and_ints():
    events = timed_seed_events()
    users = [e.user for e in events]
    kinds = [e.kind for e in events]
    secs = np.array([e.time.timestamp() for e in events])
    for times, gap in [(secs, 5), (secs, 5.0), (np.arange(12) * 1000, 5000),
                       (secs.astype("int64").astype("M8[s]"), "5s")]:
        r = sessionize.search_ctr(users, kinds, times, gap=gap)
        assert r.clicked.tolist() == [True, True, False]


def test_a_long_pause_splits_a_user_session():
    """User 1 pauses 7 s between ClickResult(rover) at 3 s and Search(cats):
    its first session ends by the gap rule at 3 + 5 (+1, inclusive), before
    its second (AppClose at 16 s) and user 2's (AppClose at 17 s)."""
    events = [dataclasses.replace(e, time=e.time + timedelta(seconds=6)) if i >= 4 else e
              for i, e in enumerate(timed_seed_events())]
    r = sessionize.search_ctr(events, gap="5s")
    assert list(zip(r.key.tolist(), r.session.tolist(), r.search.tolist(),
                    r.clicks.tolist())) == [(1, 0, 1, 1), (1, 1, 4, 2), (2, 2, 9, 0)]


# ---- Bytewax itself ---------------------------------------------------------------

FROZEN_NOW = datetime(2000, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def bytewax():
    return engine("bytewax", dist="bytewax", minversion="0.20")


def run_reduce_dataflow(events):
    """The first seed's dataflow on Bytewax 0.21: its `reduce(step_id,
    operator.add, session_has_closed)` as stateful_map, the rest unchanged."""
    import bytewax.operators as op
    from bytewax.dataflow import Dataflow
    from bytewax.testing import TestingSink, TestingSource, run_main

    def reducer(state, value):
        state = value if state is None else operator.add(state, value)
        if ref.session_has_closed(state):
            return None, state
        return state, None

    out = []
    flow = Dataflow("search_session_reduce")
    s = op.input("input", flow, TestingSource(events))
    s = op.map("initial_session", s, ref.initial_session)
    s = op.stateful_map("sessionizer", s, reducer)
    s = op.filter_map("complete", s, lambda kv: kv[1])
    s = op.flat_map("split_into_searches", s, lambda session: list(ref.split_into_searches(session)))
    s = op.filter("filter_search", s, ref.has_search)
    s = op.map("calc_ctr", s, lambda ss: (ss[0], ref.calc_ctr(ss)))
    op.output("out", s, TestingSink(out))
    run_main(flow)
    return out


def run_window_dataflow(events, gap):
    """The second seed's dataflow on Bytewax 0.21: a SessionWindower, events
    folded into a list (the seed's builder `list` and folder add_event)."""
    import bytewax.operators as op
    from bytewax.dataflow import Dataflow
    from bytewax.operators.windowing import EventClock, SessionWindower, fold_window
    from bytewax.testing import TestingSink, TestingSource, run_main

    def add_event(acc, event):
        acc.append(event)
        return acc

    out = []
    flow = Dataflow("search_session_window")
    s = op.input("input", flow, TestingSource(events))
    s = op.key_on("user_event", s, lambda e: str(e.user))
    clock = EventClock(lambda e: e.time, wait_for_system_duration=timedelta(seconds=0),
                       now_getter=lambda: FROZEN_NOW)
    w = fold_window("sessionizer", s, clock, SessionWindower(gap=gap), list, add_event,
                    operator.add)
    s = op.map("remove_key", w.down, lambda kv: kv[1][1])
    s = op.flat_map("split_into_searches", s, lambda session: list(ref.split_into_searches(session)))
    s = op.filter("filter_search", s, ref.has_search)
    s = op.map("calc_ctr", s, lambda ss: (ss[0], ref.calc_ctr(ss)))
    op.output("out", s, TestingSink(out))
    run_main(flow)
    return out


def test_bytewax_runs_the_reduce_seed(bytewax):
    events = seed_events()
    got = run_reduce_dataflow(events)
    assert [c for _, c in got] == [1.0, 1.0, 0.0]
    ours = sessionize.search_ctr(events, flush=False)
    assert [events.index(s) for s, _ in got] == ours.search.tolist()


def test_bytewax_runs_the_window_seed(bytewax):
    events = timed_seed_events()
    got = run_window_dataflow(events, timedelta(seconds=5))
    assert sorted(c for _, c in got) == [0.0, 1.0, 1.0]
    ours = sessionize.search_ctr(events, gap="5s")
    assert sorted(events.index(s) for s, _ in got) == sorted(ours.search.tolist())
