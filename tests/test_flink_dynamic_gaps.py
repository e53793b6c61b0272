"""Per-event gaps (issue 26) against PyFlink's own
``EventTimeSessionWindows.with_dynamic_gap`` (run here, in the Flink venv).

One Flink job (one mini-cluster start, a module-scoped fixture) windows every
input below: a bounded collection source, each element's timestamp its time
(ms), monotonous-timestamp watermarks with periodic emission off, so the only
watermark is the one at the end of the input and every window fires then,
after all merging; keyed by key, ``with_dynamic_gap`` with an extractor
returning the element's own gap, and a ProcessWindowFunction reporting each
window (key, start, end, count, sorted event ids).

The data: touching_dense (tests/test_dynamic_gaps.py) for three seeds, each
under its own key prefix (most steps within a key exactly the previous
event's gap, so its window touches the next; ties with different gaps; now
and then a long gap), and hand-made keys (a chain of touching windows; ties;
a long-gap event keeping later short-gap ones open; windows touching only
through a third).  The elements go to Flink in time order (the
watermark strategy's promise), ties in shuffled order.

Asserted: Flink's windows are, as a set, sessionize.sessions(keys, times,
gap=gaps)'s (start, window_end, count) with assign()'s members for each
session, and flink_merge's from tests/dynamic_gap_reference.py; and
inclusive=False gives other sessions on this data.  Flink refuses a gap <= 0
(DynamicEventTimeSessionWindows.assign_windows raises "Dynamic session time
gap must satisfy 0 < gap"); sessionize's default raises for one too.

The streaming adapter (the second half): a second job runs Flink's
``with_dynamic_gap`` + ``allowed_lateness`` + late side output beside
``sessionize.flink.SessionWindowFunction(gap_of=...)`` on the same keyed
stream (tests/engines/flink_run.py, per-element bounded-out-of-orderness
watermarks), on generated elements dense in touching windows, ties and
longest-gap elements, arriving out of order with late ones, and hand-made
cases.  Asserted: Flink's job does what DynamicGapModel says (test_stream_flink's
model with per-element gaps, plus Flink's MergingWindowSet forgetting a
merged window's elements when an element's own window is exactly it); our
firings (start, end, members) and late elements are Flink's exactly where
neither that nor the purged-window difference of test_flink_adapter.py
arises, and elsewhere differ only as the model predicts.  A third, tiny
job shows that a gap over the bound fails the job, naming the element.

Skips when pyflink is not importable, unless SESSIONIZE_REQUIRE_FLINK=1
(CI's .venv-flink), then fails.
"""

from __future__ import annotations

import datetime
import random
import shutil
import sys
from collections import Counter

import numpy as np
import pytest

import sessionize
from dynamic_gap_reference import flink_merge
from engines.flink_run import flink_unavailable, import_pyflink, local_env, run_side_by_side
from sessionize import LateEvent, Sessionizer
from test_dynamic_gaps import touching_dense
from test_stream_flink import FlinkModel

SEEDS = (1, 2, 3)
HAND_MADE = {
    # key: [(time, gap), ...]
    "chain": [(0, 5), (5, 3), (8, 1)],                              # [0,5) [5,8) [8,9)
    "ties": [(0, 1), (0, 10), (10, 1), (30, 4), (30, 2), (34, 1)],  # bigger gap of a tie wins
    "long": [(0, 100), (50, 1), (99, 1), (100, 1), (102, 1)],       # 100 is kept by 0's gap
    "third": [(0, 10), (20, 5), (10, 10)],                          # 0 and 20 touch via 10
}


def dataset():
    """(keys, times, gaps) as lists, the seeds' events and the hand-made ones."""
    keys, times, gaps = [], [], []
    for seed in SEEDS:
        k, t, g = touching_dense(seed)
        keys += [f"s{seed}-{x}" for x in k]
        times += t
        gaps += g
    for key, rows in HAND_MADE.items():
        for t, g in rows:
            keys.append(key)
            times.append(t)
            gaps.append(g)
    return keys, times, gaps


def as_windows(sessions, ids):
    """A Counter of (key, start, window_end, count, member ids)."""
    members = {}
    for i, s in enumerate(ids):
        members.setdefault(int(s), []).append(i)
    return Counter((s["key"], s["start"], s["window_end"], s["count"],
                    tuple(members[g])) for g, s in enumerate(sessions))


def sessionize_windows(keys, times, gaps, *, inclusive=True):
    k, t, g = np.array(keys), np.array(times, dtype=np.int64), np.array(gaps, dtype=np.int64)
    table = sessionize.sessions(k, t, gap=g, inclusive=inclusive)
    ids = sessionize.assign(k, t, gap=g, inclusive=inclusive)
    rows = [{"key": str(table.key[r]), "start": int(table["start"][r]),
             "window_end": int(table["window_end"][r]), "count": int(table["count"][r])}
            for r in range(len(table.key))]
    return as_windows(rows, ids)


def flink_env():
    """A local StreamExecutionEnvironment (not engines.flink_run.local_env:
    no per-element watermark jar is needed here, and normal bundles do)."""
    from pyflink.common import Configuration
    from pyflink.datastream import StreamExecutionEnvironment

    if shutil.which("java") is None:
        flink_unavailable("java is not on PATH (PyFlink's mini-cluster needs Java 11+)")
    env = StreamExecutionEnvironment.get_execution_environment(Configuration())
    env.set_parallelism(1)
    env.set_python_executable(sys.executable)
    # no periodic watermarks: the end of the input's is the only one, so no
    # window fires before every element that touches it has arrived
    env.get_config().set_auto_watermark_interval(0)
    return env


def run_flink(keys, times, gaps):
    """-> a Counter of (key, start, end, count, sorted ids) of Flink's windows."""
    from pyflink.common import Types, WatermarkStrategy
    from pyflink.common.watermark_strategy import TimestampAssigner
    from pyflink.datastream.functions import ProcessWindowFunction
    from pyflink.datastream.window import (EventTimeSessionWindows,
                                           SessionWindowTimeGapExtractor)

    class ByTime(TimestampAssigner):
        def extract_timestamp(self, value, record_timestamp):
            return value[1]

    class OwnGap(SessionWindowTimeGapExtractor):
        def extract(self, element):
            return element[2]

    class Report(ProcessWindowFunction):
        def process(self, key, context, elements):
            w = context.window()
            ids = sorted(e[3] for e in elements)
            yield (key, w.start, w.end, len(ids), tuple(ids))

    # time order for the monotonous watermark (sorted() is stable: ties stay
    # in touching_dense's shuffled order)
    order = sorted(range(len(keys)), key=lambda i: times[i])
    rows = [(keys[i], times[i], gaps[i], i) for i in order]
    env = flink_env()
    src = env.from_collection(rows, type_info=Types.TUPLE(
        [Types.STRING(), Types.LONG(), Types.LONG(), Types.INT()]))
    windows = (src.assign_timestamps_and_watermarks(
                   WatermarkStrategy.for_monotonous_timestamps()
                   .with_timestamp_assigner(ByTime()))
               .key_by(lambda e: e[0], key_type=Types.STRING())
               .window(EventTimeSessionWindows.with_dynamic_gap(OwnGap()))
               .process(Report(), Types.PICKLED_BYTE_ARRAY()))
    with windows.execute_and_collect("sessionize-dynamic-gaps-vs-flink") as results:
        return Counter(results)


@pytest.fixture(scope="module")
def data():
    return dataset()


@pytest.fixture(scope="module")
def flink_windows(data):
    import_pyflink()
    return run_flink(*data)


def test_data_is_boundary_heavy(data):
    keys, times, gaps = data
    n = len(keys)
    touching = sum(1 for i in range(n) for j in range(n)
                   if keys[i] == keys[j] and times[j] == times[i] + gaps[i])
    ties = sum(1 for i in range(n) for j in range(i + 1, n)
               if keys[i] == keys[j] and times[i] == times[j] and gaps[i] != gaps[j])
    assert touching >= n // 3 and ties >= 10


def test_flink_saw_every_event_once(data, flink_windows):
    ids = [i for w in flink_windows for _ in range(flink_windows[w]) for i in w[4]]
    assert sorted(ids) == list(range(len(data[0])))


def test_same_windows_as_flink(data, flink_windows):
    assert sessionize_windows(*data) == flink_windows


def test_flink_is_the_merge_model(data, flink_windows):
    ids, sessions = flink_merge(*data)
    assert as_windows(sessions, ids) == flink_windows


def test_hand_made_keys(flink_windows):
    by_key = {}
    for key, start, end, count, _ in flink_windows:
        by_key.setdefault(key, []).append((start, end, count))
    assert sorted(by_key["chain"]) == [(0, 9, 3)]
    assert sorted(by_key["ties"]) == [(0, 11, 3), (30, 35, 3)]
    assert sorted(by_key["long"]) == [(0, 101, 4), (102, 103, 1)]
    assert sorted(by_key["third"]) == [(0, 25, 3)]


def test_exclusive_differs_on_this_data(data, flink_windows):
    """inclusive=False does not merge touching windows: other sessions here,
    so the comparison above can tell the two apart."""
    exclusive = sessionize_windows(*data, inclusive=False)
    assert exclusive != flink_windows
    assert sum(exclusive.values()) > sum(flink_windows.values())


@pytest.mark.parametrize("bad", [0, -5])
def test_a_gap_not_above_zero_is_an_error(bad):
    """As in Flink (below), sessionize's default raises for a gap <= 0
    (on_bad_gap='drop' is Spark's way, not Flink's)."""
    with pytest.raises(sessionize.SessionizeError, match=r"gap\[1\]: must be > 0"):
        sessionize.sessions(["u", "u"], np.array([0, 10]), gap=np.array([5, bad]))


def test_flink_refuses_a_gap_not_above_zero():
    """Flink's assigner itself (no job): DynamicEventTimeSessionWindows
    raises for a gap <= 0."""
    import_pyflink()
    from pyflink.datastream.window import (EventTimeSessionWindows,
                                           SessionWindowTimeGapExtractor)

    class OwnGap(SessionWindowTimeGapExtractor):
        def extract(self, element):
            return element[2]

    assigner = EventTimeSessionWindows.with_dynamic_gap(OwnGap())
    for bad in (0, -5):
        with pytest.raises(Exception, match="Dynamic session time gap must satisfy 0 < gap"):
            assigner.assign_windows(("u", 10, bad, 0), 10, None)
    assert [(w.start, w.end) for w in assigner.assign_windows(("u", 10, 5, 0), 10, None)] == [
        (10, 15)]


# ---- the streaming adapter: SessionWindowFunction(gap_of=) against
# with_dynamic_gap + allowed_lateness, side by side in a second job

MIN = 60_000  # ms
# the adapter's bound (the longest gap), the watermark's out-of-orderness,
# the allowed lateness
BOUND, DELAY, LATENESS = 30 * MIN, 20 * MIN, 15 * MIN
STREAM_SEEDS = (0, 1)
STREAM_CASES = {
    # (key, time, value, gap) in arrival order, times and gaps in ms
    # [0,2) and [10,12) fired, not purged; the late [1,10) touches both
    "bridge_touching": [("u", 0, "a", 2 * MIN), ("u", 10 * MIN, "b", 2 * MIN),
                        ("v", 35 * MIN, "w", MIN), ("u", MIN, "bridge", 9 * MIN)],
    # [0,1) and [5,6) fired; a late tie at 0 with the longest gap keeps 5
    # in its window, and an element at exactly 0 + 30 min touches it
    "long_keeps_open": [("u", 0, "a", MIN), ("u", 5 * MIN, "b", MIN),
                        ("v", 30 * MIN, "w", MIN), ("u", 0, "long", BOUND),
                        ("u", 30 * MIN, "touch", MIN)],
    # purged in both, its own window late too: the late output
    "too_late": [("u", 0, "a", 5 * MIN), ("v", 60 * MIN, "w", MIN),
                 ("u", MIN, "too late", MIN)],
    # the documented difference: its own window [2, 32) is not late, so
    # Flink opens it over the purged [0, 5); it would reach into a final
    # session: late for us
    "joins_purged": [("u", 0, "a", 5 * MIN), ("v", 60 * MIN, "w", MIN),
                     ("u", 2 * MIN, "joins a", BOUND)],
    # the other: [0,30) holds a and b under [0,5)'s state; c's own window
    # is [0,30) exactly: Flink fires it with c alone (DynamicGapModel)
    "forgets": [("u", 0, "a", 5 * MIN), ("u", 0, "b", BOUND), ("u", 0, "c", BOUND),
                ("v", 60 * MIN, "w", MIN)],
}


def gapped_visits(seed, n_keys=16, late_share=0.1):
    """(key, time, value, gap) in arrival order: per key, sessions whose
    elements mostly start exactly where an earlier one's window ends
    (t_j == t_i + gap_i), some ties (an earlier element's time, another
    gap), some a little past their predecessor's window (kept open only by
    a longer gap before it), now and then the longest gap; sessions apart by
    more than their reach.  Arrival: up to 19 minutes of disorder (the
    watermark's 20), some elements held back 20-35 minutes (late, mostly
    allowed) or 40-120 minutes (too late)."""
    rnd = random.Random(seed)
    events = []
    for u in range(n_keys):
        key = f"user_{u}"
        t = rnd.randrange(0, 30) * MIN
        for _ in range(rnd.randint(1, 3)):
            mine = []
            for _ in range(rnd.randint(1, 12)):
                g = BOUND if rnd.random() < 0.1 else rnd.randint(1, 8) * MIN
                te = rnd.choice(mine)[0] if mine and rnd.random() < 0.15 else t
                mine.append((te, g))
                events.append((key, te, f"{key}#{len(events)}", g))
                r = rnd.random()
                t = te + g if r < 0.6 else te + g + rnd.randint(1, 5) * MIN if r < 0.85 \
                    else te + rnd.randint(1, 59) * 1000
            t = max(a + b for a, b in mine) + rnd.randint(1, 40) * MIN
    arrivals = []
    for i, e in enumerate(events):
        r = rnd.random()
        if r < late_share / 2:
            lag = rnd.randint(20, 35) * MIN
        elif r < late_share:
            lag = rnd.randint(40, 120) * MIN
        else:
            lag = rnd.randint(0, 19 * 60) * 1000
        arrivals.append((e[1] + lag, i, e))
    arrivals.sort()
    return [e for _, _, e in arrivals]


class DynamicGapModel(FlinkModel):
    """test_stream_flink's model of Flink's window operator, each element
    with its own gap (with_dynamic_gap), and one behaviour of Flink's
    MergingWindowSet that only per-element gaps reach.

    Flink keeps a merged window's elements under one of the windows merged
    into it (its state window).  An element whose own window [t, t + gap)
    is exactly an in-flight window (same start and end) merges with nothing
    (TimeWindow.mergeWindows collects windows in a set: one), and addWindow
    then maps that window to itself as a new one would be: when its state
    was another window's, the elements held there are no longer the
    window's, and it fires with the new element (and later ones) only.
    With keep=True the model does not do that (what firing every element
    would give).  self.forgotten: (value, values forgotten) per such
    element."""

    def __init__(self, keep=False):
        super().__init__(BOUND, DELAY, LATENESS)
        self.keep = keep
        self.forgotten = []

    def element(self, key, t, v, g):
        out = []
        ws = self.windows.setdefault(key, [])
        # a window: [start, end, contents, whether its state window is itself]
        merged = [w for w in ws if w[0] <= t + g and w[1] >= t]
        start = min([t] + [w[0] for w in merged])
        end = max([t + g] + [w[1] for w in merged])
        if end - 1 + self.lateness <= self.wm:  # isWindowLate: late output
            assert not merged
            out.append(("late", key, t, v))
        else:
            if len(merged) == 1 and merged[0][:2] == [t, t + g]:
                win = merged[0]
                if not win[3] and not self.keep:
                    self.forgotten.append((v, tuple(x[1] for x in win[2])))
                    win[2], win[3] = [], True
                win[2].append((t, v))
            else:
                # the state window of the result is the merged one's when it
                # is the result itself; else another window's
                own = (not merged or len(merged) == 1 and merged[0][:2] == [start, end]
                       and merged[0][3])
                contents = [e for w in merged for e in w[2]] + [(t, v)]
                for w in merged:
                    ws.remove(w)
                win = [start, end, contents, own]
                ws.append(win)
            if end - 1 <= self.wm:  # EventTimeTrigger.onElement: FIRE
                out.append(self._fire(key, win))
        self.max_ts = t if self.max_ts is None else max(self.max_ts, t)
        out += self.watermark(self.max_ts - self.delay - 1)
        return out


def stream_model(events, keep=False):
    """-> (one list of ("fire", key, start, end, contents) and ("late", key,
    t, value) per element and one for the end of input, the model)."""
    f = DynamicGapModel(keep)
    calls = [f.element(k, t, v, g) for k, t, v, g in events]
    calls.append(f.end_of_input())
    return calls, f


def model_fires(calls):
    return Counter((r[1], r[2], r[3], tuple(sorted(v for _, v in r[4])))
                   for c in calls for r in c if r[0] == "fire")


def model_late(calls):
    return sorted(r[3] for c in calls for r in c if r[0] == "late")


def stream_ours(events):
    """The values a Sessionizer with per-event gaps (delay: Flink's
    out-of-orderness - 1 ms, test_stream_flink's equivalence) returns late."""
    sz = Sessionizer(BOUND, per_event_gaps=True, delay=DELAY - 1,
                     allowed_lateness=LATENESS, emit="update", collect=True)
    late = set()
    for k, t, v, g in events:
        late.update(x.value for x in sz.push(k, t, v, gap=g) if isinstance(x, LateEvent))
    return late


def stream_difference(events):
    """The elements we judge late and Flink does not: those at or before the
    end of a window Flink already purged (asserted), where Flink opens a
    new window over the purged one."""
    calls, f = stream_model(events)
    flink_late = set(model_late(calls))
    our_late = stream_ours(events)
    assert flink_late <= our_late
    extra = our_late - flink_late
    f = DynamicGapModel()
    for k, t, v, g in events:
        if v in extra:
            assert k in f.purged and t <= f.purged[k], (k, t, v, g)
        f.element(k, t, v, g)
    return extra


def forgetting(events):
    """The elements whose window is exactly an in-flight merged one (Flink
    forgets that window's elements), per the model."""
    return {v for v, _ in stream_model(events)[1].forgotten}


@pytest.fixture(scope="module")
def stream_runs():
    """One job: per seed the generated elements ("seed0"), without those
    Flink opens a new window for over a purged one ("-no-purged"), and
    without those nor the ones that make Flink forget ("-agreeing"); and
    the hand-made cases."""
    import_pyflink()
    inputs = {}
    for seed in STREAM_SEEDS:
        events = gapped_visits(seed)
        inputs[f"seed{seed}"] = events
        extra = stream_difference(events)
        if extra:
            events = [e for e in events if e[2] not in extra]
            inputs[f"seed{seed}-no-purged"] = events
        for _ in range(5):  # leaving elements out can make others differ
            parting = stream_difference(events) | forgetting(events)
            if not parting:
                break
            events = [e for e in events if e[2] not in parting]
        assert not parting
        if events is not list(inputs.values())[-1]:  # not the same input twice
            inputs[f"seed{seed}-agreeing"] = events
    inputs.update(STREAM_CASES)
    out = run_side_by_side(local_env(), list(inputs.values()), gap_ms=BOUND,
                           out_of_orderness_ms=DELAY, lateness_ms=LATENESS, dynamic=True)
    return {name: (inputs[name], run) for name, run in zip(inputs, out)}


def test_stream_data_is_boundary_heavy():
    for seed in STREAM_SEEDS:
        events = gapped_visits(seed)
        keys = [e[0] for e in events]
        times = [e[1] for e in events]
        gaps = [e[3] for e in events]
        n = len(events)
        touching = sum(1 for i in range(n) for j in range(n)
                       if keys[i] == keys[j] and times[j] == times[i] + gaps[i])
        ties = sum(1 for i in range(n) for j in range(i + 1, n)
                   if keys[i] == keys[j] and times[i] == times[j] and gaps[i] != gaps[j])
        assert touching >= n // 3 and ties >= 5 and gaps.count(BOUND) >= 5, seed


def test_stream_flink_job_is_the_model(stream_runs):
    """Flink's with_dynamic_gap window operator in the job fires and
    side-outputs what DynamicGapModel says, on every input, forgetting
    included (so the differences below are Flink's own)."""
    for name, (events, run) in stream_runs.items():
        calls, _ = stream_model(events)
        assert Counter(run["flink_fires"]) == model_fires(calls), name
        assert sorted(run["flink_late"]) == model_late(calls), name


def test_stream_same_firings_and_late_output_as_flink(stream_runs):
    """Every firing (key, start, end, members; count is their number),
    re-firings after late elements included, and every late element are
    Flink's, on every input where neither difference below arises."""
    names = [n for n, (events, _) in stream_runs.items()
             if not stream_difference(events) and not forgetting(events)]
    for seed in STREAM_SEEDS:  # each seed's elements, or most of them
        assert any(n.split("-")[0] == f"seed{seed}" for n in names), seed
    for name in names:
        _, run = stream_runs[name]
        assert Counter(run["our_fires"]) == Counter(run["flink_fires"]), name
        assert sorted(run["our_late"]) == sorted(run["flink_late"]), name
    generated = [stream_runs[n][1] for n in names if n.startswith("seed")]
    # late data exercised both paths: re-firings, merges and drops
    assert any(s.revision > 0 for r in generated for s in r["our_sessions"])
    assert any(s.replaces for r in generated for s in r["our_sessions"])
    assert sum(len(r["flink_late"]) for r in generated) > 0


def test_stream_differences_are_only_where_the_model_says(stream_runs):
    """Our late output is Flink's plus the elements that reach into a
    window Flink purged; and without those, our firings are the model's
    when Flink forgets nothing (keep=True): Flink's own where it forgets
    nothing, and with the forgotten elements where it does."""
    forgot = 0
    for name, (events, run) in stream_runs.items():
        extra = stream_difference(events)
        assert set(run["flink_late"]) <= set(run["our_late"]), name
        assert set(run["our_late"]) - set(run["flink_late"]) == extra, name
        if not extra:
            kept, _ = stream_model(events, keep=True)
            assert Counter(run["our_fires"]) == model_fires(kept), name
            if forgetting(events):
                assert Counter(run["our_fires"]) != Counter(run["flink_fires"]), name
                forgot += name.startswith("seed")
    assert forgot > 0  # the generated elements met it too


def test_stream_window_end_is_the_largest_reach(stream_runs):
    """Each emitted session's window_end is the largest t + gap of its
    members (Flink's merged TimeWindow.end), often beyond last + own gap."""
    beyond = 0
    for name, (events, run) in stream_runs.items():
        at = {v: (t, t + g) for _, t, v, g in events}
        for s in run["our_sessions"]:
            assert s.window_end == max(at[v][1] for v in s.values), name
            assert (s.start, s.end, s.count) == (min(at[v][0] for v in s.values),
                                                 max(at[v][0] for v in s.values),
                                                 len(s.values)), name
            beyond += s.window_end > at[s.values[-1]][1]
    assert beyond > 0


def test_stream_hand_made_cases(stream_runs):
    _, run = stream_runs["bridge_touching"]
    merged = [s for s in run["our_sessions"] if s.key == "u" and s.count == 3]
    assert [(s.start, s.window_end, s.revision, len(s.replaces)) for s in merged] == [
        (0, 12 * MIN, 1, 1)]
    assert ("u", 0, 12 * MIN, ("a", "b", "bridge")) in run["flink_fires"]
    assert Counter(run["our_fires"]) == Counter(run["flink_fires"])
    _, run = stream_runs["long_keeps_open"]
    u = sorted((s.start, s.window_end, s.values) for s in run["our_sessions"] if s.key == "u")
    assert u == [(0, MIN, ("a",)), (0, 31 * MIN, ("a", "long", "b", "touch")),
                 (5 * MIN, 6 * MIN, ("b",))]
    assert Counter(run["our_fires"]) == Counter(run["flink_fires"])
    _, run = stream_runs["too_late"]
    assert run["our_late"] == run["flink_late"] == ["too late"]
    # the differences: a new window over a purged one; a forgotten window
    _, run = stream_runs["joins_purged"]
    assert run["our_late"] == ["joins a"] and run["flink_late"] == []
    assert ("u", 2 * MIN, 32 * MIN, ("joins a",)) in run["flink_fires"]
    _, run = stream_runs["forgets"]
    assert [f for f in run["flink_fires"] if f[0] == "u"] == [("u", 0, 30 * MIN, ("c",))]
    assert [f for f in run["our_fires"] if f[0] == "u"] == [("u", 0, 30 * MIN, ("a", "b", "c"))]


def test_stream_restoring_from_state_bytes_changes_nothing(stream_runs):
    """The per-event Sessionizer restored from its state bytes at every
    element and timer emits the same."""
    for name, (_, run) in stream_runs.items():
        assert Counter(run["from_bytes"]) == Counter(run["our_sessions"]), name


def test_stream_gap_over_the_bound_fails_the_job():
    """An element whose gap_of is longer than gap (the bound) fails the job
    with an error naming its key, time and gap, and the bound."""
    import_pyflink()
    from pyflink.common import Types, WatermarkStrategy
    from pyflink.common.watermark_strategy import TimestampAssigner

    from sessionize.flink import SESSION_TYPE, SessionWindowFunction

    class ByTime(TimestampAssigner):
        def extract_timestamp(self, value, record_timestamp):
            return value[1]

    env = flink_env()
    src = env.from_collection([("u", 0, MIN), ("u", 7_000, BOUND + 1)], type_info=Types.TUPLE(
        [Types.STRING(), Types.LONG(), Types.LONG()]))
    out = (src.assign_timestamps_and_watermarks(
               WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(ByTime()))
           .key_by(lambda e: e[0], key_type=Types.STRING())
           .process(SessionWindowFunction(BOUND, gap_of=lambda e: e[2]), SESSION_TYPE))
    with pytest.raises(Exception) as info:
        with out.execute_and_collect("sessionize-gap-over-the-bound") as results:
            list(results)
    text = str(info.value)
    assert (f"gap_of: the element of key 'u' at time 7000 (epoch ms) has gap {BOUND + 1} "
            f"({BOUND + 1} ms), longer than gap ({BOUND} ms)") in text, text[-3000:]


class _Ctx:
    """What process_element asks of Flink's context before the gap is checked."""

    def timestamp(self):
        return 7_000

    def get_current_key(self):
        return "u"


@pytest.mark.parametrize("bad, error, match", [
    (0, sessionize.SessionizeError, "has gap 0; it must be > 0"),
    (-5, sessionize.SessionizeError, "has gap -5; it must be > 0"),
    (datetime.timedelta(minutes=31), sessionize.SessionizeError,
     r"\(1860000 ms\), longer than gap \(1800000 ms\)"),
    (datetime.timedelta(microseconds=1500), sessionize.SessionizeError,
     "Flink's times are milliseconds"),
    (2.5, TypeError, "expected a datetime.timedelta or int milliseconds, got float"),
])
def test_stream_a_bad_gap_names_the_element(bad, error, match):
    """A gap <= 0 (which Flink's with_dynamic_gap refuses too, above), over
    the bound, finer than Flink's milliseconds, or not a duration: an error
    naming the element's key and time, before its key's state is touched."""
    adapter = import_pyflink()
    fn = adapter.SessionWindowFunction(BOUND, gap_of=lambda e: e[2])
    with pytest.raises(error, match=match) as info:
        list(fn.process_element(("u", 7_000, bad), _Ctx()))
    assert str(info.value).startswith("gap_of: the element of key 'u' at time 7000 (epoch ms)")
