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

Skips when pyflink is not importable, unless SESSIONIZE_REQUIRE_FLINK=1
(CI's .venv-flink), then fails.
"""

from __future__ import annotations

import shutil
import sys
from collections import Counter

import numpy as np
import pytest

import sessionize
from dynamic_gap_reference import flink_merge
from engines.flink_run import flink_unavailable, import_pyflink
from test_dynamic_gaps import touching_dense

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
