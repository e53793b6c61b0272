"""Per-event gaps in the streaming Sessionizer (issue 26's streaming half).

``Sessionizer(gap, per_event_gaps=True)`` takes each event's gap with
``push(..., gap=)`` or ``push_many(..., gaps=)``; ``gap`` is the longest a gap
may be.  SPEC section 3's invariant, with gaps per event: for any arrival
order within the delay and any chunking, the sessions emitted as final are
``sessions()`` over the same events with the same gap column (which
test_dynamic_gaps.py checks against window-merging models of Flink and Spark,
and against Spark itself).  Plus: a constant gap column streams exactly as the
scalar gap, pickling mid-stream changes nothing, the columnar mode matches the
object mode, and bad gaps are errors naming the event (or, asked, dropped and
counted).
"""

from __future__ import annotations

import datetime
import pickle
import random
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sessionize
from sessionize import SessionizeError, SessionizeWarning

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow],
                max_examples=120)

MS0 = np.datetime64("2026-01-01T00:00:00", "ms")
DT0 = datetime.datetime(2026, 1, 1)


def _dt_ticks(v) -> int:
    """Milliseconds since DT0 of a datetime (the stream's output) or of a
    datetime64 (sessions()' columns; numpy < 1.25 cannot subtract a
    datetime from one)."""
    if isinstance(v, np.datetime64):
        return int((v - np.datetime64(DT0, "us")) // np.timedelta64(1, "ms"))
    return (v - DT0) // datetime.timedelta(milliseconds=1)


class Kind:
    """Ticks (small ints) as one kind of times and gaps, and back."""

    def __init__(self, name, time, gap, times, gaps, back):
        self.name, self.time, self.gap = name, time, gap
        self.times, self.gaps, self.back = times, gaps, back

    def __repr__(self):
        return self.name


KINDS = [
    Kind("int", int, int, lambda t: np.array(t, np.int64), lambda g: np.array(g, np.int64),
         lambda v: int(v)),
    Kind("datetime64[ms]", lambda t: MS0 + np.timedelta64(t, "ms"),
         lambda g: np.timedelta64(g, "ms"),
         lambda t: MS0 + np.array(t, "m8[ms]"), lambda g: np.array(g, "m8[ms]"),
         lambda v: int((np.datetime64(v, "ms") - MS0) / np.timedelta64(1, "ms"))),
    Kind("float seconds", lambda t: t * 0.25, lambda g: g * 0.25,
         lambda t: np.array(t, float) * 0.25, lambda g: np.array(g, float) * 0.25,
         lambda v: int(round(v * 4))),
    Kind("datetime", lambda t: DT0 + datetime.timedelta(milliseconds=t),
         lambda g: datetime.timedelta(milliseconds=g),
         lambda t: [DT0 + datetime.timedelta(milliseconds=x) for x in t],
         lambda g: [datetime.timedelta(milliseconds=x) for x in g],
         lambda v: _dt_ticks(v)),
]


def make_events(rng: random.Random, n: int, bound: int):
    """Keys, ticks and gaps dense in touching windows (t_j == t_i + g_i) and
    ties, with a long-gap event now and then keeping short ones open."""
    keys, ticks, gaps = [], [], []
    for i in range(n):
        g = bound if rng.random() < 0.15 else rng.randint(1, bound)
        if i and rng.random() < 0.5:
            j = rng.randrange(i)
            keys.append(keys[j])
            ticks.append(ticks[j] + gaps[j] if rng.random() < 0.7 else ticks[j])
        else:
            keys.append(rng.choice("abcd"))
            ticks.append(rng.randint(0, 120))
        gaps.append(g)
    return keys, ticks, gaps


def within_delay(rng: random.Random, ticks, delay: int):
    """An arrival order in which no event falls behind the watermark."""
    return sorted(range(len(ticks)), key=lambda i: (ticks[i] + rng.randint(0, delay), i))


def final_rows(out, kind, columnar):
    """(key, start, end, window_end, count) of each session emitted as final:
    in update mode, each id's last revision (a fired session that becomes
    final unchanged is not emitted again, SPEC section 3)."""
    last = {}
    for batch in out:
        if columnar:
            t = batch.sessions
            cols = zip(t.key.tolist() if hasattr(t.key, "tolist") else list(t.key),
                       list(t.start), list(t.end), list(t.window_end), t.count.tolist(),
                       t.id.tolist(), t.revision.tolist(), t.final.tolist())
            for k, s, e, w, c, i, r, f in cols:
                if i not in last or last[i][0] <= r:
                    last[i] = (r, f, (k, kind.back(s), kind.back(e), kind.back(w), c))
        else:
            for s in batch:
                if isinstance(s, sessionize.LateEvent):
                    continue
                if s.id not in last or last[s.id][0] <= s.revision:
                    last[s.id] = (s.revision, s.final, (s.key, kind.back(s.start),
                                                        kind.back(s.end),
                                                        kind.back(s.window_end), s.count))
    return sorted(row for _, _, row in last.values())


def batch_rows(keys, ticks, gaps, kind, **kw):
    t = sessionize.sessions(list(keys), kind.times(ticks), gap=kind.gaps(gaps), **kw)
    return sorted((k, kind.back(s), kind.back(e), kind.back(w), int(c)) for k, s, e, w, c in
                  zip(t.key.tolist() if hasattr(t.key, "tolist") else list(t.key),
                      list(t.start), list(t.end), list(t.window_end), t.count.tolist()))


@pytest.mark.parametrize("kind", KINDS, ids=repr)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), bound=st.integers(2, 12),
       delay=st.integers(0, 20), inclusive=st.booleans(),
       cap=st.sampled_from([None, "restart", "fixed"]), max_duration=st.integers(1, 15),
       emit=st.sampled_from(["final", "update"]), lateness=st.integers(0, 4),
       style=st.sampled_from(["push", "chunks", "columnar", "pickled"]))
@settings(**SETTINGS)
def test_final_sessions_are_the_batch_ones(kind, seed, n, bound, delay, inclusive, cap,
                                           max_duration, emit, lateness, style):
    rng = random.Random(seed)
    keys, ticks, gaps = make_events(rng, n, bound)
    order = within_delay(rng, ticks, delay)
    cap_kw = {} if cap is None else dict(max_duration=kind.gap(max_duration),
                                         max_duration_mode=cap)
    z = sessionize.Sessionizer(kind.gap(bound), per_event_gaps=True, inclusive=inclusive,
                               delay=kind.gap(delay) if delay else 0,
                               allowed_lateness=kind.gap(lateness) if lateness else 0,
                               emit=emit, columnar=style == "columnar", **cap_kw)
    out = []
    if style == "push":
        for i in order:
            out.append(z.push(keys[i], kind.time(ticks[i]), gap=kind.gap(gaps[i])))
    else:
        at = 0
        while at < len(order):
            part = order[at:at + rng.randint(1, 12)]
            at += len(part)
            ks = [keys[i] for i in part]
            out.append(z.push_many(ks, kind.times([ticks[i] for i in part]),
                                   gaps=kind.gaps([gaps[i] for i in part])))
            if style == "pickled" and rng.random() < 0.4:
                z = pickle.loads(pickle.dumps(z))
    out.append(z.flush())
    if style == "columnar":
        assert all(len(b.late) == 0 for b in out)
    else:
        assert not any(isinstance(s, sessionize.LateEvent) for b in out for s in b)
    assert z.late_count == 0
    want = batch_rows(keys, ticks, gaps, kind, inclusive=inclusive, **cap_kw)
    assert final_rows(out, kind, style == "columnar") == want


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), delay=st.integers(0, 30),
       cap=st.sampled_from([None, "restart", "fixed"]), emit=st.sampled_from(["final",
                                                                              "update"]))
@settings(**SETTINGS)
def test_a_constant_gap_column_streams_as_the_scalar_gap(seed, n, delay, cap, emit):
    """Every event's gap the bound: the same output, record for record (ids,
    revisions, late events, in order), in any arrival order."""
    rng = random.Random(seed)
    keys, ticks, _ = make_events(rng, n, 8)
    order = list(range(n))
    rng.shuffle(order)
    kw = dict(delay=delay, emit=emit)
    if cap:
        kw.update(max_duration=5, max_duration_mode=cap)
    a = sessionize.Sessionizer(8, per_event_gaps=True, **kw)
    b = sessionize.Sessionizer(8, **kw)
    at, outs = 0, ([], [])
    while at < n:
        part = order[at:at + rng.randint(1, 9)]
        at += len(part)
        ks, ts = [keys[i] for i in part], [ticks[i] for i in part]
        outs[0].append(a.push_many(ks, ts, gaps=[8] * len(part)) if rng.random() < 0.5
                       else a.push_many(ks, ts))
        outs[1].append(b.push_many(ks, ts))
    outs[0].append(a.flush())
    outs[1].append(b.flush())
    assert outs[0] == outs[1]
    assert a.late_count == b.late_count


def test_a_long_gap_keeps_short_ones_open():
    """A checkout with a 60-minute gap keeps the session open past the
    10-minute gaps of the page views around it (issue 26's example)."""
    z = sessionize.Sessionizer("60min", per_event_gaps=True, delay="1min")
    t0 = np.datetime64("2026-03-01T10:00", "m")
    assert z.push("u", t0, gap="10min") == []
    assert z.push("u", t0 + 5, gap="60min") == []            # the checkout
    assert z.push("u", t0 + 50, gap="10min") == []           # 45 min later: still in
    # the session reaches to 5 + 60 = 65 min, past 50 + 10: open until then
    assert z.advance(t0 + 65) == []
    out = z.advance(t0 + 66)
    assert [(s.start, s.end, s.window_end, s.count) for s in out] == [
        (t0, t0 + 50, t0 + 65, 3)]


def test_a_push_without_a_gap_gets_the_sessionizers():
    z = sessionize.Sessionizer(10, per_event_gaps=True)
    z.push("a", 0, gap=2)
    z.push("a", 5)            # gap 10: reaches 15
    out = z.push("a", 30, gap=1)
    assert [(s.start, s.end, s.window_end, s.count) for s in out] == [(5, 5, 15, 1)]
    assert [(s.start, s.window_end) for s in z.flush()] == [(30, 31)]


# ---- errors ------------------------------------------------------------------


def test_gaps_need_per_event_gaps():
    z = sessionize.Sessionizer(10)
    with pytest.raises(TypeError, match="per_event_gaps=True"):
        z.push("a", 1, gap=3)
    with pytest.raises(TypeError, match="per_event_gaps=True"):
        z.push_many(["a"], [1], gaps=[3])
    with pytest.raises(TypeError, match="per_event_gaps=True"):
        sessionize.Sessionizer(np.array([1, 2]))
    with pytest.raises(TypeError, match="per_event_gaps: expected a bool"):
        sessionize.Sessionizer(10, per_event_gaps="yes")
    with pytest.raises(SessionizeError, match="on_bad_gap"):
        sessionize.Sessionizer(10, per_event_gaps=True, on_bad_gap="skip")


@pytest.mark.parametrize("columnar", [False, True])
def test_bad_gaps_name_the_event_and_change_nothing(columnar):
    z = sessionize.Sessionizer("10s", per_event_gaps=True, columnar=columnar)
    t = np.datetime64("2026-01-01T00:00:00", "s") + np.arange(4)
    with pytest.raises(SessionizeError, match=r"gaps\[2\]: missing gap"):
        z.push_many(list("abcd"), t, gaps=np.array([1, 2, "NaT", 4], "m8[s]"))
    with pytest.raises(SessionizeError, match=r"gaps\[1\]: must be > 0"):
        z.push_many(list("abcd"), t, gaps=["1s", "0s", "2s", "3s"])
    with pytest.raises(SessionizeError,
                       match=r"gaps\[3\]: '11s' is longer than the Sessionizer's gap \('10s'\)"):
        z.push_many(list("abcd"), t, gaps=["1s", "2s", "3s", "11s"])
    with pytest.raises(SessionizeError, match=r"^gap: '1min' is longer than the Sessionizer's"):
        z.push("a", t[0], gap="1min")
    with pytest.raises(SessionizeError, match="gap: must be > 0"):
        z.push("a", t[0], gap=np.timedelta64(-1, "s"))
    with pytest.raises(SessionizeError, match="gaps: one gap per event expected"):
        z.push_many(list("ab"), t[:2], gaps=["1s"])
    assert z.stats()["keys"] == 0          # nothing was applied
    z.push_many(list("abcd"), t, gaps=["1s", "2s", "3s", "10s"])
    assert z.stats()["keys"] == 4


@pytest.mark.parametrize("columnar", [False, True])
def test_on_bad_gap_drop_counts_and_keeps_positions(columnar):
    z = sessionize.Sessionizer(10, per_event_gaps=True, on_bad_gap="drop", columnar=columnar)
    z.push_many(["a"], [100], gaps=[5])     # the watermark at 100
    with pytest.warns(SessionizeWarning, match=r"dropped 2 of 5 .* first at gaps\[0\]"):
        out = z.push_many(["x", "a", "y", "b", "b"], [101, 50, 102, 103, 104],
                          gaps=[0, 3, -1, 2, 1])
    if columnar:
        assert out.late.position.tolist() == [1]   # a at 50, in the caller's chunk
        assert out.late.key.tolist() == ["a"]
    else:
        assert [(e.key, e.time) for e in out] == [("a", 50)]
    assert z.stats()["keys"] == 2           # a and b; x and y were dropped
    with pytest.warns(SessionizeWarning, match="dropped an event"):
        one = z.push("c", 105, gap=0)
    if columnar:
        assert len(one.sessions) == 0 and len(one.late) == 0
    else:
        assert one == []
    assert z.stats()["keys"] == 2
    z2 = sessionize.Sessionizer(10, per_event_gaps=True, on_bad_gap="drop", on_late="raise")
    z2.push_many(["a"], [100], gaps=[5])
    with pytest.warns(SessionizeWarning), \
            pytest.raises(sessionize.LateEventError, match=r"times\[2\]") as e:
        z2.push_many(["x", "y", "a"], [101, 102, 50], gaps=[0, 1, 1])
    assert e.value.position == 2


def test_snapshots_keep_per_event_gaps():
    z = sessionize.Sessionizer(10, per_event_gaps=True, delay=5)
    z.push_many(["a", "a", "b"], [0, 3, 4], gaps=[9, 1, 2])
    back = pickle.loads(pickle.dumps(z))
    assert back.push_many(["a"], [12], gaps=[1]) == z.push_many(["a"], [12], gaps=[1])
    assert back.flush() == z.flush()
    assert back._settings["per_event_gaps"] is True


def test_stream_reads_each_events_gap():
    events = [{"u": "a", "t": 0, "g": 2, "v": "x"}, {"u": "a", "t": 2, "g": 9, "v": "y"},
              {"u": "b", "t": 3, "g": 1, "v": "z"}, {"u": "a", "t": 11, "g": 1, "v": "w"},
              {"u": "a", "t": 30, "g": 1, "v": "q"}]
    out = list(sessionize.stream(events, key="u", time="t", gap=10, gap_of="g", value="v",
                                 collect=True))
    rows = sorted((s.key, s.start, s.end, s.window_end, s.count, tuple(s.values))
                  for s in out)
    assert rows == [("a", 0, 11, 12, 3, ("x", "y", "w")), ("a", 30, 30, 31, 1, ("q",)),
                    ("b", 3, 3, 4, 1, ("z",))]
    want = sessionize.sessions([e["u"] for e in events], [e["t"] for e in events],
                               gap=np.array([e["g"] for e in events]))
    assert sorted(zip(want.key, want.start.tolist(), want.window_end.tolist())) == \
        sorted((s.key, s.start, s.window_end) for s in out)
    with pytest.raises(SessionizeError, match="longer than the Sessionizer's gap"):
        list(sessionize.stream(events, key="u", time="t", gap=5, gap_of="g"))
