"""Dynamic gaps (issue 26): ``gap=`` as one gap per event.

Event i opens the window [t_i, t_i + gap_i); a key's overlapping windows merge
(and touching ones with inclusive=True, as Flink and Spark merge them).  The
package is compared with the slow models in dynamic_gap_reference.py, with
the scalar gap (a constant gap array must change nothing), and with Spark's
``session_window(ts, gap_column)`` itself.  The reference is checked against
a model of Flink's window merging (no Flink needed).

Times are drawn as small integer "ticks" and given to the package as
integers, as datetime64[ms] (ticks are milliseconds, gaps timedelta64[ms]) or
as float seconds (ticks are quarter seconds, exact in binary and in the
microseconds float seconds are held in); results are turned back into ticks
to be compared.
"""

from __future__ import annotations

import itertools
import os
import random
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sessionize
from sessionize import _batch, _core
from dynamic_gap_reference import flink_merge, merge_windows, sessions_with_gaps
from engines.require import engine, optional, require_java

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCALE = float(os.environ.get("SESSIONIZE_EXAMPLES_SCALE", "1"))


def examples(n):
    return max(1, int(n * SCALE))


# --------------------------------------------------------------------------
# kinds of times: ticks -> the package's types, and results back to ticks


class Kind:
    def __init__(self, name, times, gaps, dur, back, dtype=None):
        self.name = name
        self.times = times        # list of tick ints -> times array
        self.gaps = gaps          # list of tick ints -> gap array
        self.dur = dur            # tick int -> a duration scalar (gap, max_duration)
        self.back = back          # a returned times array -> list of tick ints
        self.dtype = dtype        # the dtype start/end/window_end come back in

    def __repr__(self):
        return self.name


MS_ORIGIN = 1_700_000_000_000   # ms
S_ORIGIN = 1_700_000_000        # s

INT = Kind(
    "int",
    lambda ts: np.array(ts, dtype=np.int64),
    lambda gs: np.array(gs, dtype=np.int64),
    int,
    lambda a: [int(x) for x in a],
    np.dtype(np.int64),
)
DT_MS = Kind(
    "datetime64[ms]",
    lambda ts: (np.array(ts, dtype=np.int64) + MS_ORIGIN).astype("datetime64[ms]"),
    lambda gs: np.array(gs, dtype=np.int64).astype("timedelta64[ms]"),
    lambda d: np.timedelta64(int(d), "ms"),
    lambda a: [int(x) - MS_ORIGIN for x in np.asarray(a).astype("datetime64[ms]").astype(np.int64)],
    np.dtype("datetime64[ms]"),
)
FLOAT_S = Kind(
    "float seconds",
    lambda ts: np.array([S_ORIGIN + t * 0.25 for t in ts], dtype=np.float64),
    lambda gs: np.array([g * 0.25 for g in gs], dtype=np.float64),
    lambda d: d * 0.25,
    lambda a: [int(round((float(x) - S_ORIGIN) * 4)) for x in a],
    np.dtype(np.float64),
)
KINDS = [INT, DT_MS, FLOAT_S]

# (mode, max_duration in ticks); None: no cap
CAPS = [None, ("restart", 3), ("restart", 7), ("restart", 10),
        ("fixed", 3), ("fixed", 7), ("fixed", 10)]


def _cap_kwargs(kind, cap):
    if cap is None:
        return {}
    mode, m = cap
    return dict(max_duration=kind.dur(m), max_duration_mode=mode)


def _ref_cap(cap):
    if cap is None:
        return {}
    mode, m = cap
    return dict(max_duration=m, max_duration_mode=mode)


def table_rows(t, kind):
    """A SessionTable as (key, start, end, count, index, window_end) tuples in ticks."""
    starts, ends, wends = kind.back(t["start"]), kind.back(t["end"]), kind.back(t["window_end"])
    return [(k, s, e, int(c), int(i), w) for k, s, e, c, i, w in
            zip(t["key"].tolist(), starts, ends, t["count"], t["index"], wends)]


def ref_rows(sessions):
    return [(s["key"], s["start"], s["end"], s["count"], s["index"], s["window_end"])
            for s in sessions]


def check(keys, ticks, gap_ticks, kind=INT, *, inclusive=True, cap=None):
    """sessions() and assign() with a gap array equal the reference."""
    want_ids, want = sessions_with_gaps(keys, ticks, gap_ticks, inclusive=inclusive,
                                        **_ref_cap(cap))
    times = kind.times(ticks)
    kw = dict(gap=kind.gaps(gap_ticks), inclusive=inclusive, **_cap_kwargs(kind, cap))
    t = sessionize.sessions(keys, times, **kw)
    ids = sessionize.assign(keys, times, **kw)
    where = f"{kind} inclusive={inclusive} cap={cap}"
    assert len(t) == len(want), where
    assert table_rows(t, kind) == ref_rows(want), where
    for col in ("start", "end", "window_end"):
        assert t[col].dtype == kind.dtype, (where, col, t[col].dtype)
    assert ids.dtype == np.int64, where
    assert ids.tolist() == want_ids, where
    return want_ids, want


# --------------------------------------------------------------------------
# hand-worked cases, against literal expectations (not only the reference)


def _bounds(t):
    return list(zip(t["start"].tolist(), t["end"].tolist(), t["count"].tolist(),
                    t["window_end"].tolist()))


def test_touching_windows_chain():
    # [0,5) [5,8) [8,9): each event at exactly the window end so far
    keys, times, gaps = ["a"] * 3, np.array([0, 5, 8]), np.array([5, 3, 1])
    t = sessionize.sessions(keys, times, gap=gaps)
    assert _bounds(t) == [(0, 8, 3, 9)]
    assert sessionize.assign(keys, times, gap=gaps).tolist() == [0, 0, 0]
    t = sessionize.sessions(keys, times, gap=gaps, inclusive=False)
    assert _bounds(t) == [(0, 0, 1, 5), (5, 5, 1, 8), (8, 8, 1, 9)]
    assert sessionize.assign(keys, times, gap=gaps, inclusive=False).tolist() == [0, 1, 2]


def test_long_gap_keeps_short_gap_events_open():
    # the event at 0 with gap 100 holds the session open to 100; window_end is
    # the largest t + gap, not the last event's t + gap (50 + 1)
    keys, times = ["a"] * 5, np.array([0, 50, 99, 100, 102])
    gaps = np.array([100, 1, 1, 1, 1])
    t = sessionize.sessions(keys, times, gap=gaps)
    assert _bounds(t) == [(0, 100, 4, 101), (102, 102, 1, 103)]
    t = sessionize.sessions(keys, times, gap=gaps, inclusive=False)
    assert _bounds(t) == [(0, 99, 3, 100), (100, 100, 1, 101), (102, 102, 1, 103)]
    # window_end when the long gap is not the last event's
    t = sessionize.sessions(["a"] * 2, np.array([0, 10]), gap=np.array([30, 1]))
    assert _bounds(t) == [(0, 10, 2, 30)]


def test_restart_cap_keeps_the_inactivity_reach():
    # R = 100 from the first event runs on across the cuts: 15 and 50 are in
    # the same inactivity session; window_end = min(R, start + 10)
    keys, times, gaps = ["a"] * 4, np.array([0, 5, 15, 50]), np.array([100, 1, 1, 1])
    t = sessionize.sessions(keys, times, gap=gaps, max_duration=10)
    assert _bounds(t) == [(0, 5, 2, 10), (15, 15, 1, 25), (50, 50, 1, 60)]
    # exactly max_duration after the start: inclusive keeps it, exclusive cuts
    t = sessionize.sessions(["a"] * 2, np.array([0, 10]), gap=np.array([20, 1]),
                            max_duration=10)
    assert _bounds(t) == [(0, 10, 2, 10)]
    t = sessionize.sessions(["a"] * 2, np.array([0, 10]), gap=np.array([20, 1]),
                            max_duration=10, inclusive=False)
    assert _bounds(t) == [(0, 0, 1, 10), (10, 10, 1, 20)]


def test_fixed_cap_blocks_from_the_inactivity_start():
    # blocks [0,10) [10,20) [20,30); R = 30 carries 25 into the inactivity session
    keys, times, gaps = ["a"] * 4, np.array([0, 9, 10, 25]), np.array([30, 1, 1, 1])
    t = sessionize.sessions(keys, times, gap=gaps, max_duration=10,
                            max_duration_mode="fixed")
    assert _bounds(t) == [(0, 9, 2, 10), (10, 10, 1, 20), (25, 25, 1, 30)]
    # window_end below the block end: R as of the session's last event
    t = sessionize.sessions(["a"] * 3, np.array([0, 12, 13]), gap=np.array([13, 1, 2]),
                            max_duration=10, max_duration_mode="fixed")
    assert _bounds(t) == [(0, 0, 1, 10), (12, 13, 2, 15)]


# --------------------------------------------------------------------------
# generated data against the reference, every kind of times, cap and inclusive


def touching_dense(seed, n_keys=4, per_key=40):
    """(keys, ticks, gaps), shuffled: most steps within a key are exactly the
    previous event's gap (its window touches the next), some one tick less or
    more, some 0 (ties with different gaps), and now and then a long gap."""
    rng = random.Random(seed)
    events = []
    for k in range(n_keys):
        t = rng.randint(0, 5)
        for _ in range(per_key):
            g = rng.choice([1, 2, 3, 4, 5, 6, rng.randint(10, 30)])
            events.append((f"k{k}", t, g))
            t += rng.choice([g, g, g, g, g - 1, g + 1, 0])
    rng.shuffle(events)
    keys = [e[0] for e in events]
    ticks = [e[1] for e in events]
    gaps = [e[2] for e in events]
    return keys, ticks, gaps


def _touching_pairs(keys, ticks, gaps):
    return sum(1 for i, j in itertools.permutations(range(len(keys)), 2)
               if keys[i] == keys[j] and ticks[j] == ticks[i] + gaps[i])


def _ties(keys, ticks, gaps):
    return sum(1 for i, j in itertools.combinations(range(len(keys)), 2)
               if keys[i] == keys[j] and ticks[i] == ticks[j] and gaps[i] != gaps[j])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_data_is_boundary_heavy(seed):
    keys, ticks, gaps = touching_dense(seed)
    assert _touching_pairs(keys, ticks, gaps) >= len(keys) // 3
    assert _ties(keys, ticks, gaps) >= 3
    # and the input is neither grouped by key nor in time order
    assert ticks != sorted(ticks)
    assert keys != sorted(keys)


@pytest.mark.parametrize("cap", CAPS, ids=str)
@pytest.mark.parametrize("inclusive", [True, False])
@pytest.mark.parametrize("kind", KINDS, ids=str)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_touching_dense_matches_reference(seed, kind, inclusive, cap):
    keys, ticks, gaps = touching_dense(seed)
    check(keys, ticks, gaps, kind, inclusive=inclusive, cap=cap)


@pytest.mark.parametrize("cap", CAPS, ids=str)
@pytest.mark.parametrize("inclusive", [True, False])
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_sorted_and_grouped_input_matches_reference(kind, inclusive, cap):
    # the same events sorted by (key, time) and by time alone (keys interleaved)
    keys, ticks, gaps = touching_dense(7)
    by_key = sorted(range(len(keys)), key=lambda i: (keys[i], ticks[i]))
    by_time = sorted(range(len(keys)), key=lambda i: ticks[i])
    for order in (by_key, by_time):
        check([keys[i] for i in order], [ticks[i] for i in order],
              [gaps[i] for i in order], kind, inclusive=inclusive, cap=cap)


# ties: three events at 0 with gaps 1, 10, 3, one at 10 and one at 11, in
# every input order; with inclusive=True the gap-10 event reaches 10 whichever
# of the tied events comes first, and 10 then reaches 11; with inclusive=False
# 10 and 11 each sit at exactly the reach so far, so each starts a session
TIE_EVENTS = [(0, 1), (0, 10), (0, 3), (10, 1), (11, 2)]


@pytest.mark.parametrize("cap", [None, ("restart", 10), ("fixed", 10), ("restart", 5)], ids=str)
@pytest.mark.parametrize("inclusive", [True, False])
def test_ties_in_every_input_order(inclusive, cap):
    partitions = set()
    for order in itertools.permutations(range(len(TIE_EVENTS))):
        ticks = [TIE_EVENTS[i][0] for i in order]
        gaps = [TIE_EVENTS[i][1] for i in order]
        ids, want = check(["u"] * len(order), ticks, gaps, INT, inclusive=inclusive, cap=cap)
        # the sessions, as sets of events, do not depend on the input order
        partitions.add(frozenset(frozenset(order[p] for p in range(len(order)) if ids[p] == g)
                                 for g in set(ids)))
    assert len(partitions) == 1
    if cap is None:
        (partition,) = partitions
        if inclusive:
            assert partition == {frozenset(range(5))}
        else:
            assert partition == {frozenset({0, 1, 2}), frozenset({3}), frozenset({4})}


def test_ties_across_keys_and_kinds():
    keys = ["b", "a", "b", "a", "b", "a", "b"]
    ticks = [4, 4, 4, 0, 0, 4, 9]
    gaps = [5, 1, 1, 4, 2, 9, 1]
    for kind in KINDS:
        for inclusive in (True, False):
            for cap in CAPS:
                check(keys, ticks, gaps, kind, inclusive=inclusive, cap=cap)


# --------------------------------------------------------------------------
# gap containers other than numpy


def test_gap_as_list_and_columns():
    keys, ticks, gaps = touching_dense(11, n_keys=2, per_key=15)
    times = np.array(ticks, dtype=np.int64)
    want = sessionize.assign(keys, times, gap=np.array(gaps, dtype=np.int64)).tolist()
    assert sessionize.assign(keys, times, gap=list(gaps)).tolist() == want
    pd = optional("pandas", extra="frame")
    pa = optional("pyarrow", extra="frame")
    pl = optional("polars", extra="frame")
    for column in (pd.Series(gaps), pa.array(gaps, type=pa.int64()), pl.Series(gaps)):
        assert sessionize.assign(keys, times, gap=column).tolist() == want, type(column)
    # timedelta columns for datetime64 times
    dtimes = DT_MS.times(ticks)
    want_dt = sessionize.assign(keys, dtimes, gap=DT_MS.gaps(gaps)).tolist()
    assert want_dt == want
    assert sessionize.assign(keys, dtimes, gap=pd.Series(DT_MS.gaps(gaps))).tolist() == want
    arrow_gaps = pa.array(DT_MS.gaps(gaps), type=pa.duration("ms"))
    assert sessionize.assign(keys, dtimes, gap=arrow_gaps).tolist() == want


# --------------------------------------------------------------------------
# bad gaps: the default raises, naming the event


BAD = [
    (INT, 0), (INT, -3),
    (DT_MS, np.timedelta64(0, "ms")), (DT_MS, np.timedelta64(-1, "ms")),
    (DT_MS, np.timedelta64("NaT", "ms")),
    (FLOAT_S, 0.0), (FLOAT_S, -0.5), (FLOAT_S, float("nan")),
]


@pytest.mark.parametrize("position", [0, 3, 5])
@pytest.mark.parametrize("kind,bad", BAD, ids=lambda v: str(v))
def test_bad_gap_raises_naming_it(kind, bad, position):
    keys = ["a", "b", "a", "b", "a", "b"]
    ticks = [0, 1, 2, 3, 4, 5]
    times = kind.times(ticks)
    gaps = kind.gaps([2] * 6)
    gaps[position] = bad
    for call in (sessionize.assign, sessionize.sessions):
        with pytest.raises(sessionize.SessionizeError, match=re.escape(f"gap[{position}]")):
            call(keys, times, gap=gaps)


def test_gap_array_of_another_length_raises():
    with pytest.raises(sessionize.SessionizeError):
        sessionize.assign(["a"] * 3, np.array([0, 1, 2]), gap=np.array([1, 1]))


def test_empty_input_with_empty_gap_array():
    t = sessionize.sessions([], np.array([], dtype=np.int64), gap=np.array([], dtype=np.int64))
    assert len(t) == 0
    assert sessionize.assign([], np.array([], dtype=np.int64),
                             gap=np.array([], dtype=np.int64)).tolist() == []


# --------------------------------------------------------------------------
# hypothesis: a constant gap array is the scalar gap; random gaps = reference


@st.composite
def events(draw, max_size=40):
    n = draw(st.integers(0, max_size))
    keys = draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n))
    ticks = draw(st.lists(st.integers(0, 50), min_size=n, max_size=n))
    return keys, ticks


@st.composite
def caps(draw):
    mode = draw(st.sampled_from([None, "restart", "fixed"]))
    if mode is None:
        return None
    return mode, draw(st.integers(1, 30))


@settings(max_examples=examples(300), **SETTINGS)
@given(ev=events(), gap=st.integers(1, 20), cap=caps(), inclusive=st.booleans(),
       kind=st.sampled_from(KINDS))
def test_constant_gap_array_equals_scalar_gap(ev, gap, cap, inclusive, kind):
    keys, ticks = ev
    times = kind.times(ticks)
    common = dict(inclusive=inclusive, **_cap_kwargs(kind, cap))
    scalar = dict(gap=kind.dur(gap), **common)
    array = dict(gap=kind.gaps([gap] * len(ticks)), **common)
    assert (sessionize.assign(keys, times, **array).tolist()
            == sessionize.assign(keys, times, **scalar).tolist())
    want = sessionize.sessions(keys, times, **scalar)
    got = sessionize.sessions(keys, times, **array)
    assert len(got) == len(want)
    for col in want.columns:
        assert got[col].dtype == want[col].dtype, col
        assert got[col].tolist() == want[col].tolist(), col
    # the API gives a constant column to the scalar core; the per-event core
    # must agree on it too
    if ticks:
        cap_kw = _cap_kwargs(kind, cap)
        _, _, args, g = _batch._prepare(keys, times, array["gap"], cap_kw.get("max_duration"),
                                        cap_kw.get("max_duration_mode", "restart"), inclusive)
        data, key_kind, n_codes, t, _gap, max_i, cap_mode, incl, nat = args
        ids, cols = _core.gapped(data, key_kind, n_codes, t, g.gaps, max_i, cap_mode, incl, nat)
        sids, _path, scols = _core.batch(data, key_kind, n_codes, t, int(g.gaps[0]), max_i,
                                         cap_mode, incl, nat, True)
        assert ids.tolist() == sids.tolist()
        assert [c.tolist() for c in cols] == [c.tolist() for c in scols]


@settings(max_examples=examples(400), **SETTINGS)
@given(ev=events(), data=st.data(), cap=caps(), inclusive=st.booleans(),
       kind=st.sampled_from(KINDS))
def test_random_gaps_match_reference(ev, data, cap, inclusive, kind):
    keys, ticks = ev
    gaps = data.draw(st.lists(st.integers(1, 20), min_size=len(ticks), max_size=len(ticks)))
    check(keys, ticks, gaps, kind, inclusive=inclusive, cap=cap)


# --------------------------------------------------------------------------
# the models: the scan reference is Flink's (and Beam's) window merging


@settings(max_examples=examples(400), **SETTINGS)
@given(ev=events(), data=st.data())
def test_scan_reference_is_flink_merge(ev, data):
    keys, ticks = ev
    gaps = data.draw(st.lists(st.integers(1, 20), min_size=len(ticks), max_size=len(ticks)))
    assert sessions_with_gaps(keys, ticks, gaps, inclusive=True) == flink_merge(keys, ticks, gaps)
    # and without touching, Beam's strict overlap, the inclusive=False scan
    assert (sessions_with_gaps(keys, ticks, gaps, inclusive=False)
            == merge_windows(keys, ticks, gaps, touching=False))


@pytest.mark.parametrize("seed", range(5))
def test_scan_reference_is_flink_merge_on_touching_dense_data(seed):
    keys, ticks, gaps = touching_dense(seed, n_keys=3, per_key=30)
    assert sessions_with_gaps(keys, ticks, gaps) == flink_merge(keys, ticks, gaps)
    assert (sessions_with_gaps(keys, ticks, gaps, inclusive=False)
            == merge_windows(keys, ticks, gaps, touching=False))


@settings(max_examples=examples(200), **SETTINGS)
@given(ev=events(), data=st.data(), gap=st.integers(1, 20), cap=caps(),
       inclusive=st.booleans())
def test_reference_with_constant_gaps_is_the_scalar_reference(ev, data, gap, cap, inclusive):
    # the dynamic reference against tests/reference.py, written separately
    from reference import reference_sessions

    keys, ticks = ev
    want = reference_sessions(keys, ticks, gap, max_duration=None if cap is None else cap[1],
                              mode="restart" if cap is None else cap[0], inclusive=inclusive)
    got = sessions_with_gaps(keys, ticks, [gap] * len(ticks), inclusive=inclusive,
                             **_ref_cap(cap))
    assert got == want


# --------------------------------------------------------------------------
# Spark: session_window(ts, gap column), batch
#
# What Spark 4 does, as probed (pyspark 4.x, local):
# - touching windows merge: events at 0, 5, 8 s with gaps 5, 3, 1 s are one
#   session [0 s, 9 s): MergingSessions starts a new session only when the
#   next window (sorted by start) starts after the current session's end, so
#   Spark is inclusive=True for dynamic gaps as for a scalar one.  A session's
#   end is the largest ts + gap of its rows (0 s gap 100 s, 50 s gap 1 s ->
#   [0, 101 s) with the 100 s event; ties at one ts with gaps 1 s and 10 s
#   reach 10 s whichever comes first).
# - a gap that is 0, negative or null is not an error: the analyzer's
#   SessionWindowing rule adds `Filter(isnotnull(ts) AND session_window.end >
#   session_window.start)` under the aggregate (see df.explain()), so those
#   rows are dropped, and a key whose rows all have bad gaps has no session.
#   A string that does not parse as an interval ("banana") casts to null and
#   is dropped too.  (Flink's DynamicEventTimeSessionWindows instead throws
#   IllegalArgumentException("Dynamic session time gap must satisfy 0 < gap").)
# - the gap column must be a string (cast to an interval) or a
#   CalendarIntervalType (make_interval); a DayTimeIntervalType column is an
#   AnalysisException ("Gap duration expression used in session window must
#   be CalendarIntervalType").

SPARK_PANDAS_WARNING = "ignore:PySpark does not yet fully support pandas:FutureWarning"


@pytest.fixture(scope="module")
def spark():
    engine("pyspark", dist="pyspark", minversion="3.2")  # session_window: 3.2+
    import pyspark

    require_java(17 if int(pyspark.__version__.split(".")[0]) >= 4 else 8)
    from engines.spark_run import local_spark

    session = local_spark()
    yield session
    session.stop()


def spark_dynamic(spark, rows, gap="string"):
    """session_window over (key, id, sec, gap_seconds or None) rows, the gap
    given as a "<n> seconds" string column or as make_interval(...).

    Returns sorted (key, start_s, end_s, count, ids) tuples."""
    from pyspark.sql import functions as F

    data = [(k, i, s, None if g is None else f"{g} seconds", g) for k, i, s, g in rows]
    df = spark.createDataFrame(data, "key string, id long, sec long, g string, gs long")
    df = df.withColumn("ts", F.timestamp_seconds("sec"))
    if gap == "string":
        gap_col = F.col("g")
    else:
        gap_col = F.expr("make_interval(0, 0, 0, 0, 0, 0, gs)")
    out = (
        df.groupBy("key", F.session_window("ts", gap_col).alias("w"))
        .agg(F.count("*").alias("n"), F.sort_array(F.collect_list("id")).alias("ids"))
        .select("key", F.unix_seconds(F.col("w.start")).alias("s"),
                F.unix_seconds(F.col("w.end")).alias("e"), "n", "ids")
        .collect()
    )
    return sorted((r.key, r.s, r.e, r.n, tuple(r.ids)) for r in out)


def _grouped(ids, starts, wends, counts, table_keys, event_ids):
    members = {}
    for e, g in zip(event_ids, ids):
        members.setdefault(g, []).append(e)
    return sorted((table_keys[g], starts[g], wends[g], counts[g], tuple(sorted(members[g])))
                  for g in members)


def reference_spark_rows(rows, inclusive=True):
    keys = [r[0] for r in rows]
    ids, ss = sessions_with_gaps(keys, [r[2] for r in rows], [r[3] for r in rows],
                                 inclusive=inclusive)
    return _grouped(ids, [s["start"] for s in ss], [s["window_end"] for s in ss],
                    [s["count"] for s in ss], [s["key"] for s in ss], [r[1] for r in rows])


def sessionize_spark_rows(rows, inclusive=True):
    keys = [r[0] for r in rows]
    times = np.array([r[2] for r in rows], dtype=np.int64).astype("datetime64[s]")
    gaps = np.array([r[3] for r in rows], dtype=np.int64).astype("timedelta64[s]")
    t = sessionize.sessions(keys, times, gap=gaps, inclusive=inclusive)
    ids = sessionize.assign(keys, times, gap=gaps, inclusive=inclusive).tolist()
    def secs(a):
        return a.astype("datetime64[s]").astype(np.int64).tolist()

    return _grouped(ids, secs(t["start"]), secs(t["window_end"]), t["count"].tolist(),
                    t["key"].tolist(), [r[1] for r in rows])


def spark_events(seed=5, n_keys=5, per_key=60):
    """(key, id, sec, gap_s) rows, touching-dense, times shuffled."""
    keys, ticks, gaps = touching_dense(seed, n_keys=n_keys, per_key=per_key)
    return [(k, i, S_ORIGIN + t, g) for i, (k, t, g) in enumerate(zip(keys, ticks, gaps))]


_SPARK_RUNS = {}


def _spark_run(spark, name, rows, gap="string"):
    if (name, gap) not in _SPARK_RUNS:
        _SPARK_RUNS[name, gap] = spark_dynamic(spark, rows, gap)
    return _SPARK_RUNS[name, gap]


@pytest.mark.filterwarnings(SPARK_PANDAS_WARNING)
def test_spark_touching_windows_merge(spark):
    rows = [("touch", 0, 0, 5), ("touch", 1, 5, 3), ("touch", 2, 8, 1),
            ("long", 3, 0, 100), ("long", 4, 50, 1), ("long", 5, 99, 1),
            ("long", 6, 100, 1), ("long", 7, 102, 1),
            ("tie", 8, 10, 1), ("tie", 9, 0, 1), ("tie", 10, 0, 10)]
    got = _spark_run(spark, "hand", rows)
    assert got == [
        ("long", 0, 101, 4, (3, 4, 5, 6)), ("long", 102, 103, 1, (7,)),
        ("tie", 0, 11, 3, (8, 9, 10)),
        ("touch", 0, 9, 3, (0, 1, 2)),
    ]
    assert got == reference_spark_rows(rows, inclusive=True)
    assert got != reference_spark_rows(rows, inclusive=False)


@pytest.mark.filterwarnings(SPARK_PANDAS_WARNING)
def test_spark_matches_reference(spark):
    # the model alone (runs before the package has dynamic gaps)
    rows = spark_events()
    assert _spark_run(spark, "dense", rows) == reference_spark_rows(rows, inclusive=True)


@pytest.mark.filterwarnings(SPARK_PANDAS_WARNING)
@pytest.mark.parametrize("gap", ["string", "interval"])
def test_spark_matches_sessionize(spark, gap):
    rows = spark_events()
    got = _spark_run(spark, "dense", rows, gap)
    assert got == sessionize_spark_rows(rows, inclusive=True)
    # with the other setting the sessions differ, so the comparison has teeth
    assert got != sessionize_spark_rows(rows, inclusive=False)


SPARK_BAD_ROWS = [
    ("a", 0, 0, 5), ("a", 1, 3, 0), ("a", 2, 5, 2),      # 0 s gap at 3 s
    ("a", 3, 7, -4), ("a", 4, 30, 1),                    # a negative gap
    ("b", 5, 0, None), ("b", 6, 1, 1), ("b", 7, 2, 1),   # a null gap
    ("c", 8, 9, 0), ("c", 9, 9, None),                   # only bad gaps: no session
    ("d", 10, 4, 2), ("d", 11, 6, -1), ("d", 12, 6, 3),
]


def _good(rows):
    return [r for r in rows if r[3] is not None and r[3] > 0]


@pytest.mark.filterwarnings(SPARK_PANDAS_WARNING)
def test_spark_drops_rows_with_bad_gaps(spark):
    rows = [(k, i, S_ORIGIN + s, g) for k, i, s, g in SPARK_BAD_ROWS]
    got = _spark_run(spark, "bad", rows)
    bad_ids = {r[1] for r in rows} - {r[1] for r in _good(rows)}
    assert bad_ids == {1, 3, 5, 8, 9, 11}
    assert not bad_ids & {i for row in got for i in row[4]}
    assert "c" not in {row[0] for row in got}
    assert got == reference_spark_rows(_good(rows), inclusive=True)


@pytest.mark.filterwarnings(SPARK_PANDAS_WARNING)
def test_spark_bad_gaps_sessionize_raises_and_matches_without_them(spark):
    rows = [(k, i, S_ORIGIN + s, g) for k, i, s, g in SPARK_BAD_ROWS]
    got = _spark_run(spark, "bad", rows)
    # sessionize's default raises, naming one of the bad gaps ...
    keys = [r[0] for r in rows]
    times = np.array([r[2] for r in rows], dtype=np.int64).astype("datetime64[s]")
    gaps = np.array([np.timedelta64("NaT", "s") if r[3] is None else np.timedelta64(r[3], "s")
                     for r in rows])
    with pytest.raises(sessionize.SessionizeError, match=r"gap\[\d+\]") as err:
        sessionize.sessions(keys, times, gap=gaps)
    named = int(re.search(r"gap\[(\d+)\]", str(err.value)).group(1))
    assert rows[named][3] is None or rows[named][3] <= 0
    # ... and on the rows Spark keeps gives Spark's sessions
    assert got == sessionize_spark_rows(_good(rows), inclusive=True)


# --------------------------------------------------------------------------
# sessionize.spark with a gap column: the same rows through the adapter,
# inside Spark, against Spark's own session_window

def adapter_rows(spark, rows, gap="string", on_bad_gap="raise"):
    """sessionize.spark.sessions over (key, id, sec, gap_s) rows, as
    spark_dynamic's tuples, with each session's ids from assign()."""
    from pyspark.sql import functions as F

    import sessionize.spark as szs

    data = [(k, i, s, None if g is None else f"{g} seconds", g) for k, i, s, g in rows]
    df = spark.createDataFrame(data, "key string, id long, sec long, g string, gs long")
    df = df.withColumn("ts", F.timestamp_seconds("sec"))
    gap_col = "g" if gap == "string" else F.expr("make_interval(0, 0, 0, 0, 0, 0, gs)")
    t = szs.sessions(df, key="key", time="ts", gap=gap_col, on_bad_gap=on_bad_gap).collect()
    a = szs.assign(df, key="key", time="ts", gap=gap_col, on_bad_gap=on_bad_gap).collect()
    members = {}
    for r in a:
        if r.session_id is not None:
            members.setdefault((r.key, r.session_id), []).append(r.id)
    return sorted((r.key, int(r.start.timestamp()), int(r.window_end.timestamp()), r["count"],
                   tuple(sorted(members[r.key, r["index"]]))) for r in t)


@pytest.mark.filterwarnings(SPARK_PANDAS_WARNING)
@pytest.mark.parametrize("gap", ["string", "interval"])
def test_spark_adapter_gap_column_is_session_window(spark, gap):
    rows = spark_events(seed=11)
    assert adapter_rows(spark, rows, gap) == spark_dynamic(spark, rows, gap)


@pytest.mark.filterwarnings(SPARK_PANDAS_WARNING)
def test_spark_adapter_bad_gaps(spark):
    rows = [(k, i, S_ORIGIN + s, g) for k, i, s, g in SPARK_BAD_ROWS]
    # drop: what session_window does, and the dropped rows' session_id is null
    assert adapter_rows(spark, rows, on_bad_gap="drop") == _spark_run(spark, "bad", rows)
    # the default fails the job, naming the key and time of a bad gap
    with pytest.raises(Exception, match=r"gap: .* for key '(a|b|c|d)' at ts = "):
        adapter_rows(spark, rows)


@pytest.mark.filterwarnings(SPARK_PANDAS_WARNING)
def test_spark_adapter_gap_column_integer_times(spark):
    """Integer times take integer gaps (in their unit), per row; the
    adapter gives what the array API gives on the same events."""
    import sessionize.spark as szs

    keys, ticks, gaps = touching_dense(3, n_keys=4, per_key=50)
    df = spark.createDataFrame([(k, int(t), int(g)) for k, t, g in zip(keys, ticks, gaps)],
                               "key string, t long, g long")
    got = sorted(tuple(r) for r in szs.sessions(df, key="key", time="t", gap="g").collect())
    t = sessionize.sessions(keys, np.asarray(ticks, dtype=np.int64),
                            gap=np.asarray(gaps, dtype=np.int64))
    want = sorted(zip(t["key"].tolist(), t["start"].tolist(), t["end"].tolist(),
                      t["count"].tolist(), t["index"].tolist(), t["window_end"].tolist()))
    assert got == want
    with pytest.raises(TypeError, match="integer times take integer gaps"):
        szs.sessions(df.withColumn("g", df.g.cast("string")), key="key", time="t", gap="g")


def test_gap_messages_name_the_row():
    with pytest.raises(sessionize.SessionizeError,
                       match=r"gap\[0\]: 4e-07 s is less than one microsecond"):
        sessionize.sessions([1, 1], [0.0, 1.0], gap=np.array([4e-7, 1.0]))
    with pytest.raises(sessionize.SessionizeError,
                       match=r"gap\[1\]: time \+ gap overflows int64"):
        sessionize.sessions([1, 1], np.array([0, 2**62]), gap=np.array([1, 2**62]))
    with pytest.raises(sessionize.SessionizeError,
                       match=r"gap\[0\]: 1.5 is not a whole number"):
        sessionize.sessions([1, 1], [0, 1], gap=np.array([1.5, 1.0]))
    with pytest.raises(sessionize.SessionizeError, match="on_bad_gap: must be 'raise' or 'drop'"):
        sessionize.sessions([1], [0], gap=np.array([1]), on_bad_gap="skip")


def test_drop_counts_and_leaves_out_bad_gaps():
    keys, times = ["a", "a", "a", "b"], np.array([0, 3, 4, 1])
    gaps = np.array([4, 0, 2, -1])
    with pytest.warns(sessionize.SessionizeWarning, match=r"dropped 2 of 4 events .* gap\[1\]"):
        ids = sessionize.assign(keys, times, gap=gaps, on_bad_gap="drop")
    assert ids.tolist() == [0, -1, 0, -1]
    with pytest.warns(sessionize.SessionizeWarning):
        t = sessionize.sessions(keys, times, gap=gaps, on_bad_gap="drop",
                                agg={"n": (np.array([1, 10, 100, 1000]), "sum")})
    assert t["start"].tolist() == [0] and t["window_end"].tolist() == [6]  # 4 + 2
    assert t["count"].tolist() == [2] and t["n"].tolist() == [101]


def test_frame_gap_column_name_wins_over_a_duration():
    pd = pytest.importorskip("pandas")
    import sessionize.frame as sf

    df = pd.DataFrame({"k": ["a"] * 3, "t": [0, 5, 20], "30": [10, 10, 10]})
    # "30" names a column: per-row gaps of 10, so 20 starts a second session
    assert sf.sessions(df, key="k", time="t", gap="30")["count"].tolist() == [2, 1]
    with pytest.raises(sessionize.SessionizeError, match=r"gap\[1\]: missing gap"):
        sf.sessions(df.assign(g=[1.0, None, 3.0]), key="k", time="t", gap="g")


def test_streams_say_they_take_one_gap():
    for gap in (np.array([1, 2]), [1, 2]):
        with pytest.raises(TypeError, match="gap is one duration; .* per_event_gaps=True"):
            sessionize.Sessionizer(gap)
        with pytest.raises(TypeError, match="SearchSessionizer takes one gap"):
            sessionize.SearchSessionizer(gap)


def test_times_before_the_epoch():
    # every time negative: the core's coarse grouping once overflowed here
    keys, ticks, gaps = touching_dense(7)
    neg = np.asarray(ticks, dtype=np.int64) - 10**6
    ids, ss = sessions_with_gaps(keys, neg.tolist(), gaps)
    t = sessionize.sessions(keys, neg, gap=np.asarray(gaps, dtype=np.int64))
    assert sessionize.assign(keys, neg, gap=np.asarray(gaps, dtype=np.int64)).tolist() == ids
    assert t["window_end"].tolist() == [s["window_end"] for s in ss]
